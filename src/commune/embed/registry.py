"""The embedders' registry: built-ins and plugins (entry point group ``commune.embedders``)
register the same way, so any of them can be replaced."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from commune.embed.base import Embedder
from commune.errors import ConfigError, NotFound

_REGISTRY: dict[str, Callable[[], Embedder]] = {}


def register(name: str) -> Callable[[Callable[[], Embedder]], Callable[[], Embedder]]:
    def decorator(factory: Callable[[], Embedder]) -> Callable[[], Embedder]:
        _REGISTRY[name] = factory
        return factory

    return decorator


def _load_registry() -> None:
    from importlib.metadata import entry_points

    from commune.embed import builtin

    for factory in (builtin.UseMultilingual, builtin.E5Small):
        _REGISTRY.setdefault(factory.name, factory)
    for ep in entry_points(group="commune.embedders"):
        ep.load()


def available() -> list[str]:
    _load_registry()
    return sorted(_REGISTRY)


def installed() -> list[str]:
    """The embedders that can serve here: those whose weights' package is installed (a
    plugin that names none is taken at its word). ``/v1/models`` lists only these: e5-small
    was listed, then answered "not installed" (issue 24)."""
    from importlib.metadata import PackageNotFoundError, distribution

    _load_registry()
    names = []
    for name, factory in sorted(_REGISTRY.items()):
        package = getattr(factory, "package", None)
        try:
            if package:
                distribution(package)
        except PackageNotFoundError:
            continue
        names.append(name)
    return names


@lru_cache(maxsize=4)
def get_embedder(name: str) -> Embedder:
    """The process-wide instance of a backend (models are loaded once, lazily)."""
    _load_registry()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise NotFound(
            f"unknown embedding model {name!r}", f"available: {', '.join(sorted(_REGISTRY))}"
        ) from None
    return factory()


def misnamed(key: str, name: str) -> ConfigError | None:
    """The error for ``name``, written at ``key`` of commune.toml (``retrieval.embedder``,
    ``enrich.model``), when it names no embedder here; None when it names one ("" turns
    enrichment off, and is no name to check there). The one line every command says, and
    `commune check` reports: `commune serve` refused a misspelt name with it (exit 78), while
    `commune ask` and `commune enrich` said "unknown embedding model" and exited 2, the status
    of a fault that a restart cures."""
    from commune.config import near

    # Asked at every search (Commune.embedder): the entry points are read only for a name
    # not registered yet, not each time.
    if (not name and key != "retrieval.embedder") or name in _REGISTRY or name in available():
        return None
    known = available()
    meant = near(name, known)
    return ConfigError(
        f"{key} in commune.toml: {name!r} is not an embedding model",
        f"did you mean {meant}?" if meant else f"available: {', '.join(known)}",
    )


def configured(key: str, name: str) -> Embedder:
    """The embedder commune.toml names at ``key``; :class:`ConfigError` when it names none
    (:func:`misnamed`)."""
    error = misnamed(key, name)
    if error is not None:
        raise error
    return get_embedder(name)
