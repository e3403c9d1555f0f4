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
# Secure cookies carry the __Host- prefix in their names (RFC 6265bis §4.1.3.2): a browser
# keeps such a cookie only when this very host sent it over HTTPS, Secure, with Path=/ and no
# Domain. Without it, a sibling subdomain (another service of the same domain, or one taken
# over) could set commune_csrf for the whole domain and sign a victim in to the attacker's
# account with a form of its own (a login CSRF), or plant a session cookie. Plain HTTP on the
# machine itself (http://127.0.0.1, http://localhost: the demo, development) keeps the names
# without the prefix, which browsers refuse to set from a page that is not HTTPS.
HOST_PREFIX = "__Host-"
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def prefixed(secure_cookies: bool, scheme: str, host: str | None) -> bool:
    """Whether the cookies' names carry the __Host- prefix: when they are Secure, unless the
    page is plain HTTP on the machine itself."""
    host = (host or "").lower()
    loopback = host in LOOPBACK or host.endswith(".localhost")
    return secure_cookies and not (scheme == "http" and loopback)


def refused_over_http(secure_cookies: bool, scheme: str, host: str | None) -> bool:
    """Whether a browser keeps none of the cookies this page sets: they are Secure and the
    page is plain HTTP from another machine (`commune serve --host 0.0.0.0` opened by its
    address, no TLS in front). Browsers keep Secure cookies from plain HTTP on the machine
    itself only."""
    return secure_cookies and scheme == "http" and prefixed(secure_cookies, scheme, host)


def names(secure_cookies: bool, scheme: str, host: str | None) -> tuple[str, str]:
    """The session cookie's and the CSRF cookie's names (``prefixed`` says when)."""
    prefix = HOST_PREFIX if prefixed(secure_cookies, scheme, host) else ""
    return prefix + COOKIE, prefix + CSRF_COOKIE


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
