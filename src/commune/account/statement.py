"""The monthly statement: the server's fixed cost, its draw at rest and the energy of the
requests and of ingestion, split among members.

Ingestion's energy (documents added to a collection, uploads and imports included: ledger
rows of store/schema.INGESTION_MODES) is its collection's member's: the member chose to add
them, and its own people read them first (a private collection's alone do). So it is priced
on that member's energy line with its answers' energy, and counted in its use (the shares
by "wh", the draw at rest). A shared collection's, and enrichment's (the operator's choice,
over every collection), are the operator's: the whole cooperative's upkeep, added to the
fixed cost like the operator's other work. Each line says how much of its energy is
ingestion's (``ingest_wh``), and ingestion's rows are no requests (``requests`` leaves them
out). A month issued before ingestion was metered is made as it was then, without these
figures (``ingestion_apart`` False), so that its SHA-256 still holds.

Money is computed in Decimal and rounded with the largest-remainder method,
so the members' amounts add up to the month's total to the cent.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from commune.account.ledger import leaving, member_names, totals_by_member
from commune.config import CooperativeSettings
from commune.errors import InvalidRequest
from commune.govern.policy import COOPERATIVE, Actor, require
from commune.govern.quotas import month
from commune.store import audit
from commune.store.files import write_whole
from commune.store.schema import audit_log
from commune.text.messages import localise
from commune.text.slugs import slugs
from commune.text.spreadsheet import cell

CENT = Decimal("0.01")


@dataclass
class MemberLine:
    member: str
    requests: int
    tokens: int
    wh: float
    gco2e: float
    weight: float  # share of the fixed cost, 0..1
    fixed_eur: Decimal
    energy_eur: Decimal
    total_eur: Decimal
    idle_kwh: float = 0.0  # this member's share of the server's draw at rest
    idle_eur: Decimal = Decimal(0)
    # Of ``wh`` and ``gco2e``, the documents added to its collections (priced alike).
    ingest_wh: float = 0.0
    ingest_gco2e: float = 0.0


@dataclass
class Statement:
    month: str
    rule: str
    currency: str
    server_cost: Decimal
    energy_kwh: float
    price_per_kwh: Decimal
    unattributed_kwh: float  # operator work, not a member's: shared like the fixed cost
    fixed_total: Decimal
    energy_total: Decimal
    total: Decimal
    lines: list[MemberLine] = field(default_factory=list)
    # The server's draw at rest over the month (account/idle.py), its own line, split among
    # members by their energy use; its method says where the watts come from.
    idle_watts: float = 0.0
    idle_hours: float = 0.0
    idle_kwh: float = 0.0
    idle_total: Decimal = Decimal(0)
    idle_method: str = ""
    # What the split could not do as commune.toml asks, and what it did instead (English;
    # the CLI says it in French as text/messages.py translates it).
    notices: list[str] = field(default_factory=list)
    # The settings it was made with (``made_with``), and when its month was issued (ISO
    # time, UTC; "" while it is not): an issued month is made again with the settings
    # recorded then, whatever commune.toml says today.
    settings: dict[str, object] = field(default_factory=dict)
    issued: str = ""
    # The SHA-256 its issue recorded in the audit log ("" while it is not issued): the files
    # handed out carry it, and a statement made again is checked against it (``checked``).
    sha256: str = ""
    # Ingestion's energy this month (of ``energy_kwh``), every member's and the operator's.
    ingest_kwh: float = 0.0
    # Whether ingestion is shown apart (ingest_kwh, ingest_wh, requests without it): False
    # for a month issued before it was metered, made again as it was issued. Not a figure:
    # left out of the JSON, whose keys say it.
    ingestion_apart: bool = True

    @property
    def members_kwh(self) -> float:
        """The members' own energy, which their energy line prices (``energy_kwh`` also holds
        the operator's work, priced into the server's share): every face shows this one."""
        return max(self.energy_kwh - self.unattributed_kwh, 0.0)

    @property
    def made_with(self) -> str:
        """Which settings made these figures, in one line (English; text/messages.py has its
        French): every face says it, so that a reader knows whether a later commune.toml
        may still change them."""
        return settings_said(self.settings, self.issued)

    def to_json(self) -> dict[str, object]:
        data: dict[str, Any] = json.loads(json.dumps(asdict(self), default=str))
        data["made_with"] = self.made_with
        del data["ingestion_apart"]
        if not self.ingestion_apart:
            # As it was issued: these keys were no part of it, nor of its SHA-256.
            del data["ingest_kwh"]
            for line in data["lines"]:
                _as_issued(line)
        return data


def line_json(stmt: Statement, line: MemberLine) -> dict[str, object]:
    """A member's line as the JSON files say it: without ingestion's figures in a month
    issued before ingestion was metered, as it was issued."""
    data: dict[str, object] = json.loads(json.dumps(asdict(line), default=str))
    if not stmt.ingestion_apart:
        _as_issued(data)
    return data


def _as_issued(line: dict[str, object]) -> None:
    """A line of a month issued before ingestion was metered, as it was issued."""
    del line["ingest_wh"], line["ingest_gco2e"]


def parse_month(text: str) -> datetime:
    # December 9999 has no month after it to end its window ("year 10000 is out of range").
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text) or text >= "9999-12" or text < "0001":
        raise InvalidRequest(f"month must look like 2026-11, got {text!r}")
    return datetime.strptime(text + "-01", "%Y-%m-%d").replace(tzinfo=UTC)


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` (in cents) by ``weights`` so the parts add up exactly."""
    if not weights:
        return []
    s = sum(weights)
    shares = [total * w / s for w in weights] if s > 0 else [total / len(weights)] * len(weights)
    floors = [x.quantize(CENT, rounding=ROUND_FLOOR) for x in shares]
    left = int(((total - sum(floors)) / CENT).to_integral_value())
    order = sorted(range(len(shares)), key=lambda i: (floors[i] - shares[i], i))
    for i in order[:left]:
        floors[i] += CENT
    return floors


def _weights(rule: str, share: float, usage: list[float]) -> list[Decimal]:
    n = len(usage)
    equal = [Decimal(1) / n] * n
    total = sum(usage)
    by_usage = [Decimal(str(u)) / Decimal(str(total)) for u in usage] if total > 0 else equal
    if rule == "equal":
        return equal
    if rule == "usage":
        return by_usage
    s = Decimal(str(share))
    return [s * u + (1 - s) * e for u, e in zip(by_usage, equal, strict=True)]


def _floor_holds(pool: Decimal, members: int, floor: Decimal) -> bool:
    """Whether ``members`` can each be held to ``floor`` of ``pool``, the others paying the
    rest: not when the floors alone reach the whole pool."""
    return floor * members < pool


def _apply_floor(pool: Decimal, weights: list[Decimal], floor: Decimal) -> list[Decimal]:
    """Raise shares below ``floor``; the others pay the difference pro rata."""
    amounts = [pool * w for w in weights]
    if floor <= 0 or not amounts:
        return amounts
    if not _floor_holds(pool, len(amounts), floor):  # equal shares
        return [pool / len(amounts)] * len(amounts)
    fixed: set[int] = set()
    while True:
        below = {i for i, a in enumerate(amounts) if a < floor and i not in fixed}
        if not below:
            return amounts
        fixed |= below
        rest = pool - floor * len(fixed)
        free_w = sum(weights[i] for i in range(len(amounts)) if i not in fixed)
        amounts = [floor if i in fixed else rest * weights[i] / free_w for i in range(len(amounts))]


def made_with(settings: CooperativeSettings, idle_watts: float) -> dict[str, object]:
    """What a statement's figures depend on besides the ledger: commune.toml's [cooperative]
    and [energy] idle_watts. Recorded when its month is issued."""
    return {**asdict(settings), "idle_watts": idle_watts}


def recorded_settings(recorded: dict[str, object]) -> tuple[CooperativeSettings, float]:
    """The settings ``made_with`` recorded, to make the statement again. A setting added to
    [cooperative] since takes its default, which is what the month was made with then."""
    known = {f for f in CooperativeSettings.__dataclass_fields__ if f in recorded}
    values: dict[str, Any] = {f: recorded[f] for f in known}
    return CooperativeSettings(**values), float(str(recorded.get("idle_watts", 0.0)))


@dataclass(frozen=True)
class Issue:
    """A month's first issue, as its audit entry recorded it."""

    settings: dict[str, object]
    at: str  # when (ISO time, UTC)
    sha256: str  # of its figures then
    # Whether its figures showed ingestion apart: not for a month issued before ingestion
    # was metered (its entry says nothing of it), which is made again as it was.
    ingestion_apart: bool


# What an issue's audit entry says of its figures since ingestion has been metered.
INGESTION_APART = "apart"


def issued(conn: Connection, month_text: str) -> Issue | None:
    """How ``month_text``'s statement was issued (its first issue's audit entry), or None if
    it was not."""
    row = conn.execute(
        select(audit_log.c.details, audit_log.c.created_at)
        .where(audit_log.c.action == "statement", audit_log.c.subject == f"month {month_text}")
        .order_by(audit_log.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    details = json.loads(row.details)
    return Issue(
        details["settings"],
        str(row.created_at),
        str(details.get("sha256", "")),
        details.get("ingestion") == INGESTION_APART,
    )


def digest(stmt: Statement) -> str:
    """The SHA-256 of the statement's JSON, its issue left out (the figures and the settings
    are kept), so the files handed out can be checked against the log."""
    data = {k: v for k, v in stmt.to_json().items() if k not in ("issued", "made_with", "sha256")}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def refuse_unless_issuer(actor: Actor, month_text: str) -> None:
    """Forbidden, with the policy's reason, unless ``actor`` may issue ``month_text``'s
    statement (policy.can_issue)."""
    require(
        actor,
        "issue",
        COOPERATIVE,
        f"the operator issues it on the host: commune statement --month {month_text} --issue",
    )


def issue(conn: Connection, stmt: Statement, actor: Actor) -> Statement:
    """Record the month's statement as issued: an audit entry with the settings it was made
    with, its total and its digest. From then on it is made with those settings, so a price
    changed later does not change a month the members were billed for. A month not over
    is refused: its use and its hours at rest still grow, it is not yet the month's bill.
    A month issued already is not recorded again: it keeps its first issue (``stmt`` is
    then the one made with it). Only the operator issues (policy.can_issue), whichever face
    calls: the faces used to decide alone, and one calling as a signed-in admin would have
    billed the month."""
    from commune.store import repository as repo

    refuse_unless_issuer(actor, stmt.month)
    end = month(parse_month(stmt.month)).end
    if repo.now() < end:
        raise InvalidRequest(
            f"{stmt.month} is not over: its statement cannot be issued yet",
            f"issue it from {end:%Y-%m-%d} on",
        )
    done = issued(conn, stmt.month)
    if done is not None:
        return stmt
    if not stmt.lines:
        # Issued, a month before any member joined fixed its total as nobody's share for
        # ever: a bill with no line, sent to no one, that a member added later never changes.
        raise InvalidRequest(
            f"no member was in the cooperative in {stmt.month}: a month with nobody to bill "
            "is not issued",
            "add members with commune member add, then issue a month they were in",
        )
    stmt.sha256 = digest(stmt)
    audit.append(
        conn,
        actor.user,
        "statement",
        f"month {stmt.month}",
        settings=stmt.settings,
        total=str(stmt.total),
        currency=stmt.currency,
        members=len(stmt.lines),
        sha256=stmt.sha256,
        ingestion=INGESTION_APART if stmt.ingestion_apart else None,
    )
    done = issued(conn, stmt.month)
    assert done is not None  # written above, in this transaction
    stmt.issued = done.at
    return stmt


def checked(stmt: Statement, settings: dict[str, object], recorded: str) -> Statement:
    """``stmt``, an issued month made again, with the settings and the SHA-256 its issue
    recorded, and a notice if its figures are no longer the ones that hash names: the
    settings are the same, but the ledger (a database restored, rows written by hand) or the
    way Commune computes them (an upgrade) may have changed since, and nothing else would
    say that the bill the members were sent and the one shown now differ."""
    # The settings as recorded, not as made again: a setting added to [cooperative] since
    # (at its default, as the month was made then) was no part of what the hash covered, and
    # every month issued before it would otherwise read as changed. Said in commune.toml's
    # order, as a statement not issued says them: the audit log sorts them.
    order = [*CooperativeSettings.__dataclass_fields__, "idle_watts"]
    place = {k: order.index(k) if k in order else len(order) for k in settings}
    stmt.settings = {k: settings[k] for k in sorted(settings, key=place.__getitem__)}
    stmt.sha256 = recorded
    now = digest(stmt)
    if recorded and now != recorded:
        stmt.notices.append(
            f"its figures are no longer those issued on {stmt.issued[:10]} (SHA-256 "
            f"{recorded[:12]} in the audit log, {now[:12]} now): the ledger or Commune changed "
            "since, and the files issued then are the bill"
        )
    return stmt


def _toml(value: object) -> str:
    """A setting as commune.toml writes it: "mix" quoted, 1300.0 as 1300, 0.25 as 0.25."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return format(Decimal(str(value)).normalize(), "f")


def settings_said(settings: dict[str, object], issued_at: str) -> str:
    """Which settings a statement is made with, in one line: the ones of its issue (and its
    day), which a later commune.toml does not change, or today's while it is not issued."""
    if not settings:  # a statement put together by hand, not by build_statement
        return ""
    cooperative = ", ".join(f"{k} = {_toml(v)}" for k, v in settings.items() if k != "idle_watts")
    said = f"[cooperative] {cooperative}; [energy] idle_watts = {_toml(settings['idle_watts'])}"
    if issued_at:
        return (
            f"issued on {issued_at[:10]} with {said}: a change in commune.toml since does not "
            "change it"
        )
    return f"not issued, made with today's commune.toml: {said}"


def build_statement(
    conn: Connection,
    settings: CooperativeSettings,
    month_text: str,
    idle_watts: float = 0.0,
    issued_at: str = "",
    ingestion_apart: bool = True,
) -> Statement:
    """The month's statement, made with ``settings`` (``issued_at``: when the month was
    issued with them, "" if it was not; ``ingestion_apart``: False to make a month issued
    before ingestion was metered as it was issued)."""
    from commune.account.idle import idle_draw
    from commune.store import repository as repo

    window = month(parse_month(month_text))
    idle = idle_draw(conn, idle_watts, window.start, window.end)
    # The month's members: a member that left before it is no part of it (never charged).
    names = member_names(conn, window.end, window.start)
    # In one order whatever the database's: PostgreSQL returns GROUP BY's groups in none it
    # promises (a plan changed as the ledger grew reorders them), and floats added in another
    # order differ in their last digit, which the SHA-256 of an issued month sees. The
    # operator's first, then by member id, as SQLite returns them: a month issued on SQLite
    # reads as it did.
    grouped = totals_by_member(conn, window.start, window.end, ingestion_apart)
    totals = {k: grouped[k] for k in sorted(grouped, key=lambda k: (k is not None, k or 0))}
    price = Decimal(str(settings.price_eur_per_kwh))
    zero = dict.fromkeys(("requests", "tokens", "wh", "gco2e", "ingest_wh", "ingest_gco2e"), 0.0)
    ids = list(names)
    rows = [totals.get(i, zero) for i in ids]
    unattributed_kwh = sum(v["wh"] for k, v in totals.items() if k not in names) / 1000
    energy_kwh = sum(v["wh"] for v in totals.values()) / 1000
    server = Decimal(str(settings.server_cost_eur_month))
    fixed_pool = (server + Decimal(str(unattributed_kwh)) * price).quantize(CENT)
    member_energy = [Decimal(str(r["wh"])) / 1000 * price for r in rows]
    energy_total = sum(member_energy, Decimal(0)).quantize(CENT)
    idle_kwh = idle.wh / 1000
    # The month's cost whether or not anyone shares it: with no member it was left out of
    # the total, which held the server's cost all the same.
    idle_total = (Decimal(str(idle_kwh)) * price).quantize(CENT)
    stmt = Statement(
        month_text,
        settings.rule,
        settings.currency,
        server,
        energy_kwh,
        price,
        unattributed_kwh,
        fixed_pool,
        energy_total,
        fixed_pool + energy_total + idle_total,
        idle_watts=idle.watts,
        idle_hours=idle.hours,
        idle_kwh=idle_kwh,
        idle_total=idle_total,
        idle_method=idle.method,
        settings=made_with(settings, idle_watts),
        issued=issued_at,
        ingest_kwh=sum(v["ingest_wh"] for v in totals.values()) / 1000,
        ingestion_apart=ingestion_apart,
    )
    if repo.now() < window.start:
        # A month to come read "is not over: these are its figures so far", as if under way:
        # nothing of it is used, its figures are the fixed cost's split alone.
        stmt.notices.append(
            f"{month_text} has not begun: nothing is used yet, these figures are its fixed "
            "cost alone"
        )
    elif repo.now() < window.end:
        # The month under way: its use, its shares by use and its draw at rest grow until
        # it ends, and a statement read today would otherwise pass for the month's.
        stmt.notices.append(f"{month_text} is not over: these are its figures so far")
    for name, left in leaving(conn, window.start, window.end):
        # Said, not silent: next month its line is gone, and the others' shares grow.
        stmt.notices.append(
            f"{name} leaves the cooperative on {left.date().isoformat()}: {month_text} is the "
            "last month it pays"
        )
    if not ids:
        # Said, not silent: a total above no line read as a sum its lines did not add up to.
        stmt.notices.append(
            f"no member was in the cooperative in {month_text}: its {stmt.total} "
            f"{settings.currency} is nobody's share (add members with commune member add)"
        )
        return stmt
    weights = _weights(
        settings.rule, settings.usage_share, [float(r[settings.usage_measure]) for r in rows]
    )
    floor = Decimal(str(settings.floor_eur))
    raw_fixed = _apply_floor(fixed_pool, weights, floor)
    if floor > 0 and not _floor_holds(fixed_pool, len(ids), floor):
        # Said, not silent: the members were told a floor, and each pays something else.
        floor_text = f"the floor of {floor.quantize(CENT)} {settings.currency}"
        pool_text = f"the fixed cost ({fixed_pool} {settings.currency})"
        stmt.notices.append(
            # One member pays the whole fixed cost: "each of 1 members ... an equal share".
            f"{floor_text} reaches {pool_text} of the one member: it pays the fixed cost, not "
            "the floor (lower floor_eur in commune.toml [cooperative])"
            if len(ids) == 1
            else f"{floor_text} for each of {len(ids)} members reaches {pool_text}: every "
            "member pays an equal share of it (lower floor_eur in commune.toml [cooperative])"
        )
    fixed = allocate(fixed_pool, raw_fixed)
    energy = allocate(energy_total, member_energy)
    # The draw at rest follows use: whoever keeps the server busy keeps it on.
    used = [Decimal(str(r["wh"])) for r in rows]
    idle_weights = used if sum(used) > 0 else [Decimal(1)] * len(ids)
    idle_eur = allocate(idle_total, idle_weights)
    for i, mid in enumerate(ids):
        r = rows[i]
        stmt.lines.append(
            MemberLine(
                names[mid],
                int(r["requests"]),
                int(r["tokens"]),
                float(r["wh"]),
                float(r["gco2e"]),
                float(raw_fixed[i] / fixed_pool) if fixed_pool else 0.0,
                fixed[i],
                energy[i],
                fixed[i] + energy[i] + idle_eur[i],
                idle_kwh=float(idle_kwh * float(idle_weights[i] / sum(idle_weights))),
                idle_eur=idle_eur[i],
                ingest_wh=float(r["ingest_wh"]),
                ingest_gco2e=float(r["ingest_gco2e"]),
            )
        )
    return stmt


CSV_FIELDS = [
    "month",
    "member",
    "requests",
    "tokens",
    "wh",
    "gco2e",
    "fixed_share",
    "fixed_eur",
    "energy_eur",
    "total_eur",
    "idle_kwh",
    "idle_eur",
    "ingest_wh",
]
# ``ingest_wh`` (« ajouts_wh »: documents added) is the part of ``wh`` that ingestion spent,
# last so that a script reading the columns before it reads them as it did; a month issued
# before ingestion was metered is written without it, as it was issued.
# The same columns in the French spreadsheet's file, as the payouts' CSV names its own
# (commons/payout_files.py): a French reader opens it, and the rest of it speaks French (the
# decimal comma, the ";"). Without accents, as there, so a script keys on them as typed.
# The rfc4180 file, for scripts and other locales, and the JSON keep the English names.
CSV_FIELDS_FR = [
    "mois",
    "membre",
    "requetes",
    "jetons",
    "wh",
    "gco2e",
    "part_fixe",
    "fixe_eur",
    "energie_eur",
    "total_eur",
    "repos_kwh",
    "repos_eur",
    "ajouts_wh",
]


# The people who open a statement are French public bodies and associations, in French
# spreadsheet software: it splits on ";" (the comma is its decimal mark) and reads a file
# as UTF-8 only when a byte-order mark says so (without one, "Énergie" shows as "Ã‰nergie"
# and every line lands in one column; issue 24). So the French dialect is the default;
# "rfc4180" (comma, decimal point, no BOM) is kept for scripts and other locales.
CSV_DIALECTS = ("fr", "rfc4180")


def _number(value: object, dialect: str) -> str:
    text = str(value)
    return text.replace(".", ",") if dialect == "fr" else text


def _measure(value: float) -> str:
    """An energy or carbon figure for a spreadsheet: ten significant digits, written out
    (no "1e-05"). To four decimals, a member's few µWh, answered from the cache, read
    "0,0000": a use that looked like none."""
    return format(Decimal(f"{value:.10g}"), "f")


def _csv_row(stmt: Statement, line: MemberLine, dialect: str) -> list[object]:
    figures = [
        _measure(line.wh),
        _measure(line.gco2e),
        f"{line.weight:.6f}",
        line.fixed_eur,
        line.energy_eur,
        line.total_eur,
        _measure(line.idle_kwh),
        line.idle_eur,
        *([_measure(line.ingest_wh)] if stmt.ingestion_apart else []),
    ]
    return [
        stmt.month,
        cell(line.member),
        line.requests,
        line.tokens,
        *(_number(f, dialect) for f in figures),
    ]


def csv_text(stmt: Statement, lines: list[MemberLine] | None = None, dialect: str = "fr") -> str:
    """The statement as CSV (its members' lines, or only ``lines``), in ``dialect``: "fr"
    (French column names, semicolons, decimal comma, a UTF-8 byte-order mark) or "rfc4180"
    (English column names, commas, decimal points)."""
    if dialect not in CSV_DIALECTS:
        raise ValueError(f"CSV dialect must be one of {', '.join(CSV_DIALECTS)}, got {dialect!r}")
    buf = io.StringIO()
    if dialect == "fr":
        buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";" if dialect == "fr" else ",")
    fields = CSV_FIELDS_FR if dialect == "fr" else CSV_FIELDS
    w.writerow(fields if stmt.ingestion_apart else fields[:-1])
    for line in stmt.lines if lines is None else lines:
        w.writerow(_csv_row(stmt, line, dialect))
    return buf.getvalue()


# The step a floor that cannot hold asks for, said to the operator who runs `commune statement`.
_LOWER_FLOOR = "(lower floor_eur in commune.toml [cooperative])"


def _to_members(notice: str) -> str:
    """``notice`` as a member's statement says it: its readers, a town hall's treasurer or
    admin, have no commune.toml, and read « baissez floor_eur » as theirs to do (the web's
    /statement says it alike, web/i18n)."""
    if notice.endswith(_LOWER_FLOOR):
        return notice.removesuffix(_LOWER_FLOOR) + (
            "(the operator lowers floor_eur in commune.toml [cooperative])"
        )
    return notice


def member_html(stmt: Statement, line: MemberLine) -> str:
    """A member's statement as a page in French (its labels say the English beside): its
    figures written as French writes them, "1 300,00 EUR", "< 0,01 Wh" for a few mWh (used,
    not nothing); they read "1300.0", "0.00 Wh", a decimal point in a French page."""
    from commune.text.numbers import number, small

    e, cur = html.escape, html.escape(stmt.currency)

    def eur(amount: Decimal) -> str:
        return f"{number(float(amount), 2, 'fr')} {cur}"

    def energy(value: float, digits: int) -> str:
        return e(small(value, digits, "fr"))

    # The members' kWh are what the energy line prices; the operator's work is in the
    # server's cost (it was counted in "énergie totale" and priced there too, it seemed).
    operator = (
        f" (le travail de l'opérateur, {energy(stmt.unattributed_kwh, 4)} kWh, est dans le "
        "coût du serveur)"
        if stmt.unattributed_kwh
        else ""
    )
    # Side by side with its answers': the energy of the documents added to its collections
    # (none added, no line: « 0,00 Wh » read as a figure rounded to nothing).
    ingested = (
        f"\n<tr><th>dont ajout de documents / of which adding documents</th>"
        f"<td>{energy(line.ingest_wh, 2)} Wh</td></tr>"
        if stmt.ingestion_apart and line.ingest_wh
        else ""
    )
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Relevé {e(stmt.month)} — {e(line.member)}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto}}
td,th{{padding:.3rem .8rem;text-align:right}}
th:first-child,td:first-child{{text-align:left}}</style>
</head><body><h1>Relevé {e(stmt.month)} — {e(line.member)}</h1>
<table>
<tr><th>Requêtes / requests</th><td>{number(line.requests, 0, "fr")}</td></tr>
<tr><th>Jetons / tokens</th><td>{number(line.tokens, 0, "fr")}</td></tr>
<tr><th>Énergie / energy</th><td>{energy(line.wh, 2)} Wh</td></tr>{ingested}
<tr><th>Carbone / carbon</th><td>{energy(line.gco2e, 2)} gCO2e</td></tr>
<tr><th>Part du coût fixe / fixed share ({e(stmt.rule)})</th>\
<td>{number(line.weight * 100, 2, "fr")}\u00a0%</td></tr>
<tr><th>Coût fixe / fixed cost</th><td>{eur(line.fixed_eur)}</td></tr>
<tr><th>Énergie / energy cost</th><td>{eur(line.energy_eur)}</td></tr>
<tr><th>Serveur au repos / server at rest</th><td>{eur(line.idle_eur)}
({energy(line.idle_kwh, 3)} kWh)</td></tr>
<tr><th>Total</th><td><strong>{eur(line.total_eur)}</strong></td></tr>
</table>
<p>Coût du serveur\u00a0: {eur(stmt.server_cost)}\u00a0;
énergie des membres {energy(stmt.members_kwh, 4)} kWh à \
{number(float(stmt.price_per_kwh), 2, "fr")} {cur}/kWh{operator}\u00a0;
serveur au repos {energy(stmt.idle_kwh, 4)} kWh ({e(localise(stmt.idle_method, "fr"))})\u00a0;
total coopérative {eur(stmt.total)}.</p>
{"".join(f"<p>{e(localise(n, 'fr'))}<br>{e(n)}</p>" for n in map(_to_members, stmt.notices))}
<p>{e(localise(stmt.made_with, "fr"))}<br>{e(stmt.made_with)}</p>
</body></html>
"""


def export(stmt: Statement, directory: Path, csv_dialect: str = "fr") -> list[Path]:
    """Write the whole statement (CSV, JSON) and each member's (CSV, JSON, HTML)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    whole = directory / f"statement-{stmt.month}"
    # Each file whole or not at all (store/files.py): cut short by a kill, a statement read
    # as costing less than it did.
    write_whole(
        whole.with_suffix(".json"), json.dumps(stmt.to_json(), indent=2, ensure_ascii=False)
    )
    write_whole(whole.with_suffix(".csv"), csv_text(stmt, dialect=csv_dialect))
    written += [whole.with_suffix(".json"), whole.with_suffix(".csv")]
    # One file per member, never one for two: "Ville de Saint-Exemple" and "ville de
    # saint-exemple" wrote the same file, the second member's line alone in it.
    names = slugs((line.member for line in stmt.lines), "member")
    head = {k: v for k, v in stmt.to_json().items() if k != "lines"}  # every member's file's
    for line, slug in zip(stmt.lines, names, strict=True):
        base = directory / f"statement-{stmt.month}-{slug}"
        write_whole(base.with_suffix(".csv"), csv_text(stmt, [line], dialect=csv_dialect))
        data: dict[str, object] = {**head, "member": line_json(stmt, line)}
        write_whole(base.with_suffix(".json"), json.dumps(data, indent=2, ensure_ascii=False))
        write_whole(base.with_suffix(".html"), member_html(stmt, line))
        written += [base.with_suffix(s) for s in (".csv", ".json", ".html")]
    return written
