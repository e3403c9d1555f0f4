"""Contributing documents: one or many files, a collection, a licence explained in plain
words; then each file's result (published, waiting for curation and why, or refused and why),
with the rules of `commune add`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from commune.core import Commune
from commune.errors import CommuneError, InvalidRequest
from commune.govern.licences import TERMS
from commune.govern.policy import Actor
from commune.web.forms import refused
from commune.web.i18n import gettext as _
from commune.web.page import PageOf, SignedIn, TheCommune, field, form, may_contribute
from commune.web.render import fragment, render

router = APIRouter(include_in_schema=False)


async def contributor(actor: SignedIn) -> Actor:
    # Before the form is read: a reader's files were uploaded whole, then refused.
    return may_contribute(actor, _("Contributing is for contributors; your role is %(role)s."))


Contributor = Annotated[Actor, Depends(contributor)]


def _choices(commune: Commune, actor: Actor) -> dict[str, Any]:
    # The person's own contributions below the form: where each stands, and the curator's
    # reason when one was sent back or refused.
    return {
        "collections": commune.collections(actor),
        "licences": TERMS,
        "mine": commune.contributions(actor),
    }


@router.get("/contribute", response_class=HTMLResponse)
def contribute_page(p: PageOf, actor: Contributor, commune: TheCommune) -> Response:
    return render(p, "contribute.html", **_choices(commune, actor), results=None)


@router.post("/contribute", response_class=HTMLResponse)
async def contribute(p: PageOf, actor: Contributor, commune: TheCommune) -> Response:
    data = await form(p)
    # What was typed, kept if the form is refused; the files a browser cannot be given back.
    typed = {name: field(data, name).strip() for name in ("collection", "licence", "publisher")}
    try:
        files = [f for f in data.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if not files:
            raise InvalidRequest(_("Choose at least one file."))
        results = await commune.contribute(
            files=files,
            collection=typed["collection"] or None,
            licence=typed["licence"] or None,
            publisher=typed["publisher"] or None,
            source=None,
            actor=actor,
            route="web/contribute",
        )
    except CommuneError as exc:
        failed = refused(p, "contribute", exc, typed)
        choices = await run_in_threadpool(_choices, commune, actor)
        return render(p, "contribute.html", failed.status, **choices, results=None, failed=failed)
    finally:
        await data.close()
    status = 200 if any(r["status"] != "failed" for r in results) else 400
    if p.request.headers.get("x-fragment"):
        return HTMLResponse(fragment(p, "_results.html", results=results), status_code=status)
    choices = await run_in_threadpool(_choices, commune, actor)
    # The form as it was sent, for the next files (contribute.html, kept).
    return render(p, "contribute.html", status, **choices, results=results, sent=typed)
