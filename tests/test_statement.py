"""Monthly statements: a €1,300 server plus energy, split among members to the cent."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, update

from commune.account.statement import (
    CSV_FIELDS,
    CSV_FIELDS_FR,
    allocate,
    build_statement,
    csv_text,
    export,
)
from commune.config import CooperativeSettings
from commune.govern.members import add_member
from commune.store.schema import members, usage


def ledger(conn, member_id, wh, tokens=0, day=5, month=11, at=None):  # type: ignore[no-untyped-def]
    conn.execute(
        insert(usage).values(
            created_at=at or datetime(2026, month, day, 12, tzinfo=UTC),
            route="api/ask",
            mode="extractive",
            model=None,
            collection=None,
            input_tokens=tokens,
            output_tokens=0,
            duration_ms=10.0,
            fallback=False,
            member_id=member_id,
            user_id=None,
            cpu_seconds=1.0,
            wh=wh,
            gco2e=wh * 0.052,
            energy_method="test",
            estimated=False,
        )
    )


@pytest.fixture
def three(commune):  # type: ignore[no-untyped-def]
    with commune.engine.begin() as conn:
        a = add_member(conn, "Ville A", "town")
        b = add_member(conn, "Agglo B", "agglomeration")
        c = add_member(conn, "Asso C", "association")
        for _ in range(7):
            ledger(conn, a, 123.457)
        for _ in range(3):
            ledger(conn, b, 1001.1)
        ledger(conn, None, 50.0)  # the operator's own work (re-indexing)
        ledger(conn, c, 999.0, month=10)  # another month: not in November's statement
        # Members since before the months billed here, whatever today's date.
        conn.execute(update(members).values(created_at=datetime(2026, 10, 1, tzinfo=UTC)))
    return commune, (a, b, c)


def total_of(stmt) -> Decimal:  # type: ignore[no-untyped-def]
    return sum((line.total_eur for line in stmt.lines), Decimal(0))


@pytest.mark.parametrize("rule", ["usage", "equal", "mix"])
def test_statement_reconciles_with_the_ledger_to_the_cent(three, rule):
    commune, _ = three
    settings = CooperativeSettings(server_cost_eur_month=1300, price_eur_per_kwh=0.2516, rule=rule)
    with commune.engine.connect() as conn:
        stmt = build_statement(conn, settings, "2026-11")
    ledger_wh = 7 * 123.457 + 3 * 1001.1 + 50.0
    assert stmt.energy_kwh == pytest.approx(ledger_wh / 1000)
    expected = (Decimal("1300") + Decimal(str(ledger_wh / 1000)) * Decimal("0.2516")).quantize(
        Decimal("0.01")
    )
    assert abs(stmt.total - expected) <= Decimal("0.01")  # rounded once, per part
    assert total_of(stmt) == stmt.total  # members' amounts add up exactly
    assert sum(line.fixed_eur for line in stmt.lines) == stmt.fixed_total
    assert sum(line.energy_eur for line in stmt.lines) == stmt.energy_total
    by = {line.member: line for line in stmt.lines}
    assert by["Asso C"].energy_eur == 0 and by["Asso C"].requests == 0
    if rule == "equal":
        fixed = {line.fixed_eur for line in stmt.lines}
        assert max(fixed) - min(fixed) <= Decimal("0.01")
    if rule == "usage":
        assert by["Asso C"].fixed_eur == 0 and by["Agglo B"].fixed_eur > by["Ville A"].fixed_eur


def test_floor_makes_every_member_pay_at_least_something(three):
    commune, _ = three
    settings = CooperativeSettings(rule="usage", floor_eur=100)
    with commune.engine.connect() as conn:
        stmt = build_statement(conn, settings, "2026-11")
    by = {line.member: line for line in stmt.lines}
    assert by["Asso C"].fixed_eur == Decimal("100.00")
    assert total_of(stmt) == stmt.total


def test_a_floor_that_cannot_hold_is_said_not_silent(three, tmp_path):
    """Three members held to 500 EUR each of a 1,300 EUR server: the floor cannot hold,
    each pays a third, and the statement says so in both languages (it was silent)."""
    from commune.cli.accounting import french_statement

    commune, _ = three
    with commune.engine.connect() as conn:
        held = build_statement(conn, CooperativeSettings(rule="usage", floor_eur=100), "2026-11")
        stmt = build_statement(conn, CooperativeSettings(rule="usage", floor_eur=500), "2026-11")
    assert held.notices == []
    assert len({line.fixed_eur for line in stmt.lines}) <= 2  # a third each, to the cent
    assert stmt.notices == [
        f"the floor of 500.00 EUR for each of 3 members reaches the fixed cost "
        f"({stmt.fixed_total} EUR): every member pays an equal share of it (lower floor_eur in "
        "commune.toml [cooperative])"
    ]
    french = french_statement(stmt)
    from commune.text import numbers

    pool = numbers.number(float(stmt.fixed_total), 2, "fr")  # « 1 300,01 », as the lines
    assert (
        "note\u00a0: le plancher de 500,00 EUR pour chacun des 3 membres atteint le coût fixe "
        f"({pool} EUR)" in french
    ), french
    export(stmt, tmp_path / "out")
    html = (tmp_path / "out" / "statement-2026-11-ville-a.html").read_text()
    assert "chaque membre en paie une part égale" in html and "every member pays" in html
    from commune.web import i18n  # /statement says it in the page's language

    i18n.use("fr")
    on_the_page = i18n.translate(stmt.notices[0])
    assert on_the_page.startswith("le plancher de 500,00 EUR pour chacun des 3"), on_the_page
    # The page groups its thousands, as its table does: « 1 300,01 ».
    assert f"({pool} EUR)" in on_the_page
    i18n.use("en")


def test_the_members_energy_is_priced_beside_their_own_kwh(three, home):
    """The operator's 50 Wh are priced into the server's share: the header's energy figure
    was the members' euros beside everyone's kWh (the operator's counted twice)."""
    from click.testing import CliRunner

    from commune.cli import cli

    said = {
        lang: CliRunner()
        .invoke(cli, ["--home", str(home), "statement", "--month", "2026-11"], env={"LANG": lang})
        .output.splitlines()[0]
        for lang in ("en_GB.UTF-8", "fr_FR.UTF-8")
    }
    assert "(with 0.0500 kWh of the operator's work) + energy " in said["en_GB.UTF-8"]
    assert " (3.8675 kWh) + server at rest" in said["en_GB.UTF-8"], said
    assert "(dont 0,0500 kWh du travail de l'opérateur) + énergie " in said["fr_FR.UTF-8"]
    assert " (3,8675 kWh) + serveur au repos" in said["fr_FR.UTF-8"], said


def test_allocate_distributes_the_last_cents():
    parts = allocate(Decimal("100.00"), [Decimal(1), Decimal(1), Decimal(1)])
    assert sum(parts) == Decimal("100.00") and sorted(parts) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]


def test_exports_for_each_member(three, tmp_path):
    commune, _ = three
    stmt = commune.statement("2026-11")
    files = export(stmt, tmp_path / "out")
    names = {f.name for f in files}
    assert {
        "statement-2026-11.csv",
        "statement-2026-11.json",
        "statement-2026-11-ville-a.html",
        "statement-2026-11-agglo-b.csv",
        "statement-2026-11-asso-c.json",
    } <= names
    # French spreadsheets: a byte-order mark, semicolons and decimal commas (issue 24)
    raw = (tmp_path / "out" / "statement-2026-11.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert sum(Decimal(r["total_eur"].replace(",", ".")) for r in rows) == stmt.total
    assert "," in rows[0]["wh"] and "." not in rows[0]["wh"]
    one = json.loads((tmp_path / "out" / "statement-2026-11-ville-a.json").read_text())
    assert one["member"]["member"] == "Ville A" and one["total"] == str(stmt.total)
    html = (tmp_path / "out" / "statement-2026-11-ville-a.html").read_text()
    total = by_member(stmt, "Ville A").total_eur
    assert "Ville A" in html and f"{str(total).replace('.', ',')} EUR" in html
    # A French page writes French figures: "1 300,00 EUR", not "1300.0" (found exploring).
    assert "Coût du serveur\u00a0: 1\u202f300,00 EUR\u00a0;" in html, html
    assert "0,25 EUR/kWh" in html and "\u00a0%</td>" in html


def test_two_members_whose_names_differ_in_case_get_a_file_each(three, tmp_path):
    # Found by an exploratory test: "Ville de Saint-Exemple" and "ville de saint-exemple"
    # wrote one file, the second member's line alone in it; and accents were dropped. Names
    # differing in case alone are refused now; in accents or signs, they still share a slug.
    commune, _ = three
    with commune.engine.begin() as conn:
        for name in ("Ville de Saint-Égrève", "Ville de Saint Egrève"):
            ledger(conn, add_member(conn, name, "town"), 10.0)
        conn.execute(update(members).values(created_at=datetime(2026, 10, 1, tzinfo=UTC)))
    files = export(commune.statement("2026-11"), tmp_path / "out")
    assert len({f.name for f in files}) == len(files)
    members_of = {
        json.loads(f.read_text())["member"]["member"]
        for f in files
        if f.suffix == ".json" and "saint-egreve" in f.name
    }
    assert members_of == {"Ville de Saint-Égrève", "Ville de Saint Egrève"}
    assert (tmp_path / "out" / "statement-2026-11-ville-de-saint-egreve-2.csv").exists()


def test_the_csv_read_back_in_both_dialects_keeps_accents_and_amounts(three, tmp_path):
    commune, _ = three
    stmt = commune.statement("2026-11")
    lines = [replace(stmt.lines[0], member="Communauté de Saint-Éloi"), *stmt.lines[1:]]
    french = csv_text(stmt, lines, dialect="fr").encode("utf-8")
    # as a French spreadsheet reads it: the BOM tells UTF-8, ";" splits the columns
    rows = list(csv.reader(french.decode("utf-8-sig").splitlines(), delimiter=";"))
    # In French, as the rest of the file and the payouts' CSV: "month;member;fixed_share"
    # headed a French spreadsheet's columns.
    assert rows[0][:7] == ["mois", "membre", "requetes", "jetons", "wh", "gco2e", "part_fixe"]
    assert rows[0] == CSV_FIELDS_FR and len(rows) == len(stmt.lines) + 1
    assert rows[1][1] == "Communauté de Saint-Éloi"
    column = CSV_FIELDS_FR.index("total_eur")
    total = sum(Decimal(r[column].replace(",", ".")) for r in rows[1:])
    assert total == stmt.total
    plain = list(csv.DictReader(csv_text(stmt, dialect="rfc4180").splitlines()))
    assert list(plain[0]) == CSV_FIELDS  # for scripts: the JSON's English names
    assert sum(Decimal(r["total_eur"]) for r in plain) == stmt.total
    with pytest.raises(ValueError, match="CSV dialect must be one of fr, rfc4180, got 'xls'"):
        csv_text(stmt, dialect="xls")


def by_member(stmt, name):  # type: ignore[no-untyped-def]
    return next(line for line in stmt.lines if line.member == name)


def test_bad_month_is_refused(commune):
    with pytest.raises(ValueError, match="month must look like 2026-11, got '2026-13'"):
        commune.statement("2026-13")


def test_parallel_processes_lose_and_double_count_no_ledger_row(commune, corpus, home):
    """Three processes ask at once through the library; every request is one ledger row:
    twelve, neither lost (fewer) nor counted twice (more)."""
    commune.add([corpus], licence="etalab-2.0")
    commune.catalog()
    script = (
        "import sys; from commune.core import Commune\n"
        "c = Commune(sys.argv[1])\n"
        "for i in range(4): c.ask(f'bac jaune question {i}')\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(home)]) for _ in range(3)]
    assert [p.wait(timeout=240) for p in procs] == [0, 0, 0]
    with commune.engine.connect() as conn:
        # The requests' rows (the add's own, one per document, are ingestion's).
        asked = "select count(*) from usage where mode not in ('ingest', 'enrich', 'import')"
        assert conn.exec_driver_sql(asked).scalar() == 12


def test_the_server_at_rest_is_its_own_line_split_by_use(three):  # type: ignore[no-untyped-def]
    """Before, the statement counted only the requests' energy: a small server's draw at
    rest, most of its energy, was billed nowhere."""
    commune, _ = three
    settings = CooperativeSettings(server_cost_eur_month=1300, price_eur_per_kwh=0.2516)
    with commune.engine.connect() as conn:
        none = build_statement(conn, settings, "2026-11")
        stmt = build_statement(conn, settings, "2026-11", idle_watts=100.0)
    assert none.idle_total == 0 and "not counted: set [energy] idle_watts" in none.idle_method
    # November, whole: the service ran since October (its first ledger row).
    assert stmt.idle_hours == pytest.approx(30 * 24) and stmt.idle_kwh == pytest.approx(72.0)
    assert stmt.idle_total == Decimal("18.12")  # 72 kWh at 0.2516
    assert "100 W base draw" in stmt.idle_method and "(estimated)" in stmt.idle_method
    # November's hours, said as November's: read in December, "this month" named December.
    assert stmt.idle_method.endswith("x 720.0 h the service ran in 2026-11 (estimated)")
    from commune.text.messages import localise

    assert localise(stmt.idle_method, "fr").endswith("x 720,0 h de service en 2026-11 (estimée)")
    assert stmt.total == none.total + stmt.idle_total
    assert total_of(stmt) == stmt.total  # still to the cent
    by = {line.member: line for line in stmt.lines}
    # Split by energy use: Asso C used nothing in November.
    assert by["Asso C"].idle_eur == 0
    assert by["Agglo B"].idle_eur > 3 * by["Ville A"].idle_eur
    assert sum(line.idle_eur for line in stmt.lines) == stmt.idle_total


@pytest.mark.parametrize("month", ["2026-13", "9999-12", "0000-05"])
def test_a_month_out_of_range_is_refused_in_french(month: str) -> None:
    # "9999-12" raised Python's own "year 10000 is out of range", in English (review).
    from commune.account.statement import parse_month
    from commune.errors import InvalidRequest
    from commune.text.messages import localise

    with pytest.raises(InvalidRequest) as refused:
        parse_month(month)
    assert localise(str(refused.value), "fr") == (
        f"le mois doit s'écrire comme 2026-11, reçu '{month}'"
    )


def test_a_members_few_mwh_read_below_the_last_digit_not_zero(commune, home, tmp_path):
    """Found by an exploratory test: a member that used 2 mWh read "0,00 Wh" on the
    statement, the operator's work "0,0000 kWh", and English said "1 requests"."""
    from click.testing import CliRunner

    from commune.cli import cli

    with commune.engine.begin() as conn:
        a = add_member(conn, "Ville A", "town")
        ledger(conn, a, 0.002)
        ledger(conn, None, 0.003)  # the operator's own work
        conn.execute(update(members).values(created_at=datetime(2026, 10, 1, tzinfo=UTC)))
    said = {
        lang: CliRunner()
        .invoke(cli, ["--home", str(home), "statement", "--month", "2026-11"], env={"LANG": lang})
        .output
        for lang in ("en_GB.UTF-8", "fr_FR.UTF-8")
    }
    assert "(with < 0.0001 kWh of the operator's work)" in said["en_GB.UTF-8"], said
    assert "(< 0.0001 kWh) + server at rest" in said["en_GB.UTF-8"]
    assert ", < 0.01 Wh, 1 request)" in said["en_GB.UTF-8"], said
    assert "(dont < 0,0001 kWh du travail de l'opérateur)" in said["fr_FR.UTF-8"], said
    assert ", < 0,01 Wh, 1 requête)" in said["fr_FR.UTF-8"], said
    export(commune.statement("2026-11"), tmp_path / "out")
    page = (tmp_path / "out" / "statement-2026-11-ville-a.html").read_text()
    assert "<td>&lt; 0,01 Wh</td>" in page and "0,00 Wh" not in page, page


def test_the_statements_faces_price_the_members_kwh_not_everyones(three, home, tmp_path):
    """The CLI's header priced the members' kWh; /statement and each member's HTML still
    put everyone's (the operator's 50 Wh, in the server's cost) beside the price per kWh."""
    from commune.api.app import create_app
    from tests.conftest import make_person
    from tests.test_web import browser

    commune, _ = three
    stmt = commune.statement("2026-11")
    export(stmt, tmp_path / "out")
    page = (tmp_path / "out" / "statement-2026-11-ville-a.html").read_text()
    assert "énergie des membres 3,8675 kWh à " in page, page
    assert "le travail de l'opérateur, 0,0500 kWh, est dans le coût du serveur" in page
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    web = browser(create_app(commune), "alice").get("/statement?month=2026-11").page
    assert "énergie 3,8675 kWh à 0,25 EUR/kWh" in web, web
    assert "Le travail de l'opérateur, 0,0500 kWh, est dans le coût du serveur." in web


def test_a_member_name_a_spreadsheet_would_compute_is_written_as_text(three) -> None:
    # statement.csv is opened in LibreOffice or Excel: a member named "=1+1" or "-2" was a
    # formula there, computed (or fetching an address) on the reader's computer.
    commune, _ = three
    stmt = commune.statement("2026-11")
    lines = [replace(stmt.lines[0], member='=WEBSERVICE("https://example.org")')]
    lines += [replace(stmt.lines[1], member="-2+3")]
    for dialect, sep in (("fr", ";"), ("rfc4180", ",")):
        text = csv_text(stmt, lines, dialect=dialect).lstrip("\ufeff")
        rows = list(csv.reader(text.splitlines(), delimiter=sep))
        assert rows[1][1] == '\'=WEBSERVICE("https://example.org")' and rows[2][1] == "'-2+3"


def test_a_month_without_members_says_its_total_is_nobodys_share(commune, tmp_path):
    """A month before any member joined: the total (the server, the operator's work) stood
    above no line, a sum its lines did not add up to, and nothing said why."""
    from commune.cli.accounting import french_statement
    from commune.web import i18n

    with commune.engine.begin() as conn:
        ledger(conn, None, 50.0)  # the operator's own work
        stmt = build_statement(conn, CooperativeSettings(server_cost_eur_month=1300), "2026-11")
    assert stmt.lines == [] and stmt.total == Decimal("1300.01")
    assert stmt.notices == [
        "no member was in the cooperative in 2026-11: its 1300.01 EUR is nobody's share "
        "(add members with commune member add)"
    ]
    assert (
        "note\u00a0: aucun membre n'était dans la coopérative en 2026-11\u00a0: ses "
        "1\u202f300,01 EUR ne sont la part de personne" in french_statement(stmt)
    ), french_statement(stmt)
    i18n.use("fr")
    try:
        assert i18n.translate(stmt.notices[0]).startswith(
            "aucun membre n'était dans la coopérative en 2026-11"
        )
    finally:
        i18n.use("en")
    assert not export(stmt, tmp_path / "out")[2:]  # the whole statement, no member's file


@pytest.mark.parametrize(
    ("section", "key", "limit"),
    [
        ("cooperative", "server_cost_eur_month", "1000000000000"),
        ("cooperative", "floor_eur", "1000000000000"),
        ("cooperative", "price_eur_per_kwh", "1000000"),
        ("energy", "idle_watts", "1000000"),
        ("energy", "watts_per_core", "1000"),
    ],
)
def test_an_absurd_cost_or_power_is_refused_in_one_line_not_a_traceback(
    commune, home, section, key, limit
):
    """A typo's 1e30 in [cooperative] went past the checks and `commune statement` stopped
    on Decimal's 28 digits with a traceback (decimal.InvalidOperation)."""
    from click.testing import CliRunner

    from commune.cli import cli

    with commune.engine.begin() as conn:
        add_member(conn, "Ville A", "town")
    (home / "commune.toml").write_text(f"[{section}]\n{key} = 1e30\n", encoding="utf-8")
    for lang, said in (
        ("en_US.UTF-8", f"{section}.{key} in commune.toml must be at most {limit}, got 1e+30"),
        ("fr_FR.UTF-8", f"{section}.{key} dans commune.toml doit valoir au plus {limit}"),
    ):
        r = CliRunner().invoke(
            cli, ["--home", str(home), "statement", "--month", "2026-11"], env={"LANG": lang}
        )
        assert r.exit_code == 78 and said in r.output, (r.output, r.exception)
        assert len(r.output.strip().splitlines()) == 1, r.output


def test_the_csv_keeps_a_members_few_microwatt_hours_not_zero(commune):
    """A member whose questions were all answered from the cache used some µWh: the CSV
    wrote its energy "0,0000" Wh and its carbon "0,0000", a use that read as none (the page
    and the HTML say "< 0,01 Wh")."""
    with commune.engine.begin() as conn:
        a = add_member(conn, "Ville A", "town")
        for _ in range(3):
            ledger(conn, a, 0.0000123)
        conn.execute(update(members).values(created_at=datetime(2026, 10, 1, tzinfo=UTC)))
        stmt = build_statement(conn, CooperativeSettings(), "2026-11", idle_watts=0.001)
    for dialect, point in (("fr", ","), ("rfc4180", ".")):
        text = csv_text(stmt, dialect=dialect).lstrip("\ufeff")
        [read] = csv.DictReader(text.splitlines(), delimiter=";" if dialect == "fr" else ",")
        names = CSV_FIELDS_FR if dialect == "fr" else CSV_FIELDS
        row = {english: read[name] for english, name in zip(CSV_FIELDS, names, strict=True)}
        for field, figure in (
            ("wh", 3 * 0.0000123),
            ("gco2e", 3 * 0.0000123 * 0.052),
            ("idle_kwh", stmt.idle_kwh),
        ):
            written = float(row[field].replace(point, "."))
            assert written == pytest.approx(figure, rel=1e-6), (field, row[field])
            assert "e" not in row[field].lower(), row[field]  # no 1e-05 in a spreadsheet
    assert stmt.idle_kwh > 0


def test_a_month_not_over_says_its_figures_are_so_far(three):
    """The month under way read like a closed one: its shares by use, its energy and its
    draw at rest were a week's, and nothing said they would change."""
    from commune.cli.accounting import french_statement
    from commune.web import i18n

    commune, _ = three
    now = datetime.now(UTC).strftime("%Y-%m")
    with commune.engine.connect() as conn:
        closed = build_statement(conn, CooperativeSettings(), "2026-11")
        open_ = build_statement(conn, CooperativeSettings(), now)
    assert closed.notices == []
    assert open_.notices == [f"{now} is not over: these are its figures so far"]
    assert f"note\u00a0: {now} n'est pas fini\u00a0: ce sont ses chiffres à ce jour" in (
        french_statement(open_)
    )
    i18n.use("fr")
    try:
        assert i18n.translate(open_.notices[0]) == (
            f"{now} n'est pas fini\u00a0: ce sont ses chiffres à ce jour"
        )
    finally:
        i18n.use("en")


def test_a_floor_above_the_one_members_fixed_cost_is_said_for_one(commune):
    """One member, a floor above the server's cost: "for each of 1 members ... every member
    pays an equal share of it", « pour chacun des 1 membres »."""
    from commune.cli.accounting import french_statement
    from commune.web import i18n

    with commune.engine.begin() as conn:
        add_member(conn, "Seule", "town")
        conn.execute(update(members).values(created_at=datetime(2026, 10, 1, tzinfo=UTC)))
        settings = CooperativeSettings(server_cost_eur_month=30, floor_eur=50)
        stmt = build_statement(conn, settings, "2026-11")
    assert [line.total_eur for line in stmt.lines] == [Decimal("30.00")]
    assert stmt.notices == [
        "the floor of 50.00 EUR reaches the fixed cost (30.00 EUR) of the one member: it pays "
        "the fixed cost, not the floor (lower floor_eur in commune.toml [cooperative])"
    ]
    french = french_statement(stmt)
    assert (
        "note\u00a0: le plancher de 50,00 EUR atteint le coût fixe (30,00 EUR) du seul membre"
        "\u00a0: il paie le coût fixe, pas le plancher" in french
    ), french
    i18n.use("fr")
    try:
        assert i18n.translate(stmt.notices[0]).startswith(
            "le plancher de 50,00 EUR atteint le coût fixe (30,00 EUR) du seul membre"
        )
    finally:
        i18n.use("en")


def test_a_month_without_members_still_counts_the_server_at_rest(commune):
    """With no member, the draw at rest was left out of the month's total ("server at rest
    0", written so, not 0.00) while the server's cost was in it."""
    from commune.cli.accounting import french_statement

    with commune.engine.begin() as conn:
        ledger(conn, None, 1.0, month=10)  # the service ran since October
        settings = CooperativeSettings(server_cost_eur_month=1300, price_eur_per_kwh=0.25)
        stmt = build_statement(conn, settings, "2026-11", idle_watts=100.0)
    assert stmt.lines == [] and stmt.idle_kwh == pytest.approx(72.0)
    assert stmt.idle_total == Decimal("18.00") and stmt.total == Decimal("1318.00")
    assert "+ serveur au repos 18,00 (72,0000 kWh)" in french_statement(stmt)
    assert "1318.00 EUR is nobody's share" in stmt.notices[-1]


def test_a_month_to_come_says_it_has_not_begun(three):
    """A month to come read "2031-01 is not over: these are its figures so far", as if it
    were under way, above the fixed cost's split alone."""
    from commune.cli.accounting import french_statement
    from commune.web import i18n

    commune, _ = three
    with commune.engine.connect() as conn:
        later = build_statement(conn, CooperativeSettings(), "2099-01")
    assert later.notices == [
        "2099-01 has not begun: nothing is used yet, these figures are its fixed cost alone"
    ]
    assert all(line.requests == 0 and line.energy_eur == 0 for line in later.lines)
    assert "note\u00a0: 2099-01 n'a pas commencé\u00a0: rien n'est encore utilisé" in (
        french_statement(later)
    )
    i18n.use("fr")
    try:
        assert i18n.translate(later.notices[0]) == (
            "2099-01 n'a pas commencé\u00a0: rien n'est encore utilisé, ces chiffres sont son "
            "seul coût fixe"
        )
    finally:
        i18n.use("en")


def test_the_statement_pages_notes_read_as_sentences(tmp_path):
    """/statement put the library's notes as they are written for a CLI line after "note: ",
    in lower case and without a stop: « le plancher de 80,00 EUR atteint … commune.toml) »,
    « aucun membre n'était dans la coopérative … member add) », alone in their paragraph."""
    import html
    import re

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.conftest import make_person
    from tests.test_web import Browser

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(
        "[cooperative]\nserver_cost_eur_month = 50\nfloor_eur = 80\n", encoding="utf-8"
    )
    with Commune(home) as c:
        make_person(c, "alice", "Ville A", "cooperative-admin")
        alice = Browser(create_app(c))
        alice.sign_in("alice")
        for month, first in (("", "Le plancher de 80,00 EUR"), ("2020-01", "Aucun membre")):
            page = alice.get(f"/statement?month={month}", headers={"Accept-Language": "fr"}).text
            shown = re.findall(r'<p class="notice" role="note">(.*?)</p>', page)
            notes = [html.unescape(n) for n in shown]
            assert any(n.startswith(first) for n in notes), notes
            assert all(n[0].isupper() or n[0].isdigit() for n in notes), notes
            assert all(n.endswith(".") for n in notes), notes


def test_a_few_minutes_of_service_say_their_draw_at_rest(commune):  # type: ignore[no-untyped-def]
    """Three minutes of service read "x 0.0 h the service ran", a nothing beside counted
    watt-hours; below a tenth of an hour, two significant digits say them."""
    from commune.account.idle import idle_draw
    from commune.text.messages import localise

    with commune.engine.begin() as conn:
        ledger(conn, None, 1.0, day=5)  # at noon: the service's first row
        start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 5, 12, 3, tzinfo=UTC)
        drawn = idle_draw(conn, 100.0, start, end)
    assert drawn.hours == pytest.approx(0.05) and drawn.wh == pytest.approx(5.0)
    assert drawn.method.endswith("x 0.050 h the service ran in 2026-11 (estimated)")
    assert localise(drawn.method, "fr").endswith("x 0,050 h de service en 2026-11 (estimée)")


def test_an_issued_month_keeps_the_settings_it_was_issued_with(three, home):
    """`commune statement` was made from today's commune.toml: after a price change, a
    month the members were billed for read other amounts, while its payouts were recorded.
    Issued, a month keeps its settings and says them; the month under way follows today's."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.store.audit import entries

    commune, _ = three
    toml = home / "commune.toml"
    toml.write_text("[cooperative]\nprice_eur_per_kwh = 0.25\n", encoding="utf-8")

    def run(*args: str, lang: str = "en_US.UTF-8"):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(
            cli, ["--home", str(home), "statement", *args], env={"LANG": lang}
        )

    issued = run("--month", "2026-11", "--issue", "--json")
    assert issued.exit_code == 0, issued.output
    before = json.loads(issued.output)
    assert before["issued"] and before["settings"]["price_eur_per_kwh"] == 0.25
    toml.write_text(
        '[cooperative]\nprice_eur_per_kwh = 0.5\nserver_cost_eur_month = 2000\nrule = "equal"\n',
        encoding="utf-8",
    )
    after = json.loads(run("--month", "2026-11", "--json").output)
    assert after == before
    assert after["total"] == before["total"] and after["lines"] == before["lines"]
    assert after["made_with"].startswith(f"issued on {before['issued'][:10]} with [cooperative]")
    assert "price_eur_per_kwh = 0.25" in after["made_with"]
    french = run("--month", "2026-11", lang="fr_FR.UTF-8").output
    assert f"  émis le {before['issued'][:10]} avec [cooperative]" in french, french
    assert 'rule = "mix"' in french and "ne le change pas" in french
    # Issued again (a lost file sent anew): the same statement, one audit entry.
    again = json.loads(run("--month", "2026-11", "--issue", "--json").output)
    assert again == before
    with commune.engine.connect() as conn:
        assert [e["subject"] for e in entries(conn) if e["action"] == "statement"] == [
            "month 2026-11"
        ]
    # The month under way follows today's settings, and says so; it cannot be issued yet.
    now = datetime.now(UTC).strftime("%Y-%m")
    current = json.loads(run("--month", now, "--json").output)
    assert current["issued"] == "" and current["price_per_kwh"] == "0.5"
    assert current["rule"] == "equal" and current["server_cost"] == "2000.0"
    assert current["made_with"].startswith("not issued, made with today's commune.toml")
    for lang, said in (
        ("en_US.UTF-8", f"{now} is not over: its statement cannot be issued yet"),
        ("fr_FR.UTF-8", f"{now} n'est pas fini\u00a0: son relevé ne peut pas encore être émis"),
    ):
        refused = run("--month", now, "--issue", lang=lang)
        assert refused.exit_code != 0 and said in refused.output, refused.output
        assert len(refused.output.strip().splitlines()) == 1, refused.output
    with commune.engine.connect() as conn:
        assert [e for e in entries(conn) if e["action"] == "statement"][1:] == []


def test_the_pages_say_a_few_minutes_of_service_as_the_files_do(tmp_path):
    """/statement and /transparency said a few minutes of service "0,0 h" (a draw at rest of
    nothing beside its counted watt-hours) while the CLI and the files said "0,050 h"."""
    import html
    import re
    from datetime import timedelta

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.conftest import make_person
    from tests.test_web import Browser

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text("[energy]\nidle_watts = 100\n", encoding="utf-8")
    with Commune(home) as c:
        make_person(c, "alice", "Ville A", "cooperative-admin")
        with c.engine.begin() as conn:  # the service's first row, three minutes ago
            ledger(conn, None, 1.0, at=datetime.now(UTC) - timedelta(minutes=3))
        alice = Browser(create_app(c))
        alice.sign_in("alice")
        for lang, figure in (("fr", r"0,05\d h"), ("en", r"0\.05\d h")):
            for path in ("/statement", "/transparency"):
                page = html.unescape(alice.get(path, headers={"Accept-Language": lang}).text)
                assert re.search(figure, page), (path, lang, re.findall(r"\S+ h\b", page))


@pytest.mark.parametrize("path", ["/statement", "/payouts"])
def test_a_bad_month_on_the_page_is_said_in_its_form(tmp_path, path):
    """A month typed by hand (a browser without a month picker shows a text field) as
    "2026-13" took the reader to an error page, the form gone; now the form says, in one
    line, what to write, with what was typed."""
    import html
    import re

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.conftest import make_person
    from tests.test_web import Browser

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:
        make_person(c, "alice", "Ville A", "cooperative-admin")
        alice = Browser(create_app(c))
        alice.sign_in("alice")
        for lang, said in (
            ("en", "Month must look like 2026-11, got '2026-13'."),
            ("fr", "Le mois doit s'écrire comme 2026-11, reçu '2026-13'."),
        ):
            r = alice.get(f"{path}?month=2026-13", headers={"Accept-Language": lang})
            assert r.status_code == 400
            alerts = re.findall(r'<p class="error" role="alert" id="month-error">(.*?)</p>', r.text)
            assert [html.unescape(a) for a in alerts] == [said], alerts
            assert f'<form method="get" action="{path}"' in r.text
            assert 'value="2026-13" aria-describedby="month-error"' in r.text


@pytest.mark.parametrize("currency", ["", "  ", "E U R"])
def test_a_currency_that_is_not_one_word_is_refused_in_one_line(home, currency):
    """currency = "" was taken: the statement read "1300.00 " with no money named, and the
    French of its notes, which read the currency as one word, was lost with a space in it."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    (home / "commune.toml").write_text(
        f'[cooperative]\ncurrency = "{currency}"\n', encoding="utf-8"
    )
    for lang, said in (
        (
            "en_US.UTF-8",
            'cooperative.currency in commune.toml must be a currency code, one word such as "EUR"'
            f', got "{currency}"',  # quoted as TOML writes it
        ),
        (
            "fr_FR.UTF-8",
            "cooperative.currency dans commune.toml doit être le code d'une devise, un mot comme "
            f'"EUR", reçu "{currency}"',
        ),
    ):
        r = CliRunner().invoke(
            cli, ["--home", str(home), "statement", "--month", "2026-11"], env={"LANG": lang}
        )
        assert r.exit_code == 78 and said in r.output, (r.output, r.exception)
        assert len(r.output.strip().splitlines()) == 1, r.output


def test_an_issued_months_hash_is_carried_and_checked(three, home):
    """Issuing recorded a SHA-256 that nothing showed and nothing compared: the files handed
    out could not be checked against the log, and an issued month whose figures changed
    since (a ledger restored or edited, an upgrade computing otherwise) read as issued."""
    from click.testing import CliRunner

    from commune.account.statement import digest
    from commune.cli import cli
    from commune.store.audit import entries

    commune, (a, _, _) = three

    def run(*args: str, lang: str = "en_US.UTF-8"):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(
            cli, ["--home", str(home), "statement", "--month", "2026-11", *args], env={"LANG": lang}
        )

    issued = json.loads(run("--issue", "--json").output)
    with commune.engine.connect() as conn:
        [entry] = [e for e in entries(conn) if e["action"] == "statement"]
    recorded = json.loads(entry["details"])["sha256"]
    # The JSON handed out names the hash the audit log holds, and its figures hash to it.
    assert issued["sha256"] == recorded and len(recorded) == 64
    assert digest(commune.statement("2026-11")) == recorded
    again = json.loads(run("--json").output)
    assert again["sha256"] == recorded and again["notices"] == issued["notices"] == []
    # The ledger changed after the issue: the month says its figures are not the bill.
    with commune.engine.begin() as conn:
        ledger(conn, a, 500.0)
    changed = json.loads(run("--json").output)
    assert changed["sha256"] == recorded and changed["total"] != issued["total"]
    [notice] = changed["notices"]
    assert notice.startswith(
        f"its figures are no longer those issued on {issued['issued'][:10]} (SHA-256 "
        f"{recorded[:12]} in the audit log, "
    ), notice
    french = run(lang="fr_FR.UTF-8").output
    assert f"ses chiffres ne sont plus ceux émis le {issued['issued'][:10]}" in french, french
    assert "les fichiers émis alors font foi" in french


def test_a_month_issued_before_a_setting_existed_still_matches_its_hash(three):
    """An issue recorded by a Commune whose [cooperative] had one setting fewer: made again,
    the statement named the setting at its default, which its hash never covered, and read
    as changed since it was issued (the figures were the same)."""
    from sqlalchemy import select

    from commune.account.statement import digest
    from commune.store.schema import audit_log

    commune, _ = three
    commune.issue_statement("2026-11")
    # As an older Commune recorded it: no floor_eur in its settings, nor in its hash.
    then = commune.statement("2026-11")
    del then.settings["floor_eur"]
    with commune.engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.action == "statement")).one()
        details = json.loads(row.details)
        del details["settings"]["floor_eur"]
        details["sha256"] = digest(then)
        conn.execute(
            update(audit_log).where(audit_log.c.id == row.id).values(details=json.dumps(details))
        )
    again = commune.statement("2026-11")
    assert again.notices == [] and again.sha256 == details["sha256"]
    assert "floor_eur" not in again.made_with and again.total == then.total


def test_only_the_operator_issues_a_month_whichever_face_calls(three):
    """The library issued a month for any actor it was given: only the faces decided who
    called it, and one calling as a signed-in cooperative admin would have fixed the month's
    bill with settings they do not hold. The policy refuses, with its reason, before
    anything is written; the operator still issues."""
    from commune.errors import Forbidden
    from commune.store.audit import entries
    from commune.text.messages import localise
    from tests.conftest import make_key

    commune, _ = three
    make_key(commune, "claire", "Ville A", "cooperative-admin")
    admin = commune.actor("claire")
    with pytest.raises(Forbidden) as refused:
        commune.issue_statement("2026-11", actor=admin)
    assert str(refused.value) == (
        "issuing a month is the operator's, from the host, with commune.toml's settings; "
        "claire is cooperative-admin (the operator issues it on the host: commune statement "
        "--month 2026-11 --issue)"
    )
    assert localise(str(refused.value), "fr") == (
        "émettre un mois revient à l'opérateur, depuis l'hôte, avec les réglages de "
        "commune.toml\u00a0; claire est administrateur de la coopérative (l'opérateur l'émet "
        "sur l'hôte\u00a0: commune statement --month 2026-11 --issue)"
    )
    with commune.engine.connect() as conn:
        assert [e for e in entries(conn) if e["action"] == "statement"] == []
    assert commune.statement("2026-11").issued == ""
    assert commune.issue_statement("2026-11").issued  # the operator's, as the CLI calls it


def test_who_may_not_issue_is_refused_before_the_month_is_made_or_locked(three, monkeypatch):
    """The payouts refused someone who may not issue before making the month; the statement
    made it first, under the audit log's lock (the whole database's write lock on SQLite):
    a cooperative admin was told their month was malformed, as if that were theirs to fix,
    and every writer waited while a statement they could never issue was built."""
    from commune.errors import Forbidden
    from commune.store import db
    from tests.conftest import make_key

    commune, _ = three
    make_key(commune, "claire", "Ville A", "cooperative-admin")
    admin = commune.actor("claire")
    with pytest.raises(Forbidden, match="issuing a month is the operator's"):
        commune.issue_statement("abc", actor=admin)
    locked = []
    monkeypatch.setattr(db, "lock", lambda conn, kind, key=0: locked.append(kind))
    with pytest.raises(Forbidden):
        commune.issue_statement("2026-11", actor=admin)
    assert locked == []


def test_a_month_without_members_is_not_issued_and_says_why(commune):
    """`statement --month 2026-11 --issue` before any member joined fixed the month's
    total as "nobody's share" for ever: an issue with no line, that no member was billed."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.errors import InvalidRequest
    from commune.store.audit import entries

    with commune.engine.begin() as conn:
        ledger(conn, None, 50.0)  # the operator's own work
    with pytest.raises(InvalidRequest) as refused:
        commune.issue_statement("2026-11")
    assert str(refused.value) == (
        "no member was in the cooperative in 2026-11: a month with nobody to bill is not "
        "issued (add members with commune member add, then issue a month they were in)"
    )
    with commune.engine.connect() as conn:
        assert [e for e in entries(conn) if e["action"] == "statement"] == []
    assert commune.statement("2026-11").issued == ""
    home = str(commune.settings.home)
    commune.close()
    args = ["--home", home, "statement", "--month", "2026-11", "--issue"]
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
    assert out.exit_code != 0 and "Traceback" not in out.output
    [line] = out.output.strip().splitlines()
    assert line == (
        "erreur\u00a0: aucun membre n'était dans la coopérative en 2026-11\u00a0: un mois sans "
        "personne à facturer n'est pas émis (ajoutez des membres avec commune member add, "
        "puis émettez un mois où ils étaient)"
    ), out.output


def test_an_issued_months_figures_do_not_hang_on_the_order_the_database_groups_members_in(
    tmp_path, monkeypatch
):
    """PostgreSQL returns GROUP BY's groups in no promised order: the month's kWh, summed in
    that order, differed in their last digit when a plan changed, and so did the SHA-256 its
    issue recorded: the bill read as altered."""
    from commune.account import statement as st
    from commune.config import CooperativeSettings
    from commune.core import Commune
    from commune.govern.members import add_member
    from commune.store.schema import members

    home = tmp_path / "home"
    home.mkdir()
    with Commune(home) as c, c.engine.begin() as conn:
        a = add_member(conn, "Ville A", "town")
        b = add_member(conn, "Asso B", "association")
        conn.execute(update(members).values(created_at=datetime(2026, 9, 1, tzinfo=UTC)))

        def ingest(wh: float) -> dict[str, float]:
            return {
                "requests": 1,
                "tokens": 0,
                "wh": wh,
                "gco2e": 0.0,
                "ingest_wh": wh,
                "ingest_gco2e": 0.0,
            }

        grouped = {None: ingest(0.1), a: ingest(0.2), b: ingest(0.3)}
        settings = CooperativeSettings()
        digests = set()
        for order in ([None, a, b], [b, a, None]):  # SQLite's, and another plan's
            monkeypatch.setattr(
                st, "totals_by_member", lambda *_, order=order: {k: grouped[k] for k in order}
            )
            digests.add(st.digest(st.build_statement(conn, settings, "2026-10")))
        assert len(digests) == 1


def test_the_statement_page_says_the_operator_changes_the_settings(tmp_path):
    """A town hall's member admin read on /statement « baissez floor_eur dans la section
    [cooperative] de commune.toml » and « ajoutez des membres avec commune member add »: a
    file and a command she does not have, as if the next step were hers; and « 1300,00 EUR »
    in those notes beside « 1 300,00 EUR » in the table. The page says that the operator does
    it, and writes the amounts as the table does."""
    import html
    import re

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.conftest import make_person
    from tests.test_web import Browser

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(
        "[cooperative]\nserver_cost_eur_month = 1300\nfloor_eur = 900\n", encoding="utf-8"
    )
    with Commune(home) as c:
        make_person(c, "sandrine", "Mairie de Valbois", "member-admin")
        with c.engine.begin() as conn:
            add_member(conn, "Agglo du Val")
        sandrine = Browser(create_app(c))
        sandrine.sign_in("sandrine")
        notes = []
        for month in ("", "2020-01"):
            page = sandrine.get(f"/statement?month={month}", headers={"Accept-Language": "fr"})
            shown = re.findall(r'<p class="notice" role="note">(.*?)</p>', page.text)
            notes += [html.unescape(n) for n in shown]
    floor = next(n for n in notes if n.startswith("Le plancher"))
    nobody = next(n for n in notes if n.startswith("Aucun membre"))
    assert "baissez" not in floor and "l'opérateur baisse floor_eur" in floor, floor
    assert "ajoutez" not in nobody and "l'opérateur ajoute des membres" in nobody, nobody
    assert "900,00\u00a0EUR" not in floor and "900,00 EUR" in floor, floor
    assert "(1\u202f300,00 EUR)" in floor, floor
    assert "ses 1\u202f300,00 EUR" in nobody, nobody


def test_a_members_statement_says_the_operator_lowers_the_floor(three, tmp_path):
    """Each member's HTML statement, the bill its treasurer reads, said « (baissez floor_eur
    dans la section [cooperative] de commune.toml) » and "(lower floor_eur …)": a file its
    readers do not have, as if the step were theirs (/statement was put right, not the bill).
    It says that the operator does it, in both languages; the operator's own statement keeps
    the step as theirs."""
    from commune.cli.accounting import french_statement
    from commune.text.messages import localise

    commune, _ = three
    with commune.engine.connect() as conn:
        stmt = build_statement(conn, CooperativeSettings(rule="usage", floor_eur=500), "2026-11")
    export(stmt, tmp_path / "out")
    from html import unescape

    html = unescape((tmp_path / "out" / "statement-2026-11-ville-a.html").read_text())
    assert "baissez" not in html and "(lower floor_eur" not in html, html
    assert "(l'opérateur baisse floor_eur dans la section [cooperative] de commune.toml)" in html
    assert "(the operator lowers floor_eur in commune.toml [cooperative])" in html
    assert "chaque membre en paie une part égale" in html
    assert "baissez floor_eur" in french_statement(stmt)  # the operator's, at the command
    one = (
        "the floor of 900.00 EUR reaches the fixed cost (800.00 EUR) of the one member: it pays "
        "the fixed cost, not the floor (the operator lowers floor_eur in commune.toml "
        "[cooperative])"
    )
    assert localise(one, "fr") == (
        "le plancher de 900,00 EUR atteint le coût fixe (800,00 EUR) du seul membre\u00a0: il "
        "paie le coût fixe, pas le plancher (l'opérateur baisse floor_eur dans la section "
        "[cooperative] de commune.toml)"
    )


def test_the_statement_s_notes_write_their_amounts_as_its_lines_do(three, home):
    """`commune statement` in French wrote its total « 1 300,01 EUR » and, in the note under
    it, « ses 1300,01 EUR ne sont la part de personne » (a month before any member) or « le
    coût fixe (1300,00 EUR) » (a floor that cannot hold): the same amount written two ways
    on one screen, and in each member's HTML file. The notes group their thousands too."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.text.numbers import NARROW_NBSP

    (home / "commune.toml").write_text("[cooperative]\nfloor_eur = 500\n", encoding="utf-8")
    notes = {}
    for month in ("2026-11", "2020-01"):  # three members held to 500 EUR; none yet
        r = CliRunner().invoke(
            cli, ["--home", str(home), "statement", "--month", month], env={"LANG": "fr_FR"}
        )
        assert r.exit_code == 0, r.output
        head, *rest = r.output.splitlines()
        notes[month] = next(line for line in rest if line.startswith("  note"))
        cents = "01" if month == "2026-11" else "00"
        assert f" = serveur 1{NARROW_NBSP}300,{cents} " in head, head  # the fixed cost
    assert f"coût fixe (1{NARROW_NBSP}300,01 EUR)" in notes["2026-11"], notes
    assert "le plancher de 500,00 EUR pour chacun des 3 membres" in notes["2026-11"], notes
    assert f"ses 1{NARROW_NBSP}300,00 EUR ne sont la part de personne" in notes["2020-01"], notes
    r = CliRunner().invoke(
        cli,
        ["--home", str(home), "statement", "--month", "2026-11", "--out", str(home / "out")],
        env={"LANG": "fr_FR"},
    )
    page = (home / "out" / "statement-2026-11-ville-a.html").read_text(encoding="utf-8")
    assert f"coût fixe (1{NARROW_NBSP}300,01 EUR)" in page, page
    assert "(1300.01 EUR)" in page  # the English line beneath, as the JSON keeps it
