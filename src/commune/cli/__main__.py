"""``python -m commune.cli``: the same as the ``commune`` command."""

from commune.cli import main

main()
