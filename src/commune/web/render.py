"""Templates rendered for a page's person and language: whole pages, the fragments the
page's script inserts, and errors shown as pages."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from commune.answering.answer import is_listing
from commune.charter.audience import plain
from commune.govern.policy import ROLES
from commune.text import numbers
from commune.text.messages import about, opens_with_name, split_hint
from commune.text.say import written_in
from commune.web import i18n, languages
from commune.web.i18n import OUTCOMES, STEPS
from commune.web.page import Page, abilities, cookie_names, facade

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment() -> Environment:
    from jinja2 import FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The catalogue of the request being rendered (a context variable, see i18n.use).
    # install_gettext_callables is added by the i18n extension, unknown to the type checker.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: i18n.catalogue(i18n.current()).gettext(s),
        lambda s, p, n: i18n.catalogue(i18n.current()).ngettext(s, p, n),
        newstyle=True,
    )
    # As the extension's newstyle gettext, but French "de" and "à" said as French says them
    # before a value (i18n.elided): "Rôle d'amelie", "versée au Havre", where the page read
    # "Rôle de amelie", "versée à Le Havre".
    env.globals["gettext"] = env.globals["_"] = _page_gettext
    env.filters["mwh"] = lambda wh: "—" if wh is None else small(wh * 1000, 2)
    env.filters["num"] = number
    # A quota with the decimals it was set with (numbers.exact): at two, 0.001 Wh read "0,00".
    env.filters["exact"] = lambda v: "—" if v is None else numbers.exact(v, i18n.current())
    # The colon after a label written by a template, with the space French puts before it:
    # « liseuses.txt: reçu » and « modifications demandées: … » read as English typography.
    env.globals["colon"] = lambda: numbers.colon(i18n.current())
    env.filters["small"] = small
    env.filters["hours"] = hours
    env.filters["label"] = i18n.label
    env.filters["tr"] = i18n.translate  # the library's messages, in the page's language
    env.filters["about"] = about  # a file's reason, its name said once, in its row
    env.filters["plain"] = plain  # without the commands and settings only the operator acts on
    env.filters["sentence"] = sentence
    env.filters["when"] = lambda t: "" if t is None else str(t)[:16].replace("T", " ")
    env.filters["lang"] = languages.attribute  # ' lang="fr"' on text not in the page's
    env.filters["languages"] = languages.of_answer
    env.filters["written_in"] = written_in  # Commune's own words: French or English
    env.filters["language_name"] = languages.name
    # A passage's block shown as code where an answer quotes its lines as code.
    env.tests["listing"] = is_listing
    return env


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return numbers.number(float(value), digits, i18n.current())


@pass_context
def _page_gettext(context: Context, string: str, **variables: Any) -> str:
    text = i18n.catalogue(i18n.current()).gettext(string)
    if variables:
        text, variables = i18n.elided(text, variables)
    rv: str = Markup(text) if context.eval_ctx.autoescape else text
    return rv % variables if variables else rv


def hours(value: Any) -> str:
    """The hours the service ran, as the CLI and the statement's files write them (idle.said):
    a few minutes of service read "0,0 h" here, "0,050 h" there."""
    from commune.account.idle import said

    if value is None:
        return "—"
    text = said(float(value))
    return text.replace(".", ",") if i18n.current() == "fr" else text


def small(value: Any, digits: int) -> str:
    """A small positive figure that rounds to zero reads "< 0,01", not "0,00": it is not
    nothing, only below what is shown ("—" stays for unknown, as in ``number``)."""
    if value is None:
        return "—"
    return numbers.small(float(value), digits, i18n.current())


# A word that opens a message: letters, with an elision or a gender's middle dot
# ("l'utilisateur"); not a name: a file's, an address's ("notes.txt"), nor the one a
# message is about ("mairie : …").
_PLAIN_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’·-])*(?=[\s,;]|$)(?!\s*:)")


def sentence(message: str, as_written: bool = False) -> str:
    """A library message as a sentence of its own. The library writes its messages for a
    CLI line after "Erreur : ", in lower case and without a stop; the pages show one after
    "Cela n'a pas marché." or alone in a form, where "Limite atteinte. l'utilisateur
    'citoyen' a épuisé son quota…" read as a slip. Its first word is capitalised when it is
    a plain word (a name keeps its case), and it ends with a stop."""
    text = message.strip()
    if not text:
        return text
    # ``as_written``: it opens with a name the pattern cannot tell from a word (a person's,
    # text/messages.opens_with_name): "Root est administrateur…" for the account "root".
    if not as_written and text[0].islower() and _PLAIN_WORD.match(text):
        text = text[0].upper() + text[1:]
    # A hint that is a sentence of its own ends the message with its stop inside its
    # parenthesis: the CSRF refusal read "rien n'a été fait. (Rechargez la page et renvoyez
    # le formulaire.)." with one stop more.
    ended = text.removesuffix(")") if text.endswith(")") else text
    return text if ended.endswith((".", "!", "?", "…")) else f"{text}."


def fragment(p: Page, template: str, **context: Any) -> str:
    """``template`` rendered for the page's person and language (a whole page, or the piece
    the script inserts)."""
    i18n.use(p.language)  # routes and streams may run in worker threads: set it here
    actor = p.session.actor if p.session else None
    return (
        environment()
        .get_template(template)
        .render(
            page=p,
            actor=actor,
            may=abilities(actor),
            lang=p.language,
            path=p.request.url.path,
            steps=STEPS,
            outcomes=OUTCOMES,
            roles=ROLES,
            **context,
        )
    )


def render(p: Page, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(fragment(p, template, **context), status_code=status)
    response.headers["Cache-Control"] = "no-store"  # pages show private data, keys once
    if p.new_csrf_cookie:
        response.set_cookie(
            cookie_names(p.request)[1],
            p.csrf,
            path="/",  # and no Domain: the __Host- prefix requires both
            httponly=True,
            secure=_secure_cookies(p.request),
            samesite="strict",
        )
    return response


# A command of the CLI, which a library error's hint may name ("list them with commune
# documents"): a reader of the pages has no shell on the server. Named one by one, not as
# "commune" and any word: "commune" is also French for a town, and a hint naming a member
# ("the admins of la commune de Nantes give them one") must stay. test_web checks the list
# against the CLI's commands.
CLI_COMMANDS = (
    "add ask audit backup bom charter check collections credits curation documents enrich "
    "eval export history import key mcp member migrate model payouts peer refusals reindex "
    "reinstate restore retire review search serve share sovereignty statement transparency user "
    "visibility"
).split()
_CLI_HINT = re.compile(r"\bcommune (?:" + "|".join(CLI_COMMANDS) + r")\b")


def without_cli_hint(message: str) -> str:
    """``message`` without its hint when the hint names a CLI command. The hint is found as
    the library finds it (text/messages.split_hint: the parenthesis that balances the last
    one), so a hint holding parentheses of its own ("change it with: commune visibility NAME
    VISIBILITY (and --member MEMBER)") goes whole; split at its last " (" it kept the
    command. A message the library cannot split is split at its last " (" as before."""
    parts = split_hint(message)
    if parts is None:
        head, sep, hint = message.rpartition(" (")
        parts = (head, hint) if sep else None
    if parts is None or not _CLI_HINT.search(parts[1]):
        return message
    return parts[0]


def for_the_web(message: str, status: int) -> str:
    """``message`` with a hint that names a CLI command replaced by where to go on the pages
    (an address not found), or dropped. Beside an error's field_hint, not folded into it:
    i18n.py, above translate(), says why."""
    head = without_cli_hint(message)
    if head != message and status == 404:
        return f"{head} (check the address, or start again from the Commons page)"
    return head


def error_page(request: Request, status: int, message: str) -> Response:
    """An error as a page (or, for the page's script, as a fragment), in the page's language
    where the catalogue has the message. api/app.py's error handlers call it (through
    ``app.state.error_page``) for every request that has a Page."""
    p: Page = request.state.page
    i18n.use(p.language)
    shown = i18n.translate(for_the_web(message, status))
    parts = split_hint(message)
    named = opens_with_name(parts[0] if parts else message, p.language)
    if request.headers.get("x-fragment"):
        body = fragment(p, "_error.html", message=shown, code=status, as_written=named)
        return HTMLResponse(body, status_code=status)
    return render(p, "error.html", status, message=shown, code=status, as_written=named)


def _secure_cookies(request: Request) -> bool:
    return facade(request).settings.web.secure_cookies
