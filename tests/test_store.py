from commune.store.db import open_database, table_names


def test_migrations_create_the_schema_and_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = open_database(url)
    expected = {
        "collections",
        "documents",
        "revisions",
        "chunks",
        "embeddings",
        "meta",
        "ingest_runs",
        "alembic_version",
    }
    assert expected <= set(table_names(engine))
    engine.dispose()
    engine = open_database(url)  # second open: nothing to do, nothing broken
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select version_num from alembic_version").scalar() == "0004"
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1


def test_the_database_file_is_private_to_its_owner(commune, corpus, home):
    import stat

    commune.add([corpus / "pool.txt"], licence="CC0-1.0")
    for name in ("commune.db", "commune.db-wal"):
        path = home / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, name
