"""Text put in a CSV cell that a spreadsheet opens.

LibreOffice Calc and Excel read a cell that begins with "=", "+", "-" or "@" as a formula
(and a tab or a carriage return before one as nothing), so a name written into a statement
could compute, fetch an address (HYPERLINK, WEBSERVICE) or run a command (DDE) on the
computer of the person who opens the file: a contributor's name comes from an imported
dataset or a `--contributor`, a member's or a person's from an admin (OWASP, "CSV
injection"). Such text is written with a leading apostrophe, which the spreadsheet shows
as text; figures are not given to this function.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows and never evaluates."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
