"""CI-sized runs of the fault campaigns and the soak of ``tools.reliability`` (``make reliability`` runs them long)."""
