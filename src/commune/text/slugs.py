"""File names made from people's and members' names, one per name."""

from __future__ import annotations

import re
from collections.abc import Iterable

from commune.text.analysis import fold_accents


def slug(name: str, fallback: str) -> str:
    """``name`` as a file name's part: "Ville de Saint-Égrève" is "ville-de-saint-egreve"
    (accents folded first: "Zoé" is "zoe", not "zo")."""
    return re.sub(r"[^a-z0-9]+", "-", fold_accents(name).lower()).strip("-") or fallback


def slugs(names: Iterable[str], fallback: str) -> list[str]:
    """A slug for each name, never one for two: two names with the same slug ("Ville de
    Saint-Exemple" and "ville de saint-exemple") get numbered ones, each checked against
    every slug given so far ("Zoë" numbered "zo-2" was then overwritten by "zo 2", whose own
    slug is "zo-2")."""
    used: set[str] = set()
    out = []
    for name in names:
        base = slug(name, fallback)
        made, n = base, 1
        while made in used:
            n += 1
            made = f"{base}-{n}"
        used.add(made)
        out.append(made)
    return out
