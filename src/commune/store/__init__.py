"""Storage: the SQL schema, migrations and the repository of documents and chunks.

SQLite (the embedded default) and PostgreSQL go through SQLAlchemy Core, so the
same queries serve both; search indexes are derived caches rebuilt from here.
"""
