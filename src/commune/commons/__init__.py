"""The data commons: curation, the audit log, credits, open export and import."""
