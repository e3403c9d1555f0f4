"""The ``commune`` command: parses arguments, calls :class:`commune.core.Commune`, prints.

Its options and JSON shapes are a contract that scripts and checks rely on. One module per
concern registers its commands on the group (group.py); the library does the work, so the
CLI never opens the database itself. Importing this package loads no model: ``commune
--help`` stays instant.
"""

from __future__ import annotations

from commune.cli import (  # noqa: F401 -- each registers its commands on `cli` when imported
    accounting,
    answers,
    commons,
    cooperative,
    documents,
    evaluate,
    models,
    operate,
    peering,
    transparency,
)
from commune.cli.group import cli, main

__all__ = ["cli", "main"]
