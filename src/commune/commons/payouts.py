"""Contributor payouts: a monthly fund split among the commons' contributors, to the cent.

The fund (``[payouts] monthly_eur`` in commune.toml, or an amount given for one run) is
split by three measures of the month, each with the weight the charter gives it
(``[payouts]`` in charter.toml, see ``Weights``):

- citations: the sentences of answers that cited the contributor's documents, exactly as
  ``commune credits`` counts them;
- documents: the revisions of the contributor's documents published that month (a new
  document or a new version), read from the audit log's ``publish`` entries, which carry the
  moment of publication (a revision held for curation counts in the month it was approved);
- reviews: the curation reviews the person gave that month (approve, reject, request
  changes), credited as ``user (member)``, the name under which their own contributions are
  credited.

Each measure's weight is a share of the fund; a measure nobody scored that month gives its
share to the others in proportion to their weights (a share nobody earned is not kept back).
Within a measure, contributors share in proportion to their count. Citations of documents
without a named contributor, and reviews by the operator, are counted and shown but earn
nothing: there is nobody to pay.

Rounding: exact shares (fractions, no float) are cut to the cent, and the cents left over
go one each to the largest remainders (Hamilton's largest remainder method); equal
remainders go first to the larger exact share, then by the contributor's name in Unicode
order. So the contributors' amounts add up to the fund exactly.

A contributor may waive their share (it stays in the fund) or redirect it to a member of the
cooperative; the choice applies from a month on and is audited. A redirect lapses for the
months after its member left the cooperative (``lapsed``): the share goes back to the
contributor, in every month but those paid out before that rule was (``redirects_lapse``).
Nothing here writes to the ledger or the credits: a statement only reads them,
and issuing one writes an audit entry.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, insert, select

from commune.account.statement import parse_month
from commune.errors import InvalidRequest, NotFound
from commune.govern.members import PEER_KIND
from commune.govern.policy import ASK_COOPERATIVE, COOPERATIVE, Actor, Decision, allowed, require
from commune.govern.quotas import month as month_window
from commune.store import audit
from commune.store.repository import aware, now
from commune.store.schema import (
    audit_log,
    credits,
    documents,
    members,
    payout_choices,
    reviews,
    revisions,
    users,
)

CENT = Decimal("0.01")
CHOICES = ("receive", "waive", "redirect")
MEASURES = ("citations", "documents", "reviews")
FUND = "(fund)"  # where a waived share, or a share nobody earned, stays (not a name anyone has)
RULE = (
    "largest remainder to the cent; equal remainders: larger exact share first, "
    "then contributor name (Unicode order)"
)


@dataclass(frozen=True)
class Weights:
    """The share of the fund each measure pays: the charter's ``[payouts]`` table.

    The defaults pay for what the commons delivers first: answers citing a contributor's
    documents are the use the members actually made of them (0.7). Publishing counts too
    (0.2), so that a new document earns before it is first cited, and a month without
    questions still pays those who added to the commons. Curation (0.1) is the work that
    keeps the commons trustworthy and that no citation shows. A cooperative that pays for
    citations only sets documents = 0 and reviews = 0."""

    citations: float = 0.7
    documents: float = 0.2
    reviews: float = 0.1

    def __post_init__(self) -> None:
        values = [self.citations, self.documents, self.reviews]
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise InvalidRequest(
                f"payout weights must be 0 or more and not all 0, got {values}",
                "set [payouts] citations, documents and reviews in charter.toml",
            )

    def of(self, measure: str) -> Fraction:
        return Fraction(str(getattr(self, measure)))


@dataclass
class Line:
    """One contributor's month: their counts, their share, and where the money goes."""

    contributor: str
    citations: int
    documents: int
    reviews: int
    share: float  # of the fund, 0..1 (exact share rounded for display)
    amount: Decimal  # to the cent
    choice: str = "receive"  # receive | waive | redirect
    paid_to: str = ""  # the contributor, FUND, or the member a redirected share goes to
    # A redirect that lapsed: the member it named had left the cooperative before the month
    # began (lapsed, the member; left_on, the day it left), so the share is the
    # contributor's, choice "receive" (see ``build``).
    lapsed: str = ""
    left_on: str = ""


@dataclass
class PayoutStatement:
    month: str
    currency: str
    fund: Decimal
    weights: Weights
    rule: str
    lines: list[Line] = field(default_factory=list)
    # Counted but earning nothing: citations of documents with no named contributor,
    # revisions published without one, reviews by the operator.
    unattributed: dict[str, int] = field(default_factory=dict)
    paid: Decimal = Decimal("0.00")  # to contributors themselves
    redirected: Decimal = Decimal("0.00")  # to members, on the contributors' choice
    kept: Decimal = Decimal("0.00")  # stays in the fund: waived, or earned by nobody
    # Whether a redirect to a member out of the month lapsed in it (``redirects_lapse``):
    # recorded by the issue's audit entry, not in the JSON it hashes.
    redirects_lapse: bool = True

    def recipients(self) -> dict[str, Decimal]:
        """Who receives what: each payee's total (the fund's included), adding up to it."""
        out: dict[str, Decimal] = {}
        for line in self.lines:
            out[line.paid_to] = out.get(line.paid_to, Decimal(0)) + line.amount
        unearned = self.fund - sum((ln.amount for ln in self.lines), Decimal(0))
        if unearned:
            out[FUND] = out.get(FUND, Decimal(0)) + unearned
        return out

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(json.dumps(asdict(self), default=str))
        del data["redirects_lapse"]  # the rule the month was built under: its audit entry's
        # A line says a lapsed redirect only when there is one: a month issued before lines
        # could say it hashes, issued again, as its audit entry recorded it.
        for line in data["lines"]:
            if not line["lapsed"]:
                del line["lapsed"], line["left_on"]
        data["recipients"] = {k: str(v) for k, v in sorted(self.recipients().items())}
        return data

    def line_of(self, contributor: str) -> Line | None:
        return next((ln for ln in self.lines if ln.contributor == contributor), None)


# Beyond any cooperative's fund, and within what Decimal's 28 digits hold to the cent: 1e40
# failed in quantize with a traceback.
MAX_AMOUNT = Decimal(10) ** 12


def as_amount(value: float | str | Decimal, what: str = "the amount") -> Decimal:
    """A sum of money to the cent: refused if negative, too large or finer than a cent. A
    decimal comma is read as the point, as amounts are written in French ("12,50")."""
    text = value.strip().replace(",", ".") if isinstance(value, str) else str(value)
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise InvalidRequest(f"{what} must be a number of euros, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidRequest(f"{what} must be 0 or more, got {value}")
    if amount > MAX_AMOUNT:
        raise InvalidRequest(f"{what} must be at most {MAX_AMOUNT:,.0f} euros, got {value}")
    if amount != amount.quantize(CENT):
        raise InvalidRequest(f"{what} must be in euros and cents, got {value}")
    return amount.quantize(CENT)


def split(fund: Decimal, exact: dict[str, Fraction]) -> dict[str, Decimal]:
    """Split ``fund`` by the exact shares ``exact`` (adding up to 1, or all 0) to the cent:
    the largest remainder method, ties as ``RULE`` says. The parts add up to ``fund``."""
    cents = int(fund / CENT)
    total = sum(exact.values(), Fraction(0))
    if not exact or total == 0:
        return dict.fromkeys(exact, Decimal(0))
    owed = {name: cents * share / total for name, share in exact.items()}
    floors = {name: int(x) for name, x in owed.items()}  # Fractions >= 0: int() floors
    left = cents - sum(floors.values())
    order = sorted(owed, key=lambda n: (-(owed[n] - floors[n]), -owed[n], n))
    for name in order[:left]:
        floors[name] += 1
    return {name: Decimal(c) * CENT for name, c in floors.items()}


# -- the month's measures ---------------------------------------------------------------------
PUBLISHED = re.compile(r"^document (\d+) revision (\d+)$")  # curation.publish's audit subject


def _citations(conn: Connection, start: datetime, end: datetime) -> dict[str | None, int]:
    rows = conn.execute(
        select(credits.c.contributor, func.sum(credits.c.citations))
        .where(credits.c.created_at >= start, credits.c.created_at < end)
        .group_by(credits.c.contributor)
    )
    return {r[0]: int(r[1] or 0) for r in rows}


def _published(conn: Connection, start: datetime, end: datetime) -> dict[str | None, int]:
    # The audit entry is the one record of when a revision was published (the revision row
    # keeps when it was proposed); its time is ISO text in UTC, ordered as text.
    subjects = conn.execute(
        select(audit_log.c.subject).where(
            audit_log.c.action == "publish",
            audit_log.c.created_at >= start.isoformat(),
            audit_log.c.created_at < end.isoformat(),
        )
    ).scalars()
    published = [(int(m.group(1)), int(m.group(2))) for m in map(PUBLISHED.match, subjects) if m]
    # The contributors of those revisions, read a batch of documents at a time (a month that
    # ingested a whole corpus published thousands).
    contributor: dict[tuple[int, int], str | None] = {}
    ids = sorted({doc for doc, _ in published})
    for i in range(0, len(ids), 500):
        rows = conn.execute(
            select(revisions.c.document_id, revisions.c.number, revisions.c.contributor).where(
                revisions.c.document_id.in_(ids[i : i + 500])
            )
        )
        contributor.update({(r.document_id, r.number): r.contributor for r in rows})
    out: dict[str | None, int] = {}
    for key in published:
        who = contributor.get(key)
        out[who] = out.get(who, 0) + 1
    return out


def _reviews(conn: Connection, start: datetime, end: datetime) -> dict[str | None, int]:
    rows = conn.execute(
        select(users.c.name, members.c.name, func.count(reviews.c.id))
        .select_from(
            reviews.outerjoin(users, users.c.id == reviews.c.reviewer_user_id).outerjoin(
                members, members.c.id == users.c.member_id
            )
        )
        .where(reviews.c.created_at >= start, reviews.c.created_at < end)
        .group_by(users.c.name, members.c.name)
    )
    out: dict[str | None, int] = {}
    for user, member, n in rows:
        name = None if user is None else (f"{user} ({member})" if member else user)
        out[name] = out.get(name, 0) + int(n)
    return out


def measures(conn: Connection, month: str) -> dict[str | None, dict[str, int]]:
    """Each contributor's citations, published revisions and reviews in ``month`` (None:
    no named contributor)."""
    window = month_window(parse_month(month))
    counts: dict[str | None, dict[str, int]] = {}
    for measure, read in (
        ("citations", _citations),
        ("documents", _published),
        ("reviews", _reviews),
    ):
        for who, n in read(conn, window.start, window.end).items():
            counts.setdefault(who, dict.fromkeys(MEASURES, 0))[measure] += n
    return counts


# -- choices ----------------------------------------------------------------------------------
def choices_in_force(conn: Connection, month: str) -> dict[str, tuple[str, str | None]]:
    """Each contributor's choice for ``month``: the latest one set from that month or before."""
    rows = conn.execute(
        select(payout_choices)
        .where(payout_choices.c.from_month <= month)
        .order_by(payout_choices.c.id)
    )
    return {r.contributor: (r.choice, r.target) for r in rows}


def departures(conn: Connection) -> dict[str, datetime]:
    """When each member that leaves the cooperative, or has left it, leaves (in UTC: PostgreSQL
    hands a time back in its session's zone), by name."""
    rows = conn.execute(
        select(members.c.name, members.c.left_at).where(members.c.left_at.is_not(None))
    )
    return {r.name: aware(r.left_at).astimezone(UTC) for r in rows}


def lapses(left: datetime | None, month: str) -> bool:
    """Whether a share of ``month`` redirected to a member that leaves at ``left`` goes back
    to its contributor: the member was in the cooperative for no part of the month. A month
    it was in for a day is its own, as the statement charges it that month's fixed cost
    (account/ledger.member_names): so the month it leaves in still pays it."""
    return left is not None and left <= month_window(parse_month(month)).start


# The audit entry of an issue says which rule its statement was built under (``issue``).
LAPSE_RULE = "redirects_lapse"


def redirects_lapse(paid: dict[str, Any]) -> bool | None:
    """Whether a redirect to a member out of the cooperative for the whole of a month lapses
    in it (``lapses``), given the audit entry that paid it out (``_paid_out``: its latest
    issue once it was over, as its fund): yes if it was not paid out; what the entry says if
    it says (LAPSE_RULE); None if it says nothing, for ``build`` to tell by its hash.

    An issued month must read the same every time it is issued (its SHA-256). Its issue says
    under which rule it was built; an issue written before the lapse existed says nothing,
    and paid the member, whenever its departure was recorded (that rule read no departure):
    issued again, the month pays it still, as it was paid. Not a date (the day the rule came
    in): a cooperative upgrades when it chooses, so a date cannot tell which rule issued its
    month; nor "the departure recorded before the issue": the rule before issued months whose
    departure was recorded already. A month never paid out, or paid out since, lapses; and a
    departure cannot come later to move one (govern/members.leave)."""
    if not paid:
        return True
    return bool(paid[LAPSE_RULE]) if LAPSE_RULE in paid else None


def latest_issued(conn: Connection) -> str | None:
    """The latest month whose payouts were issued (an audit entry "payouts"), if any."""
    subjects = conn.execute(
        select(audit_log.c.subject).where(audit_log.c.action == "payouts")
    ).scalars()
    months = [s.removeprefix("month ") for s in subjects if s.startswith("month ")]
    return max(months, default=None)


def _paid_out(conn: Connection, month: str) -> dict[str, Any]:
    """The audit entry of ``month``'s latest issue once the month was over ({} if none). An
    issue while the month was under way does not count: it was a look at the month so far,
    and the fund may be set otherwise before it ends."""
    end = month_window(parse_month(month)).end
    details = conn.execute(
        select(audit_log.c.details)
        .where(audit_log.c.action == "payouts", audit_log.c.subject == f"month {month}")
        .where(audit_log.c.created_at >= end.isoformat())  # ISO text in UTC, ordered as text
        .order_by(audit_log.c.id.desc())
        .limit(1)
    ).scalar()
    found: dict[str, Any] = json.loads(details) if details else {}
    return found


def issued_fund(conn: Connection, month: str) -> Decimal | None:
    """The fund ``month`` was paid out with: its latest issue once the month was over (its
    audit entry), None if none."""
    fund = _paid_out(conn, month).get("fund")
    return None if fund is None else Decimal(str(fund))


def issued_currency(conn: Connection, month: str) -> str | None:
    """The currency ``month`` was paid out in, as ``issued_fund`` its fund; None if it was not
    paid out, or was before the issue recorded its currency."""
    currency = _paid_out(conn, month).get("currency")
    return None if currency is None else str(currency)


def under_way(month: str) -> bool:
    """Whether ``month`` has not ended: its credits, reviews and publications still come."""
    return now() < month_window(parse_month(month)).end


def month_after(month: str) -> str:
    return month_window(parse_month(month)).end.strftime("%Y-%m")


def choices(conn: Connection) -> list[dict[str, Any]]:
    """Every choice ever set, oldest first (the history; the latest per person applies)."""
    rows = conn.execute(select(payout_choices).order_by(payout_choices.c.id))
    return [dict(r._mapping) for r in rows]


def choices_seen(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The choices ``actor`` may see, oldest first: every one for whoever records anyone's
    (the cooperative's admins, the operator: may_choose), their own share's otherwise, as
    their account page shows it. Another contributor's choice says where their money goes."""
    rows = choices(conn)
    if allowed(actor, "administer", COOPERATIVE):
        return rows
    own = credited_as(actor)
    return [r for r in rows if r["contributor"] == own]


def payees(conn: Connection, actor: Actor) -> list[str]:
    """The contributors a choice may be recorded for, sorted: the admin page's names. The
    cooperative's admins' (and the operator's), who record a choice for any contributor; it
    names every person of every member, so Forbidden, with the policy's reason, to others."""
    require(actor, "administer", COOPERATIVE)
    return sorted(known_contributors(conn))


def known_contributors(conn: Connection) -> set[str]:
    """The names a share can be paid to: every contributor a document or a credit names, and
    every person as their contributions and reviews are credited."""
    names: set[str] = set()
    for column in (documents.c.contributor, revisions.c.contributor, credits.c.contributor):
        names |= {n for n in conn.execute(select(column).distinct()).scalars() if n}
    people = conn.execute(
        select(users.c.name, members.c.name).select_from(
            users.join(members, members.c.id == users.c.member_id)
        )
    )
    names |= {f"{user} ({member})" for user, member in people}
    return names


def credited_as(actor: Actor) -> str:
    """The name a person's contributions and reviews are credited under (as the library
    names a contributing user: commons/library.py)."""
    return f"{actor.user} ({actor.member})" if actor.member else actor.user


def may_choose(actor: Actor, contributor: str) -> Decision:
    """The contributor chooses for their own share; the cooperative's admins record a choice
    made by anyone else (a contributor that is an organisation has no account)."""
    if actor.is_operator or actor.at_least("cooperative-admin"):
        return Decision(True, "cooperative admins record contributors' payout choices")
    if contributor == credited_as(actor):
        return Decision(True, f"{contributor} chooses for their own share")
    return Decision(
        False,
        f"only {contributor} or a cooperative admin may choose for this share",
        ASK_COOPERATIVE,
    )


def set_choice(
    conn: Connection,
    contributor: str,
    choice: str,
    actor: Actor,
    target: str | None = None,
    from_month: str | None = None,
) -> dict[str, Any]:
    """Record a contributor's choice from ``from_month`` on (default: this month, or the first
    month not paid out yet); audited."""
    if choice not in CHOICES:
        raise InvalidRequest(f"choice must be one of {', '.join(CHOICES)}, got {choice!r}")
    issued = latest_issued(conn)
    if from_month is None:  # this month, or the first one not paid out yet
        from_month = now().strftime("%Y-%m")
        if issued is not None and from_month <= issued:
            from_month = month_after(issued)
    parse_month(from_month)
    if issued is not None and from_month <= issued:
        # An issued statement must read the same when issued again (docs/payouts.md): a
        # choice from a month already paid out would move its money after the fact.
        raise InvalidRequest(
            f"payouts up to {issued} were issued already: a choice cannot change them",
            f"give --from {month_after(issued)} or later",
            field_hint=f"choose {month_after(issued)} or later",
        )
    decision = may_choose(actor, contributor)
    if not decision:
        raise decision.refusal()
    if contributor not in known_contributors(conn):
        raise NotFound(
            f"no contributor named {contributor!r}",
            "use the name as `commune credits` or `commune payouts --month` shows it",
            field_hint="use the name as the payouts page shows it",
        )
    if choice == "redirect":
        if not target:
            # The same line on the command line as before; a form names its own field.
            raise InvalidRequest(
                "a redirected share needs the member it goes to",
                "--to MEMBER",
                field_hint="choose the member",
            )
        # A peer cooperative is kept as a member of kind "peer" (docs/peering.md), but it is
        # no member of this cooperative, whose fund pays its own members only.
        kind = conn.execute(select(members.c.kind).where(members.c.name == target)).scalar()
        if kind == PEER_KIND and allowed(actor, "administer", COOPERATIVE):
            # Whoever lists every member (the operator, who alone records a redirect today,
            # and the cooperative's admins) sees the peer in `commune member list`: "no
            # member named" beside that line said neither what was wrong nor what to do.
            raise InvalidRequest(
                f"{target!r} is a peer cooperative, not a member of this one: its fund pays "
                "its own members only",
                "redirect the share to a member of another kind than peer; commune member "
                "list gives each one's kind",
            )
        if kind is None or kind == PEER_KIND:
            # Anyone else is told no more than for a name nobody has: "a peer" beside "no
            # member named" would tell which other cooperatives this one peers with.
            raise NotFound(
                f"no member named {target!r}",
                "list members with commune member list",
                field_hint="choose a member of the list",
            )
        left = departures(conn).get(target)
        if lapses(left, from_month):
            # The fund pays the cooperative's members: recorded, the redirect would lapse on
            # its first month (``build``) and read as a choice carried out. A departure to
            # come does not refuse a redirect from before it: it lapses when the member goes.
            day = left.date().isoformat() if left else ""
            said = (
                f"{target!r} left the cooperative on {day}: a share from {from_month} on "
                "cannot go to it"
                if left and left <= now()
                else f"{target!r} leaves the cooperative on {day}: a share from {from_month} "
                "on cannot go to it"
            )
            raise InvalidRequest(
                said,
                "redirect the share to a member of the cooperative (commune member list), or "
                "from an earlier month",
                field_hint="choose a member that is still in the cooperative",
            )
    elif target:
        raise InvalidRequest(f"only a redirected share goes to a member; {choice} takes no --to")
    row = {
        "contributor": contributor,
        "choice": choice,
        "target": target,
        "from_month": from_month,
        "created_at": now(),
        "actor": actor.user,
    }
    conn.execute(insert(payout_choices).values(**row))
    audit.append(
        conn,
        actor.user,
        f"payout-{choice}",
        f"contributor {contributor}",
        target=target,
        from_month=from_month,
        reason=decision.reason,
    )
    return row


# -- the statement ----------------------------------------------------------------------------
def digest(stmt: PayoutStatement) -> str:
    """The SHA-256 of the statement's JSON, as its issue's audit entry records it."""
    text = json.dumps(stmt.to_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build(
    conn: Connection, month: str, fund: Decimal, weights: Weights, currency: str = "EUR"
) -> PayoutStatement:
    """The month's payouts: read from the credits, the audit log and the reviews; nothing is
    written. Built under the rule that paid the month out (``redirects_lapse``)."""
    paid = _paid_out(conn, month)
    rule = redirects_lapse(paid)
    if rule is not None:
        return _build(conn, month, fund, weights, currency, rule)
    # Its entry names no rule: written by the code before the lapse (the member paid), or by
    # the code that brought the lapse in before its entries said so (96c195e1: the share
    # lapsed). The statement its entry hashed tells which; the rule before where neither
    # does (another fund given, data since), as the entries without the rule mostly are.
    before = _build(conn, month, fund, weights, currency, False)
    if digest(before) == paid.get("sha256"):
        return before
    lapsing = _build(conn, month, fund, weights, currency, True)
    return lapsing if digest(lapsing) == paid.get("sha256") else before


def _build(
    conn: Connection, month: str, fund: Decimal, weights: Weights, currency: str, lapse: bool
) -> PayoutStatement:
    fund = as_amount(fund, "the fund")
    measured = measures(conn, month)
    stmt = PayoutStatement(month, currency, fund, weights, RULE)
    stmt.unattributed = measured.pop(None, dict.fromkeys(MEASURES, 0))
    counts = {who: c for who, c in measured.items() if who is not None}
    totals = {m: sum(c[m] for c in counts.values()) for m in MEASURES}
    # A measure nobody scored passes its weight to the others.
    active = {m: weights.of(m) for m in MEASURES if totals[m] > 0 and weights.of(m) > 0}
    weight_sum = sum(active.values(), Fraction(0))
    exact = {
        who: sum(
            (w / weight_sum * Fraction(c[m], totals[m]) for m, w in active.items()),
            Fraction(0),
        )
        for who, c in counts.items()
    }
    amounts = split(fund, exact)
    in_force = choices_in_force(conn, month)
    stmt.redirects_lapse = lapse
    # Paid out before a redirect could lapse, a month reads as it was paid: nobody gone.
    gone = departures(conn) if stmt.redirects_lapse else {}
    for who in sorted(counts):
        choice, target = in_force.get(who, ("receive", None))
        lapsed = ""
        if choice == "redirect" and target and lapses(gone.get(target), month):
            # The member it named had left: paid to nobody who is not in the cooperative.
            # The share goes back to the contributor, who earned it, as if they had made no
            # choice: kept by the fund, or paid to another member, it would be a choice
            # nobody made. They may waive or redirect it again from the next month unpaid.
            choice, lapsed = "receive", target
        paid_to = {"receive": who, "waive": FUND}.get(choice, target or FUND)
        c = counts[who]
        stmt.lines.append(
            Line(
                who,
                c["citations"],
                c["documents"],
                c["reviews"],
                float(exact[who]),
                amounts[who],
                choice,
                paid_to,
                lapsed,
                gone[lapsed].date().isoformat() if lapsed else "",
            )
        )
    zero = Decimal("0.00")
    stmt.paid = sum((ln.amount for ln in stmt.lines if ln.choice == "receive"), zero)
    stmt.redirected = sum((ln.amount for ln in stmt.lines if ln.choice == "redirect"), zero)
    stmt.kept = fund - stmt.paid - stmt.redirected
    return stmt


def refuse_unless_issuer(actor: Actor, month: str) -> None:
    """Forbidden, with the policy's reason, unless ``actor`` may issue ``month``'s payouts."""
    require(
        actor,
        "issue",
        COOPERATIVE,
        f"the operator issues them on the host: commune payouts --month {month}",
    )


def issue(conn: Connection, stmt: PayoutStatement, actor: Actor) -> str:
    """Record that the statement was issued: an audit entry with its totals and the SHA-256
    of its JSON, so that the files handed out can be checked against the log. A month to
    come is refused: nobody is credited in it yet, and a payout choice may not start before
    the month after the last one issued, so "--month 2062-11" for 2026-11 held every
    contributor's choice until 2062-12, the audit log keeping it for good. Only the operator
    issues (policy.can_issue), whichever face calls: the faces used to decide alone."""
    refuse_unless_issuer(actor, stmt.month)
    this = now().strftime("%Y-%m")
    if stmt.month > this:
        raise InvalidRequest(
            f"{stmt.month} has not begun: its payouts cannot be issued",
            f"check --month: the month under way is {this}",
        )
    sha256 = digest(stmt)
    audit.append(
        conn,
        actor.user,
        "payouts",
        f"month {stmt.month}",
        fund=str(stmt.fund),
        currency=stmt.currency,
        paid=str(stmt.paid),
        redirected=str(stmt.redirected),
        kept=str(stmt.kept),
        contributors=len(stmt.lines),
        weights=asdict(stmt.weights),
        sha256=sha256,
        # The rule it was built under: issued again, the month is built under it again.
        **{LAPSE_RULE: stmt.redirects_lapse},
    )
    return sha256
