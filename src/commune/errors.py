"""Errors that reach users: each says what happened and what to do next."""

from __future__ import annotations


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
    refusal of some 50,000 tokens, past what a host hands its model."""
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"


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
