"""Sign-in sessions and CSRF tokens for the web application.

The sessions themselves are the library's (govern/sessions.py: the cookie's token, kept as
its SHA-256, ended server-side); here, the cookies' names, and the CSRF tokens forms carry
in a hidden field. Before sign-in, a random cookie plays that part (double submit), so the
sign-in form is covered too.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from commune.govern.policy import Actor
from commune.govern.sessions import Session

if TYPE_CHECKING:
    from commune.core import Commune

COOKIE = "commune_session"
CSRF_COOKIE = "commune_csrf"  # before sign-in only


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def same(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


class Sessions:
    """The session store as the pages use it (sign-in, sign-out, and finding the session of
    each request), over the facade, as everything else a page does."""

    def __init__(self, commune: Commune) -> None:
        self.commune = commune

    def find(self, token: str | None) -> Session | None:
        return self.commune.find_session(token)

    def open(
        self,
        actor: Actor,
        hours: float,
        key_prefix: str | None = None,
        replacing: str | None = None,
    ) -> str:
        return self.commune.open_session(actor, hours, key_prefix, replacing=replacing)

    def end(self, token: str | None) -> None:
        self.commune.end_session(token)
