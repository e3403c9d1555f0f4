"""Curation: what waits and why, a revision's diff against the published text, and the
curator's decision, always with a reason. The queue needs the "review" action; each
collection then decides who curates in it (the library's policy)."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.commons.curation import DECISIONS, WAITING
from commune.errors import CommuneError, Forbidden, NotFound
from commune.govern.policy import COOPERATIVE, Actor
from commune.web.forms import Failed, refused
from commune.web.i18n import gettext as _
from commune.web.page import PageOf, RowId, SignedIn, TheCommune, field, form, guard, redirect
from commune.web.render import render

router = APIRouter(include_in_schema=False)


async def curator(actor: SignedIn) -> Actor:
    refusal = _("The curation queue is for curators; your role is %(role)s.")
    return guard(actor, "review", COOPERATIVE, refusal)


Curator = Annotated[Actor, Depends(curator)]


# A revision's status after a review (commons/curation.py, review), and "approved": an
# approval that left it waiting for more, which "Decision recorded: proposed." did not say.
REVIEW_OUTCOMES = frozenset({"published", "rejected", "changes-requested", "proposed", "approved"})


@router.get("/curation", response_class=HTMLResponse)
def queue(p: PageOf, actor: Curator, commune: TheCommune, done: str = "") -> Response:
    # Only an outcome a review can have: any other text in the address would be shown as
    # the page's own confirmation (escaped, yet words put in the page's mouth).
    shown = done if done in REVIEW_OUTCOMES else ""
    return render(p, "curation.html", pending=commune.pending(actor), done=shown)


@router.get("/curation/{revision_id}", response_class=HTMLResponse)
def revision(p: PageOf, actor: Curator, commune: TheCommune, revision_id: RowId) -> Response:
    shown = commune.show_revision(revision_id, actor=actor)
    return render(p, "revision.html", shown=shown, waiting=shown["revision"]["status"] in WAITING)


@router.post("/curation/{revision_id}", response_class=HTMLResponse)
async def decide(p: PageOf, actor: Curator, commune: TheCommune, revision_id: RowId) -> Response:
    data = await form(p)
    decision = field(data, "decision")
    reason = field(data, "reason").strip()
    # A licence set while approving, as `commune review approve --licence`: without it, a
    # revision sent with none could not be approved from the page.
    licence = field(data, "licence").strip() or None
    typed = {"decision": decision, "licence": licence or "", "reason": reason}

    async def again(failed: Failed) -> Response:
        """The form again, its message in it and what was typed kept."""
        shown = await run_in_threadpool(commune.show_revision, revision_id, actor=actor)
        waiting = shown["revision"]["status"] in WAITING
        return render(
            p, "revision.html", failed.status, shown=shown, failed=failed, waiting=waiting
        )

    if decision not in DECISIONS:
        # Only a crafted form sends another (the page offers three radio buttons): the
        # library's refusal named them in its own words, approve, reject, in French too.
        why = _("Choose one of the decisions: Approve, Request changes or Reject.")
        return await again(Failed("decision", why, typed={**typed, "decision": ""}))
    if not reason:
        why = _("Give a reason: the contributor and the audit log read it.")
        return await again(Failed("decision", why, typed=typed))
    try:
        outcome = await run_in_threadpool(
            partial(commune.review, licence=licence if decision == "approve" else None),
            revision_id,
            decision=decision,
            reason=reason,
            actor=actor,
        )
    except CommuneError as exc:
        # A revision not found or not one's to curate is not the form's business: the
        # error page says it.
        return await again(refused(p, "decision", exc, typed, pages=(NotFound, Forbidden)))
    # An approval that publishes nothing yet (a rule of two approvals or more) is said as
    # such: the curator read "proposed", the status it had before they approved.
    shown = "approved" if decision == "approve" and outcome == "proposed" else outcome
    return redirect(f"/curation?done={quote(shown)}")
