"""The commons: the collections a person may read, their documents, a search of passages,
and one document with its passages, licence, provenance and revisions."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.core import Commune
from commune.errors import CommuneError, Forbidden, NotFound
from commune.govern.licences import TERMS
from commune.govern.policy import RETIRE_CATEGORIES, Actor
from commune.web.forms import Failed, refused
from commune.web.i18n import gettext as _
from commune.web.page import (
    MAX_OFFSET,
    PageOf,
    RowId,
    SignedIn,
    TheCommune,
    field,
    form,
    least_role,
    redirect,
)
from commune.web.render import render

router = APIRouter(include_in_schema=False)


async def retirer(actor: SignedIn) -> Actor:
    refusal = _("Retiring a document is for curators; your role is %(role)s.")
    return least_role(actor, "retire", refusal)


Retirer = Annotated[Actor, Depends(retirer)]


async def reinstater(actor: SignedIn) -> Actor:
    refusal = _("Reinstating a document is for curators; your role is %(role)s.")
    return least_role(actor, "retire", refusal)


Reinstater = Annotated[Actor, Depends(reinstater)]


def page_of_commons(collection: str, offset: int = 0) -> str:
    """The address of a page of the commons' documents: only the parameters that say
    something. Every collection's pages led back to "/commons?collection=", an empty value
    in the address bar and the history."""
    given = {"collection": collection, "offset": offset}
    query = urlencode({k: v for k, v in given.items() if v}, quote_via=quote)
    return f"/commons?{query}" if query else "/commons"


@router.get("/commons", response_class=HTMLResponse)
def commons(
    p: PageOf,
    actor: SignedIn,
    commune: TheCommune,
    q: str = "",
    collection: str = "",
    offset: int = 0,
    done: str = "",
    copies: int = 0,
) -> Response:
    offset = min(max(0, offset), MAX_OFFSET)
    # Only what a form of these pages did: any other text in the address would be shown as
    # the page's own confirmation.
    done = done if done == "retired" else ""
    # One page, one request against the quota and one ledger row: the search's when there
    # is one (it checks the quota first), else the listing's. Metering both counted a search
    # page twice, and a quota running out between the two showed a 429 for a search done.
    if q.strip():
        try:
            hits = commune.search(
                q, collection=collection or None, k=10, actor=actor, record="web/search"
            )
        except CommuneError as exc:
            # A search refused (too long, a collection not found) is said in its form, the
            # words kept, the documents still listed (one row, as the listing's page): it
            # was a page apart, the search and the listing lost.
            failed = refused(p, "search", exc, {"q": q})
            readable = commune.collections(actor)
            chosen = collection if any(c["name"] == collection for c in readable) else ""
            with commune.metered("web/commons", actor):
                docs = commune.documents(chosen or None, limit=50, offset=offset, actor=actor)
            return render(
                p,
                "commons.html",
                failed.status,
                collections=readable,
                documents=docs,
                hits=[],
                q="",
                chosen=chosen,
                offset=offset,
                page_of=page_of_commons,
                failed=failed,
            )
        docs = commune.documents(collection or None, limit=50, offset=offset, actor=actor)
    else:
        hits = []
        with commune.metered("web/commons", actor):
            docs = commune.documents(collection or None, limit=50, offset=offset, actor=actor)
    return render(
        p,
        "commons.html",
        collections=commune.collections(actor),
        documents=docs,
        hits=[h.to_json() for h in hits],
        q=q,
        chosen=collection,
        offset=offset,
        page_of=page_of_commons,
        done=done,
        copies=min(max(0, copies), MAX_OFFSET),
    )


def document_shown(commune: Commune, actor: Actor, document_id: int) -> dict[str, Any]:
    """What the document's page shows ``actor``: the document, its revisions, its licence's
    terms, and whether they may retire it (the library's check, as the retirement makes it).
    A retired document, to the curators who may bring it back: marked retired, with its
    retirement (library.retired_document); to anyone else, not found, as an absent one."""
    with commune.metered("web/document", actor):
        try:
            doc = commune.document(document_id, actor=actor)
            revisions = commune.revisions(document_id, actor=actor)
        except NotFound:
            retired = commune.retired_document(document_id, actor=actor)
            if retired is None:
                raise
            doc, revisions = retired, retired["revisions"]
    return {
        "doc": doc,
        "revisions": revisions,
        "terms": TERMS.get(doc["licence"] or ""),
        "retirable": commune.retirable(document_id, actor=actor),
        "categories": RETIRE_CATEGORIES,
    }


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document(
    p: PageOf,
    actor: SignedIn,
    commune: TheCommune,
    document_id: RowId,
    done: str = "",
    copies: int = 0,
) -> Response:
    # Only what the reinstate form did: any other text would be shown as its confirmation.
    done = done if done == "reinstated" else ""
    return render(
        p,
        "document.html",
        **document_shown(commune, actor, document_id),
        done=done,
        copies=min(max(0, copies), MAX_OFFSET),
    )


def document_again(p: PageOf, shown: dict[str, Any], failed: Failed) -> Response:
    """The document's page again (``shown``, read before the retire or reinstate form's
    library call), the form's refusal in it and what was typed kept."""
    return render(p, "document.html", failed.status, **shown, failed=failed)


def no_reason(which: str, typed: dict[str, str]) -> Failed:
    """The retire or reinstate form (``which``) sent without a reason: both are audited with
    one, which the contributor reads too."""
    why = _("Give a reason: the contributor and the audit log read it.")
    return Failed(which, why, typed=typed)


@router.post("/documents/{document_id}/retire", response_class=HTMLResponse)
async def retire(p: PageOf, actor: Retirer, commune: TheCommune, document_id: RowId) -> Response:
    """Retire a document, as `commune retire ID --reason … --category …` (a curator of its
    collection): only the command line did it, and a curator asked to take a text down
    had no page to do it from."""
    data = await form(p)
    reason = field(data, "reason").strip()
    category = field(data, "category") or "other"
    typed = {"reason": reason, "category": category}
    # Its collection, read first: retired, the document's page is a "not found".
    shown = await run_in_threadpool(document_shown, commune, actor, document_id)
    if not reason:
        return document_again(p, shown, no_reason("retire", typed))
    try:
        copies = await run_in_threadpool(
            partial(commune.retire, actor=actor, category=category), document_id, reason
        )
    except CommuneError as exc:
        # Not the curator's document to retire, or gone meanwhile: a page apart says it.
        failed = refused(p, "retire", exc, typed, pages=(NotFound, Forbidden))
        return document_again(p, shown, failed)
    where = quote(shown["doc"]["collection"])
    # The copies of its file retired with it are said, as `commune retire` lists them: a
    # curator who retired one document would not otherwise know that others went too.
    return redirect(f"/commons?collection={where}&done=retired&copies={len(copies)}")


@router.post("/documents/{document_id}/reinstate", response_class=HTMLResponse)
async def reinstate(
    p: PageOf, actor: Reinstater, commune: TheCommune, document_id: RowId
) -> Response:
    """Bring back a document retired by mistake, as `commune reinstate ID --reason …` (a
    curator of its collection), from the retired document's page."""
    data = await form(p)
    reason = field(data, "reason").strip()
    typed = {"reason": reason}
    # Not a curator of its collection: the same "not found" as for an absent document.
    shown = await run_in_threadpool(document_shown, commune, actor, document_id)
    if not reason:
        return document_again(p, shown, no_reason("reinstate", typed))
    try:
        copies = await run_in_threadpool(
            partial(commune.reinstate, actor=actor), document_id, reason
        )
    except CommuneError as exc:
        failed = refused(p, "reinstate", exc, typed, pages=(NotFound, Forbidden))
        return document_again(p, shown, failed)
    if shown["doc"]["published_revision_id"] is None:
        # Retired before any revision was published: it waits again, on the curation page.
        return redirect("/curation")
    return redirect(f"/documents/{document_id}?done=reinstated&copies={len(copies)}")
