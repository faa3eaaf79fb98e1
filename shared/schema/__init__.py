"""Wire models (pydantic v2): the CIF field names and limits, and the standard event registry."""
