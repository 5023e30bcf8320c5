"""Ingestion: load files → validate → chunk → skip known hashes → embed → upsert into Chroma and the registry."""
