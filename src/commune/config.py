"""Where Commune keeps its data, and its settings.

The *commune home* is one directory: the SQLite database, the derived search
indexes and ``commune.toml``. It comes from ``--home``, else ``COMMUNE_HOME``,
else ``./commune-data``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commune.errors import ConfigError

DEFAULT_HOME = "commune-data"
CONFIG_FILE = "commune.toml"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    raw = home or os.environ.get("COMMUNE_HOME") or DEFAULT_HOME
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class RetrievalSettings:
    embedder: str = "use-multilingual-v3"
    # Reciprocal rank fusion constant: 60 is the value of Cormack et al. (2009)
    # and the one the field uses; bench/ measures alternatives.
    rrf_k: int = 60
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    candidates: int = 100


@dataclass(frozen=True)
class ChunkSettings:
    target_words: int = 160
    max_words: int = 260


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    default_collection: str = "default"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"


_SECTIONS: dict[str, type] = {"retrieval": RetrievalSettings, "chunking": ChunkSettings}


def _section(name: str, cls: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] in {CONFIG_FILE} must be a table, got {raw!r}")
    defaults = cls()
    values = {}
    for key, value in raw.items():
        if not hasattr(defaults, key):
            known = ", ".join(sorted(defaults.__dataclass_fields__))
            raise ConfigError(f"unknown key {name}.{key} in {CONFIG_FILE}", f"known keys: {known}")
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(
                f"{name}.{key} in {CONFIG_FILE} must be {expected.__name__}, got {value!r}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            raise ConfigError(f"{name}.{key} in {CONFIG_FILE} must be greater than 0, got {value}")
        values[key] = value
    return cls(**values)


def load_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings for a home, validating ``commune.toml`` if there is one."""
    path = resolve_home(home)
    raw: dict[str, Any] = {}
    file = path / CONFIG_FILE
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{file} is not valid TOML: {exc}", "fix the file or remove it"
            ) from None
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            kwargs[key] = _section(key, _SECTIONS[key], value)
        elif key == "database_url":
            if not isinstance(value, str) or "://" not in value:
                raise ConfigError(f"database_url in {CONFIG_FILE} must be a SQLAlchemy URL")
            kwargs[key] = value
        elif key == "default_collection":
            kwargs[key] = str(value)
        else:
            raise ConfigError(
                f"unknown key {key} in {CONFIG_FILE}",
                "known: database_url, default_collection, [retrieval], [chunking]",
            )
    url = kwargs.pop("database_url", None) or os.environ.get("COMMUNE_DATABASE_URL")
    return Settings(home=path, database_url=url or f"sqlite:///{path / 'commune.db'}", **kwargs)
