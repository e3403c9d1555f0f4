"""A refused form comes back on its own page: the message in the form (role="alert", its
fields aria-describedby it), what was typed kept, with the status the error page would have
had. Every page's forms say their refusals this way (templates/_form.html shows them); a page
apart lost what was typed and took the reader away from the form.

A page has several forms (the account page: a key, the password, the payout choice): each
refusal names the form it belongs to, and only that form shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from commune.errors import CommuneError, Forbidden, NotFound
from commune.govern.members import AuthError
from commune.govern.quotas import QuotaExceeded
from commune.text.messages import opens_with_name
from commune.web import i18n
from commune.web.page import CsrfRefused, Page
from commune.web.render import without_cli_hint

# Refusals that are not the form's: a session to open, a quota with the time to wait
# (Retry-After), a form too old to trust. Their own pages say them (api/errors.py).
NOT_THE_FORMS = (AuthError, QuotaExceeded, CsrfRefused)


@dataclass(frozen=True)
class Failed:
    """A refusal said in form ``form`` (its message's id: "<form>-error")."""

    form: str
    message: str
    status: int = 400
    # What was typed, shown again. Never a password: a page that shows it back keeps it in
    # the browser's history and cache.
    typed: dict[str, str] = field(default_factory=dict)
    # It opens with a name (text/messages.opens_with_name): shown as written, not capitalised.
    as_written: bool = False

    def get(self, name: str, default: str = "") -> str:
        return self.typed.get(name, default)


def refused(
    p: Page,
    form: str,
    exc: CommuneError,
    typed: dict[str, str] | None = None,
    pages: tuple[type[CommuneError], ...] = (),
) -> Failed:
    """``exc`` said in ``form``, in the page's language, with the status api/errors.py gives
    it (404 not found, 403 forbidden, 400 any other). Raised again when a page of its own
    says it: those of NOT_THE_FORMS, a route's ``pages`` (a revision that does not exist
    has no form to show), and any error of a request from the page's script (X-Fragment),
    which puts the error's fragment in place itself (render.error_page)."""
    if isinstance(exc, NOT_THE_FORMS + pages) or p.request.headers.get("x-fragment"):
        raise exc
    i18n.use(p.language)  # a worker thread may have run the library in between
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 400
    # A hint naming a CLI command (no field_hint to say it in the form's words) is dropped,
    # as on the error pages (render.for_the_web): a reader of the pages has no shell.
    said = i18n.translate(without_cli_hint(exc.in_fields()))
    return Failed(form, said, status, typed or {}, opens_with_name(exc.message, p.language))
