"""The commons: the collections a person may read, their documents, a search of passages,
and one document with its passages, licence, provenance and revisions."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from commune.errors import CommuneError
from commune.govern.licences import TERMS
from commune.web.forms import refused
from commune.web.page import MAX_OFFSET, PageOf, RowId, SignedIn, TheCommune
from commune.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/commons", response_class=HTMLResponse)
def commons(
    p: PageOf,
    actor: SignedIn,
    commune: TheCommune,
    q: str = "",
    collection: str = "",
    offset: int = 0,
) -> Response:
    offset = min(max(0, offset), MAX_OFFSET)
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
    )


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document(p: PageOf, actor: SignedIn, commune: TheCommune, document_id: RowId) -> Response:
    with commune.metered("web/document", actor):
        doc = commune.document(document_id, actor=actor)
        revisions = commune.revisions(document_id, actor=actor)
    terms = TERMS.get(doc["licence"] or "")
    return render(p, "document.html", doc=doc, revisions=revisions, terms=terms)
