"""Security tests: the authorization matrix, object-level authorization, secrets handling."""
