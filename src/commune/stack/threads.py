"""How many threads numpy's OpenBLAS starts in a Commune process: one, unless the operator says.

OpenBLAS starts a thread per core by default. Commune's products are small: a question's
vector against a few hundred passages, the embedder's layers over a few sentences. Extra
threads then spin more than they compute, and a server answering from several threads at once
has them compete with each other for the same cores. Measured on two cores
(``bench/blas_threads.py``, bench/README.md): with one thread, an answer took about 40% less
CPU time, and two answering at once were faster too; one question alone took about a quarter
longer, and embedding a batch of passages (``commune add``) about half as long again. The
energy an answer is billed is its CPU time (account/energy.py), so the default is one thread:
the charter's sobriety over a quarter of a quiet server's latency. An operator who wants the
other trade, for a large ``commune add`` on an idle machine, sets ``OPENBLAS_NUM_THREADS``
(docs/operations.md); it is respected.

OpenBLAS reads the variable once, when numpy first loads it: this must run before anything
imports numpy, which is why the command's entry point calls it first.
"""

from __future__ import annotations

import os
import sys

VARIABLE = "OPENBLAS_NUM_THREADS"
DEFAULT = "1"


def limit_blas_threads() -> bool:
    """Set one OpenBLAS thread unless the environment already chose; whether it takes effect
    (False when numpy is already loaded, or when the operator's own setting stands)."""
    if VARIABLE in os.environ:
        return False
    os.environ[VARIABLE] = DEFAULT
    return "numpy" not in sys.modules
