"""The web application's pages: each route reads its form, calls the library as the
signed-in person, and renders a template. No logic of its own: permissions, quotas, the
charter and the ledger are the library's, exactly as for the CLI and the API.

Every core flow works without JavaScript; ``static/commune.js`` streams answers and
shows upload progress when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from commune.core import Commune
from commune.errors import Forbidden
from commune.govern.members import AuthError
from commune.govern.policy import ROLES, Actor
from commune.http.sse import sse
from commune.web import i18n, sessions
from commune.web.i18n import N_
from commune.web.i18n import gettext as _

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

# Names of the charter's steps and their outcomes as people read them (the reasons come
# from the charter in the question's language).
STEPS = {
    "refuse": N_("Refuse"),
    "reduce": N_("Reduce"),
    "regulate": N_("Regulate"),
    "retrieve": N_("Retrieve"),
    "redirect": N_("Redirect"),
    "answer": N_("Answer"),
    "responsibility": N_("Responsibility"),
}
OUTCOMES = {
    "pass": N_("passed"),
    "refused": N_("refused"),
    "cached": N_("from the cache"),
    "extractive": N_("quoted"),
    "generate": N_("generated"),
    "none": N_("nothing to do"),
    "recorded": N_("recorded"),
    "over-quota": N_("over quota"),
}


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
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
    env.filters["mwh"] = lambda wh: "—" if wh is None else _number(wh * 1000, 2)
    env.filters["num"] = _number
    env.filters["tr"] = i18n.translate  # the library's messages, in the page's language
    env.filters["when"] = lambda t: "" if t is None else str(t)[:16].replace("T", " ")
    return env


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{float(value):,.{digits}f}"
    if i18n.current() == "fr":  # 1 234,5
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


@dataclass
class Page:
    """What every page knows about its request: language, who is signed in, the CSRF
    token its forms carry."""

    request: Request
    language: str
    session: sessions.Session | None
    csrf: str
    new_csrf_cookie: bool = False

    @property
    def actor(self) -> Actor:
        if self.session is None:
            raise SignInNeeded()
        return self.session.actor


class SignInNeeded(Exception):
    """The page needs a signed-in person: redirect to the sign-in page."""


class CsrfRefused(Forbidden):
    """A form without this session's token: refused, nothing done."""


def install(app: FastAPI, commune: Commune) -> None:
    """Add the pages and their static files to ``app``."""
    from fastapi.staticfiles import StaticFiles

    env = _environment()
    settings = commune.settings.web
    router = APIRouter(include_in_schema=False)

    def page(request: Request) -> Page:
        language = i18n.negotiate(
            request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
        )
        i18n.use(language)
        with commune.engine.connect() as conn:
            session = sessions.find(conn, request.cookies.get(sessions.COOKIE))
        if session is not None:
            request.state.actor = session.actor  # for the request log
            csrf, new = session.csrf, False
        else:
            given = request.cookies.get(sessions.CSRF_COOKIE)
            csrf, new = (given, False) if given else (sessions.new_csrf(), True)
        p = Page(request, language, session, csrf, new)
        request.state.page = p  # errors are then shown as pages (app.py)
        return p

    async def form(p: Page) -> Any:
        data = await p.request.form()
        if not sessions.same(p.csrf, data.get("csrf")):  # type: ignore[arg-type]
            await data.close()  # uploaded files spooled to disk: gone at once
            raise CsrfRefused(
                _("This form has expired or came from another site: nothing was done."),
                _("Reload the page and send it again."),
            )
        return data

    def fragment(p: Page, template: str, **context: Any) -> str:
        """``template`` rendered for the page's person and language (a whole page, or the
        piece the script inserts)."""
        i18n.use(p.language)  # routes and streams may run in worker threads: set it here
        return str(
            env.get_template(template).render(
                page=p,
                actor=p.session.actor if p.session else None,
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
                sessions.CSRF_COOKIE,
                p.csrf,
                httponly=True,
                secure=settings.secure_cookies,
                samesite="strict",
            )
        return response

    def error_page(request: Request, status: int, message: str) -> Response:
        """An error as a page (or, for the page's script, as a fragment), in the page's
        language where the catalogue has the message."""
        p: Page = request.state.page
        i18n.use(p.language)
        shown = i18n.translate(message)
        if request.headers.get("x-fragment"):
            body = fragment(p, "_error.html", message=shown, code=status)
            return HTMLResponse(body, status_code=status)
        return render(p, "error.html", status, message=shown, code=status)

    app.state.error_page = error_page

    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def signed_in(p: Page) -> Actor:
        return p.actor

    @app.exception_handler(SignInNeeded)
    async def to_sign_in(request: Request, exc: SignInNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/signin?next={quote(target)}")

    # -- sign in and out, language ---------------------------------------------------------
    @router.get("/signin", response_class=HTMLResponse)
    def signin_page(request: Request, next: str = "/") -> Response:
        p = page(request)
        return render(p, "signin.html", next=_local(next))

    @router.post("/signin", response_class=HTMLResponse)
    async def signin(request: Request) -> Response:
        p = page(request)
        data = await form(p)
        failures = request.app.state.failed_sign_ins
        host = request.client.host if request.client else "?"
        failures.check(host)  # past the limit: 429 before any password is checked
        user, password = str(data.get("user", "")).strip(), str(data.get("password", ""))
        key = str(data.get("key", "")).strip()
        target = _local(str(data.get("next", "/")))
        try:
            with commune.engine.begin() as conn:
                if key:
                    from commune.govern.members import authenticate

                    actor = authenticate(conn, key)
                else:
                    from commune.govern.accounts import sign_in

                    actor = sign_in(conn, user, password)
                token = sessions.open_session(conn, actor, settings.session_hours)
        except AuthError:
            failures.failed(host)
            message = _("Wrong API key.") if key else _("Wrong user name or password.")
            return render(p, "signin.html", 401, next=target, failed=message, user=user)
        response = redirect(target)
        response.set_cookie(
            sessions.COOKIE,
            token,
            max_age=int(settings.session_hours * 3600),
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",  # followed links keep the session; other sites' forms do not
        )
        response.delete_cookie(sessions.CSRF_COOKIE)
        return response

    @router.post("/signout")
    async def signout(request: Request) -> Response:
        p = page(request)
        await form(p)
        with commune.engine.begin() as conn:
            sessions.end(conn, request.cookies.get(sessions.COOKIE))
        response = redirect("/signin")
        response.delete_cookie(sessions.COOKIE)
        return response

    @router.post("/language")
    async def language(request: Request) -> Response:
        p = page(request)
        data = await form(p)
        chosen = str(data.get("language", ""))
        response = redirect(_local(str(data.get("next", "/"))))
        if chosen in i18n.LANGUAGES:
            response.set_cookie(
                i18n.COOKIE,
                chosen,
                max_age=365 * 86400,
                samesite="lax",
                secure=settings.secure_cookies,
            )
        return response

    # -- ask -------------------------------------------------------------------------------
    def ask_context(actor: Actor) -> dict[str, Any]:
        return {"collections": commune.collections(actor)}

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        p = page(request)
        return render(p, "ask.html", **ask_context(signed_in(p)), question="", answer=None)

    def _ask_args(data: Any) -> tuple[str, str | None, str]:
        question = str(data.get("question", "")).strip()
        if not question:
            raise ValueError(_("Write a question first."))
        mode = str(data.get("mode", "auto"))
        if mode not in ("auto", "extractive", "generate"):
            mode = "auto"
        return question, str(data.get("collection") or "") or None, mode

    @router.post("/ask", response_class=HTMLResponse)
    async def ask(request: Request) -> Response:
        p = page(request)
        actor = signed_in(p)
        data = await form(p)
        question, coll, mode = _ask_args(data)
        answer = await run_in_threadpool(commune.ask, question, coll, mode, None, "web/ask", actor)
        return render(
            p,
            "ask.html",
            **ask_context(actor),
            question=question,
            answer=answer.to_json(),
            chosen=coll,
            mode=mode,
        )

    @router.post("/ask/stream")
    async def ask_stream(request: Request) -> Response:
        """Server-sent events for the page's script: ``delta`` (verified text), then
        ``answer`` with the answer rendered by the same template as without script."""
        p = page(request)
        actor = signed_in(p)
        data = await form(p)
        question, coll, mode = _ask_args(data)
        events = commune.ask_stream(question, coll, mode, None, "web/ask", actor)
        first = await run_in_threadpool(next, events)  # errors before the stream get a status

        def rendered(answer: Any) -> dict[str, Any]:
            return {"html": fragment(p, "_answer.html", answer=answer.to_json())}

        return StreamingResponse(sse(first, events, rendered), media_type="text/event-stream")

    # -- the commons -----------------------------------------------------------------------
    @router.get("/commons", response_class=HTMLResponse)
    def commons_page(
        request: Request, q: str = "", collection: str = "", offset: int = 0
    ) -> Response:
        p = page(request)
        actor = signed_in(p)
        offset = max(0, offset)
        hits = (
            [h.to_json() for h in commune.search(q, collection or None, 10, actor, "web/search")]
            if q.strip()
            else []
        )
        with commune.metered("web/commons", actor):
            docs = commune.documents(collection or None, 50, offset, actor)
        return render(
            p,
            "commons.html",
            collections=commune.collections(actor),
            documents=docs,
            hits=hits,
            q=q,
            chosen=collection,
            offset=offset,
        )

    @router.get("/documents/{document_id}", response_class=HTMLResponse)
    def document_page(request: Request, document_id: int) -> Response:
        from commune.govern.licences import TERMS

        p = page(request)
        actor = signed_in(p)
        with commune.metered("web/document", actor):
            doc = commune.document(document_id, actor)
            revisions = commune.revisions(document_id, actor)
        return render(
            p, "document.html", doc=doc, revisions=revisions, terms=TERMS.get(doc["licence"] or "")
        )

    # -- contribute ------------------------------------------------------------------------
    def contribute_context(actor: Actor) -> dict[str, Any]:
        from commune.govern.licences import TERMS

        return {"collections": commune.collections(actor), "licences": TERMS}

    @router.get("/contribute", response_class=HTMLResponse)
    def contribute_page(request: Request) -> Response:
        p = page(request)
        actor = signed_in(p)
        return render(p, "contribute.html", **contribute_context(actor), results=None)

    @router.post("/contribute", response_class=HTMLResponse)
    async def contribute(request: Request) -> Response:
        from commune.ingest.upload import contribute as contribute_files

        p = page(request)
        actor = signed_in(p)
        data = await form(p)
        try:
            files = [f for f in data.getlist("files") if getattr(f, "filename", None)]
            if not files:
                raise ValueError(_("Choose at least one file."))
            collection = str(data.get("collection") or "").strip() or None
            licence = str(data.get("licence") or "").strip() or None
            publisher = str(data.get("publisher") or "").strip() or None
            results = await contribute_files(
                commune, files, collection, licence, publisher, None, actor, "web/contribute"
            )
        finally:
            await data.close()
        ok = any(r["status"] != "failed" for r in results)
        if request.headers.get("x-fragment"):
            body = fragment(p, "_results.html", results=results)
            return HTMLResponse(body, status_code=200 if ok else 400)
        return render(
            p,
            "contribute.html",
            200 if ok else 400,
            **contribute_context(actor),
            results=results,
        )

    # -- curation --------------------------------------------------------------------------
    def require(p: Page, role: str, refusal: str) -> Actor:
        """The signed-in actor, if their role is at least ``role``; else 403 with
        ``refusal`` (a catalogue message naming %(role)s, the actor's role)."""
        actor = signed_in(p)
        if not actor.at_least(role):
            raise Forbidden(refusal % {"role": actor.role})
        return actor

    def curator(p: Page) -> Actor:
        return require(
            p, "curator", _("The curation queue is for curators; your role is %(role)s.")
        )

    @router.get("/curation", response_class=HTMLResponse)
    def curation_page(request: Request, done: str = "") -> Response:
        p = page(request)
        actor = curator(p)
        return render(p, "curation.html", pending=commune.pending(actor), done=done)

    @router.get("/curation/{revision_id}", response_class=HTMLResponse)
    def revision_page(request: Request, revision_id: int) -> Response:
        p = page(request)
        actor = curator(p)
        shown = commune.show_revision(revision_id, actor)
        return render(p, "revision.html", shown=shown)

    @router.post("/curation/{revision_id}", response_class=HTMLResponse)
    async def decide(request: Request, revision_id: int) -> Response:
        p = page(request)
        actor = curator(p)
        data = await form(p)
        decision = str(data.get("decision", ""))
        reason = str(data.get("reason", "")).strip()
        if not reason:
            shown = commune.show_revision(revision_id, actor)
            return render(
                p,
                "revision.html",
                400,
                shown=shown,
                failed=_("Give a reason: the contributor and the audit log read it."),
                decision=decision,
            )
        outcome = await run_in_threadpool(commune.review, revision_id, decision, reason, actor)
        return redirect(f"/curation?done={quote(outcome)}")

    # -- dashboards and the statement ------------------------------------------------------
    @router.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, member: str = "", days: int = 30) -> Response:
        from commune.web.charts import bars

        p = page(request)
        actor = signed_in(p)
        days = min(max(days, 1), 366)
        until = _today() + timedelta(days=1)
        since = until - timedelta(days=days)
        series = commune.usage_series(actor, since, until, member or None)
        by_day = {row["day"]: row for row in series}
        dates = [(since + timedelta(days=i)).date().isoformat() for i in range(days)]
        rows = [
            by_day.get(d, {"day": d, "requests": 0, "tokens": 0, "wh": 0.0, "gco2e": 0.0})
            for d in dates
        ]
        charts = [
            bars([(r["day"], r["requests"]) for r in rows], _("Requests per day"), _("requests")),
            bars([(r["day"], r["wh"]) for r in rows], _("Energy per day"), "Wh"),
            bars([(r["day"], r["gco2e"]) for r in rows], _("Carbon per day"), "gCO2e"),
        ]
        members_chart = None
        member_rows: list[dict[str, Any]] = []
        if actor.at_least("cooperative-admin"):
            member_rows = commune.usage_by_member(since, until)
            members_chart = bars(
                [(r["member"], r["wh"]) for r in member_rows], _("Energy per member"), "Wh"
            )
        totals = {k: sum(r[k] for r in rows) for k in ("requests", "tokens", "wh", "gco2e")}
        whole = actor.at_least("member-admin")
        return render(
            p,
            "dashboard.html",
            charts=charts,
            rows=[r for r in rows if r["requests"]],
            totals=totals,
            days=days,
            member=member or actor.member,
            whole=whole,
            members_chart=members_chart,
            member_rows=member_rows,
            members=[r["member"] for r in member_rows],
        )

    def statement_for(p: Page, month: str) -> tuple[Actor, Any, list[Any]]:
        actor = require(
            p, "member-admin", _("The statement is for member admins; your role is %(role)s.")
        )
        stmt = commune.statement(month)
        everyone = actor.is_operator or actor.at_least("cooperative-admin")
        lines = [ln for ln in stmt.lines if everyone or ln.member == actor.member]
        return actor, stmt, lines

    @router.get("/statement", response_class=HTMLResponse)
    def statement_page(request: Request, month: str = "") -> Response:
        p = page(request)
        month = month or _today().strftime("%Y-%m")
        _actor, stmt, lines = statement_for(p, month)
        return render(p, "statement.html", stmt=stmt, lines=lines, month=month)

    @router.get("/statement.csv")
    def statement_csv(request: Request, month: str = "") -> Response:
        from commune.account.statement import csv_text

        p = page(request)
        month = month or _today().strftime("%Y-%m")
        _actor, stmt, lines = statement_for(p, month)
        return Response(
            csv_text(stmt, lines),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statement-{month}.csv"'},
        )

    # -- account and administration --------------------------------------------------------
    def admin_context(actor: Actor) -> dict[str, Any]:
        from commune.govern.accounts import keys_visible, people
        from commune.govern.members import KINDS, list_members

        with commune.engine.connect() as conn:
            everyone = actor.is_operator or actor.at_least("cooperative-admin")
            members_rows = [m for m in list_members(conn) if everyone or m["name"] == actor.member]
            return {
                "members": members_rows,
                "people": people(conn, actor),
                "keys": keys_visible(conn, actor),
                "grantable": [r for r in ROLES if actor.at_least(r)],
                "kinds": KINDS,
            }

    def admin(p: Page) -> Actor:
        return require(
            p, "member-admin", _("Administration is for member admins; your role is %(role)s.")
        )

    @router.get("/account", response_class=HTMLResponse)
    def account_page(request: Request, done: str = "") -> Response:
        p = page(request)
        actor = signed_in(p)
        return render(p, "account.html", **admin_context(actor), new_key=None, done=done)

    @router.get("/admin", response_class=HTMLResponse)
    def admin_page(request: Request, done: str = "") -> Response:
        p = page(request)
        actor = admin(p)
        return render(p, "admin.html", **admin_context(actor), new_key=None, done=done)

    @router.post("/account/password", response_class=HTMLResponse)
    async def change_password(request: Request) -> Response:
        from commune.govern.accounts import set_password, sign_in

        p = page(request)
        actor = signed_in(p)
        data = await form(p)
        try:
            with commune.engine.begin() as conn:
                sign_in(conn, actor.user, str(data.get("current", "")))
                set_password(conn, actor.user, str(data.get("new", "")), by=actor.user)
        except AuthError:
            raise Forbidden(_("The current password is wrong: nothing changed.")) from None
        return redirect("/account?done=password")

    @router.post("/keys", response_class=HTMLResponse)
    async def new_key(request: Request) -> Response:
        from commune.govern.accounts import create_key_for

        p = page(request)
        actor = signed_in(p)
        data = await form(p)
        user = str(data.get("user") or actor.user)
        label = str(data.get("label", "")).strip()[:200]
        with commune.engine.begin() as conn:
            kid, secret = create_key_for(conn, actor, user, label)
        # Shown on this response only: the page is not cached and the key is not stored.
        template = "admin.html" if data.get("back") == "admin" else "account.html"
        return render(
            p,
            template,
            **admin_context(actor),
            new_key={"id": kid, "user": user, "key": secret},
            done="",
        )

    @router.post("/keys/{key_id}/revoke")
    async def revoke(request: Request, key_id: int) -> Response:
        from commune.govern.accounts import revoke_key_for

        p = page(request)
        actor = signed_in(p)
        data = await form(p)
        with commune.engine.begin() as conn:
            revoke_key_for(conn, actor, key_id)
        back = "/admin" if data.get("back") == "admin" else "/account"
        return redirect(f"{back}?done=revoked")

    @router.post("/admin/members")
    async def add_member_page(request: Request) -> Response:
        from commune.govern.members import add_member

        p = page(request)
        actor = admin(p)
        data = await form(p)
        if not actor.at_least("cooperative-admin"):
            raise Forbidden(_("Adding members is for cooperative admins."))
        with commune.engine.begin() as conn:
            add_member(conn, str(data.get("name", "")).strip(), str(data.get("kind", "other")))
            from commune.store import audit

            audit.append(conn, actor.user, "member-add", f"member {data.get('name')}")
        return redirect("/admin?done=member")

    @router.post("/admin/users")
    async def add_user_page(request: Request) -> Response:
        p = page(request)
        actor = admin(p)
        data = await form(p)
        password = str(data.get("password", "")) or None
        commune.admin.add_user(
            str(data.get("name", "")),
            str(data.get("member", "")),
            actor=actor,
            role=str(data.get("role", "reader")),
            password=password,
        )
        return redirect("/admin?done=user")

    @router.post("/admin/roles")
    async def set_role_page(request: Request) -> Response:
        from commune.govern.accounts import set_role

        p = page(request)
        actor = admin(p)
        data = await form(p)
        with commune.engine.begin() as conn:
            set_role(conn, actor, str(data.get("user", "")), str(data.get("role", "")))
        return redirect("/admin?done=role")

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _local(target: str) -> str:
    """Only a path of this site: never an address elsewhere (an open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
