"""HTTP plumbing shared by the functions: routing, JSON bodies, errors, headers."""
