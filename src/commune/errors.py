"""Errors that reach users: each says what happened and what to do next."""

from __future__ import annotations

import unicodedata


class CommuneError(Exception):
    """An error with a one-line message and, where there is one, the next step."""

    def __init__(
        self, message: str, hint: str | None = None, *, field_hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # The next step for a caller who fills in fields, not the CLI's options: the API's
        # requests, the web's forms, the MCP's tools. A hint that names `--collection` or
        # `commune user add` sends them to a tool they do not have.
        self.field_hint = field_hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def in_fields(self) -> str:
        """The error as the API, the web and the MCP say it: with :attr:`field_hint` where
        the hint names the CLI's options or commands."""
        hint = self.field_hint or self.hint
        return f"{self.message} ({hint})" if hint else self.message

    def __reduce__(self) -> tuple[type, tuple[str, str | None], dict[str, str | None]]:
        # Raised in a child process (files parsed under a time limit) and re-raised here:
        # the hints must survive the trip.
        return (type(self), (self.message, self.hint), {"field_hint": self.field_hint})


# A value a caller sent, as a refusal quotes it, is cut past this many characters.
SHOWN_CHARS = 60


def cut(value: str) -> str:
    """``value`` for a refusal that names it: its beginning and "…" past :data:`SHOWN_CHARS`
    characters. A 200,000-character collection name an agent sent was quoted back whole, a
    refusal of some 50,000 tokens, past what a host hands its model.

    The cut falls between two letters as a reader sees them, never inside one: cut after
    :data:`SHOWN_CHARS` code points, "é" written e and its accent was quoted as "e", a
    family's emoji (three people joined) as one man, a flag as a lone letter, each a value
    the caller never sent. A value that is one such letter past the bound (an "e" under
    thousands of accents) is cut at the bound all the same: the length matters more."""
    if len(value) <= SHOWN_CHARS:
        return value
    end = SHOWN_CHARS
    while end > 0 and _joined(value, end):
        end -= 1
    return value[: end or SHOWN_CHARS] + "…"


# The zero-width joiner, which makes one emoji of those around it.
ZWJ = "\u200d"


def _regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _joined(value: str, at: int) -> bool:
    """Whether ``value[at - 1]`` and ``value[at]`` belong to one letter as a reader sees it
    (the joins of Unicode's grapheme clusters that names meet: marks, emoji joined,
    skin tones and tags, flags)."""
    before, after = value[at - 1], value[at]
    if before == ZWJ or after == ZWJ:  # emoji joined into one: 👨‍👩‍👧
        return True
    if unicodedata.category(after) in ("Mn", "Mc", "Me"):  # an accent, a vowel sign, FE0F
        return True
    if "\U0001f3fb" <= after <= "\U0001f3ff" or "\U000e0020" <= after <= "\U000e007f":
        return True  # a skin tone, a subdivision flag's tags
    if _regional(before) and _regional(after):
        # Flags are pairs of regional indicators, counted from the first of a run.
        run = at
        while run > 0 and _regional(value[run - 1]):
            run -= 1
        return (at - run) % 2 == 1
    return False


def shown(value: str) -> str:
    """:func:`cut`'s, quoted (``repr``)."""
    return repr(cut(value))


def in_fields(exc: BaseException) -> str:
    """``exc`` as a caller who fills in fields reads it (CommuneError.in_fields)."""
    return exc.in_fields() if isinstance(exc, CommuneError) else str(exc)


class InvalidRequest(CommuneError, ValueError):
    """A value the caller gave cannot be used (HTTP 400): the message quotes it and says what
    is expected, e.g. "top_k must be greater than 0, got -3". Also a ValueError, so that code
    which caught the ValueError the library's checks used to raise still catches it; but only
    this class reaches a caller as 400: any other ValueError is a fault, answered as 500."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        field_hint: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message, hint, field_hint=field_hint)
        # The request's field at fault as OpenAI's error object names it ("logprobs",
        # "messages[0].content[1]"), for the clients that show error.param.
        self.param = param


class IngestError(CommuneError):
    """One file could not be ingested; the rest of the batch goes on."""


class ConfigError(CommuneError):
    """The configuration is invalid; raised at start-up, naming the key."""


class NotFound(CommuneError):
    """A named collection, document or model does not exist."""


class Forbidden(CommuneError):
    """The actor's role does not allow this (HTTP 403); the message names the role needed."""
