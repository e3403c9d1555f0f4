"""Commune: a sovereign, frugal assistant over a cooperative's documents commons.

Importing this package loads no model and opens no database: everything heavy
is imported where it is used.
"""

__version__ = "0.1.0"
