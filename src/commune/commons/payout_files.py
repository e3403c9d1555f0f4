"""A payouts statement as files: CSV for a French spreadsheet, JSON, and HTML pages.

The CSV is what LibreOffice Calc and Excel open right in a French locale without an import
dialog: semicolons between fields (the comma is the decimal mark there), UTF-8 with a byte
order mark (without it Excel reads the accents as Windows-1252) and amounts with a decimal
comma. JSON keeps amounts as exact strings ("12.34"), for programs.
"""

from __future__ import annotations

import csv
import html
import io
import json
from decimal import Decimal
from pathlib import Path

from commune.commons.payouts import FUND, Line, PayoutStatement
from commune.store.files import write_whole
from commune.text import numbers
from commune.text.messages import joined
from commune.text.slugs import slugs
from commune.text.spreadsheet import cell

CSV_HEADER = [
    "mois",
    "contributeur",
    "citations",
    "documents_publies",
    "revues",
    "part",
    "montant",
    "devise",
    "choix",
    "verse_a",
]
CHOICE_FR = {"receive": "perçu", "waive": "renoncé (reste au fonds)", "redirect": "reversé"}


def lapsed_fr(ln: Line) -> str:
    """Why a share redirected to a member was paid to its contributor (payouts.build), in
    French; "" for any other line. A comma, not a colon: the CSV's cells take no French
    typography (a no-break space in a cell is one more character to a script)."""
    if not ln.lapsed:
        return ""
    return f"reversement {joined('à', ln.lapsed)} caduc, parti de la coopérative le {ln.left_on}"


def lapsed_en(ln: Line) -> str:
    """``lapsed_fr`` in English."""
    if not ln.lapsed:
        return ""
    return f"the redirect to {ln.lapsed} lapsed: it left the cooperative on {ln.left_on}"


def choice_fr(ln: Line) -> str:
    """The line's choice in French, with why a redirect lapsed where one did."""
    said = CHOICE_FR[ln.choice]
    return f"{said} ({lapsed_fr(ln)})" if ln.lapsed else said


def comma(value: Decimal | float, places: int = 2) -> str:
    """A number as a French spreadsheet reads it: decimal comma, no thousands separator."""
    return f"{value:.{places}f}".replace(".", ",")


def csv_text(stmt: PayoutStatement, lines: list[Line] | None = None) -> str:
    """The statement's lines (or only ``lines``) as CSV, without the byte order mark (the
    file writer and the web response add it)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for ln in stmt.lines if lines is None else lines:
        w.writerow(
            [
                stmt.month,
                cell(ln.contributor),
                ln.citations,
                ln.documents,
                ln.reviews,
                comma(ln.share, 6),
                comma(ln.amount),
                stmt.currency,
                # In the file's language, as its header: "redirect" under "choix" in a French
                # spreadsheet. JSON keeps the choice's code, for programs.
                cell(choice_fr(ln)),
                "fonds" if ln.paid_to == FUND else cell(ln.paid_to),
            ]
        )
    return buf.getvalue()


def percent(share: float, places: int) -> str:
    """A share of the fund in percent for the HTML pages, as numbers.percent writes it in
    French (the files are French first): a decimal comma and the narrow no-break space
    before "%" that the rest of Commune puts there. A share that rounds to nothing reads
    "< 0,01 %" (escaped), not "0,00 %" beside the cent it earned."""
    if 0 < share * 100 < 10**-places:
        return "&lt; " + numbers.percent(10**-places / 100, places, "fr")
    return numbers.percent(share, places, "fr")


STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
td,th{padding:.3rem .6rem;text-align:right;border-bottom:1px solid #ddd}
th:first-child,td:first-child{text-align:left}table{border-collapse:collapse}"""


def _money(stmt: PayoutStatement, value: Decimal) -> str:
    return f"{comma(value)} {html.escape(stmt.currency)}"


def _rule(stmt: PayoutStatement) -> str:
    w = stmt.weights
    return (
        f"<p>Pondérations de la charte / charter weights\u00a0: citations {comma(w.citations)}, "
        f"documents publiés / published {comma(w.documents)}, revues / reviews "
        f"{comma(w.reviews)}. Arrondi / rounding\u00a0: plus forts restes au centime / "
        f"{html.escape(stmt.rule)}.</p>"
    )


def _page(title: str, body: str) -> str:
    e = html.escape
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{e(title)}</h1>\n{body}\n</body></html>\n"
    )


def _choice(ln: Line, code: bool = False) -> str:
    """The choice as the HTML pages say it: French, its code (``code``), and why a redirect
    lapsed in both languages."""
    said = CHOICE_FR[ln.choice] + (f" ({ln.choice})" if code else "")
    return f"{said} — {lapsed_fr(ln)} / {lapsed_en(ln)}" if ln.lapsed else said


def statement_html(stmt: PayoutStatement) -> str:
    e = html.escape
    rows = "\n".join(
        f"<tr><td>{e(ln.contributor)}</td><td>{ln.citations}</td><td>{ln.documents}</td>"
        f"<td>{ln.reviews}</td><td>{percent(ln.share, 2)}</td>"
        f"<td>{_money(stmt, ln.amount)}</td><td>{e(_choice(ln))}</td>"
        f"<td>{e('fonds / fund' if ln.paid_to == FUND else ln.paid_to)}</td></tr>"
        for ln in stmt.lines
    )
    u = stmt.unattributed
    fund = _money(stmt, stmt.fund)
    body = f"""<p>Fonds du mois / the month's fund\u00a0: <strong>{fund}</strong></p>
{_rule(stmt)}
<table><thead><tr><th>Contributeur / contributor</th><th>Citations</th>
<th>Documents publiés / published</th><th>Revues / reviews</th><th>Part / share</th>
<th>Montant / amount</th><th>Choix / choice</th><th>Versé à / paid to</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot><tr><th>Total</th><td colspan="4"></td>
<td><strong>{_money(stmt, sum((ln.amount for ln in stmt.lines), Decimal(0)))}</strong></td>
<td colspan="2"></td></tr></tfoot></table>
<p>Versé aux contributeurs / paid to contributors\u00a0: {_money(stmt, stmt.paid)}\u00a0;
reversé à des membres / redirected to members\u00a0: {_money(stmt, stmt.redirected)}\u00a0;
reste au fonds / kept by the fund\u00a0: {_money(stmt, stmt.kept)}.</p>
<p>Non attribués (sans contributeur nommé, ne rapportent rien) / unattributed (no named
contributor, earn nothing)\u00a0: {u.get("citations", 0)} citations,
{u.get("documents", 0)} documents, {u.get("reviews", 0)} revues / reviews.</p>"""
    return _page(f"Rétributions {stmt.month} / payouts", body)


def contributor_html(stmt: PayoutStatement, ln: Line) -> str:
    e = html.escape
    to = "fonds / fund" if ln.paid_to == FUND else ln.paid_to
    body = f"""<table>
<tr><th>Citations dans des réponses / citations in answers</th><td>{ln.citations}</td></tr>
<tr><th>Documents publiés / documents published</th><td>{ln.documents}</td></tr>
<tr><th>Revues de curation / curation reviews</th><td>{ln.reviews}</td></tr>
<tr><th>Part du fonds / share of the fund</th><td>{percent(ln.share, 4)}</td></tr>
<tr><th>Montant / amount</th><td><strong>{_money(stmt, ln.amount)}</strong></td></tr>
<tr><th>Choix / choice</th><td>{e(_choice(ln, code=True))}</td></tr>
<tr><th>Versé à / paid to</th><td>{e(to)}</td></tr>
</table>
<p>Fonds du mois / the month's fund\u00a0: {_money(stmt, stmt.fund)}.</p>
{_rule(stmt)}"""
    return _page(f"Rétribution {stmt.month} — {ln.contributor}", body)


def export(stmt: PayoutStatement, directory: Path) -> list[Path]:
    """Write the whole statement (CSV, JSON, HTML) and each contributor's, and return the
    files written. Two names with the same slug get numbered files, never one file."""
    directory.mkdir(parents=True, exist_ok=True)
    whole = directory / f"payouts-{stmt.month}"
    data = stmt.to_json()
    files = {
        whole.with_suffix(".csv"): "\ufeff" + csv_text(stmt),
        whole.with_suffix(".json"): json.dumps(data, indent=2, ensure_ascii=False),
        whole.with_suffix(".html"): statement_html(stmt),
    }
    names = slugs((ln.contributor for ln in stmt.lines), "contributor")
    for ln, slug in zip(stmt.lines, names, strict=True):
        base = directory / f"payouts-{stmt.month}-{slug}"
        one = {k: v for k, v in data.items() if k not in ("lines", "recipients")}
        one["contributor"] = next(x for x in data["lines"] if x["contributor"] == ln.contributor)
        files[base.with_suffix(".csv")] = "\ufeff" + csv_text(stmt, [ln])
        files[base.with_suffix(".json")] = json.dumps(one, indent=2, ensure_ascii=False)
        files[base.with_suffix(".html")] = contributor_html(stmt, ln)
    for path, text in files.items():
        # newline="": the CSV carries its own CRLF, as spreadsheets expect. Each file whole
        # or not at all: cut short by a kill, a statement read as paying less than its fund.
        write_whole(path, text, newline="")
    return list(files)
