"""The embedders' registry: built-ins and plugins (entry point group ``commune.embedders``)
register the same way, so any of them can be replaced."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from commune.embed.base import Embedder
from commune.errors import NotFound

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
