"""Embedding backends behind one small contract, discovered through a registry.

Built-in backends register through the same :func:`register` that plugins use
(entry point group ``commune.embedders``), so any of them can be replaced.
"""

from __future__ import annotations

from commune.embed.base import Embedder
from commune.embed.registry import available, get_embedder, installed, register

__all__ = ["Embedder", "available", "get_embedder", "installed", "register"]
