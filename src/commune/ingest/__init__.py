"""Ingestion: read files into structured blocks, chunk them, store them."""
