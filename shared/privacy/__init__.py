"""Privacy: customer pseudonyms, erasure and retention (docs/privacy.md)."""
