"""Answering: retrieval and fusion, extraction, grounding and citation checks, licence notes,
the answer cache, and the request path that runs a question through the charter's steps."""
