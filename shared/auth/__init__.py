"""Credentials: provider API keys (hashed at rest) and the operator token."""
