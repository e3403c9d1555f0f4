"""The five folds by document group that the trainers choose on: a question's translation,
and every other question about its document, fall in the same fold, so no model is judged
on a question it was fitted on (the rule the suite's dev/test split keeps)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FOLDS = 5


def fold_of(groups: Iterable[str], seed: int = 0) -> dict[str, int]:
    """Each document group's fold, from a fixed shuffle so reruns choose the same."""
    names = sorted(set(groups))
    return {g: i % FOLDS for i, g in enumerate(np.random.default_rng(seed).permutation(names))}
