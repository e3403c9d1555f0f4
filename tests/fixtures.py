"""Small documents in every supported format, made by the tests themselves."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path


def make_pdf(pages: list[str | None]) -> bytes:
    """A minimal, valid PDF of Helvetica text (latin-1): one line per page, or a line per
    "\n" in a page's text, each 30 points below the one before. A page given as None is a
    scanned one: an image over the page, and no text."""
    objects: list[bytes] = []
    kids = []
    n_pages = len(pages)
    image_id = 4 + 2 * n_pages  # after the pages: a grey pixel, drawn over a scanned page
    # 1: catalog, 2: pages, 3: font, then (page, content) pairs
    for i, text in enumerate(pages):
        page_id, content_id = 4 + 2 * i, 5 + 2 * i
        kids.append(f"{page_id} 0 R")
        if text is None:
            stream = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
        else:
            escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            shown = b") Tj 0 -30 Td (".join(line.encode("latin-1") for line in escaped.split("\n"))
            stream = b"BT /F1 12 Tf 72 720 Td (" + shown + b") Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 {image_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream"
    )
    head = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {n_pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(head + objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    )
    return out.getvalue()


def make_odt(path: Path, title: str, sections: list[tuple[str, list[str]]]) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text=title))
    for heading, paragraphs in sections:
        doc.text.addElement(H(outlinelevel=2, text=heading))
        for para in paragraphs:
            doc.text.addElement(P(text=para))
    doc.save(str(path))
    return path


def edited_odt(directory: Path, edit: Callable[[bytes], bytes]) -> bytes:
    """A small ODT (make_odt's) whose content.xml went through ``edit``: a malformed one, as
    a hostile or broken file would be."""
    import zipfile

    path = make_odt(directory / "model.odt", "Titre", [("Section", ["Un paragraphe de texte."])])
    out = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, edit(data) if item.filename == "content.xml" else data)
    path.unlink()
    return out.getvalue()


def make_ods(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """A spreadsheet: each sheet's rows of cells ("" for an empty cell), and after them the
    million empty rows repeated that LibreOffice writes."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for cells in rows:
            row = TableRow()
            for text in cells:
                cell = TableCell()
                if text:
                    cell.addElement(P(text=text))
                row.addElement(cell)
            row.addElement(TableCell(numbercolumnsrepeated=16000))
            table.addElement(row)
        empty = TableRow(numberrowsrepeated=1048000)
        empty.addElement(TableCell(numbercolumnsrepeated=16384))
        table.addElement(empty)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def make_docx(path: Path, title: str, sections: list[tuple[str, list[str]]]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=2)
        for para in paragraphs:
            document.add_paragraph(para)
    document.save(str(path))
    return path


def with_footnotes(docx_path: Path, notes: dict[str, str], kind: str = "footnote") -> bytes:
    """The Word file at ``docx_path`` with footnotes as Word writes them: each paragraph
    ending with a key of ``notes`` gets a reference to a note of its value, in
    word/footnotes.xml after Word's two separators; endnotes, in word/endnotes.xml, with
    ``kind="endnote"``."""
    import re
    import zipfile
    from xml.sax.saxutils import escape

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = [
        f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>',
        f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        f"<w:continuationSeparator/></w:r></w:p></w:{kind}>",
    ]
    for number, text in enumerate(notes.values(), 1):
        body.append(
            f'<w:{kind} w:id="{number}"><w:p><w:r><w:{kind}Ref/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {escape(text)}</w:t></w:r></w:p></w:{kind}>'
        )
    part = f"<w:{kind}s {w}>{''.join(body)}</w:{kind}s>"
    footnotes = f'<?xml version="1.0" encoding="UTF-8"?>{part}'
    out = io.BytesIO()
    with zipfile.ZipFile(docx_path) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            raw = zin.read(item.filename)
            data = raw.decode("utf-8") if item.filename.endswith((".xml", ".rels")) else ""
            if item.filename == "word/document.xml":
                for number, ending in enumerate(notes, 1):
                    data = re.sub(
                        f"({re.escape(escape(ending))}</w:t></w:r>)",
                        rf'\1<w:r><w:{kind}Reference w:id="{number}"/></w:r>',
                        data,
                        count=1,
                    )
            elif item.filename == "word/_rels/document.xml.rels":
                data = data.replace(
                    "</Relationships>",
                    f'<Relationship Id="rId{kind}s" Type="http://schemas.openxmlformats.org/'
                    f'officeDocument/2006/relationships/{kind}s" Target="{kind}s.xml"/>'
                    "</Relationships>",
                )
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    "</Types>",
                    f'<Override PartName="/word/{kind}s.xml" ContentType="application/'
                    f'vnd.openxmlformats-officedocument.wordprocessingml.{kind}s+xml"/></Types>',
                )
            zout.writestr(item, data.encode("utf-8") if data else raw)
        zout.writestr(f"word/{kind}s.xml", footnotes)
    return out.getvalue()


HTML_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Gestion des déchets</title></head><body>
<nav><a href="/">Accueil</a> | <a href="/plan">Plan du site</a> |
<a href="/contact">Contact</a></nav>
<header><p>Mairie de Saint-Exemple — portail des services municipaux en ligne</p></header>
<main>
<h1 id="dechets">Gestion des déchets</h1>
<p>La collecte des ordures ménagères a lieu le mardi matin dans toutes les rues de la commune.
Les bacs doivent être sortis la veille au soir et rentrés après le passage du camion.</p>
<h2 id="tri">Tri sélectif</h2>
<p>Les emballages en plastique, les cartons et les canettes vont dans le bac jaune,
qui est collecté le jeudi une semaine sur deux.</p>
<h2 id="encombrants">Encombrants</h2>
<p>Les encombrants sont ramassés sur rendez-vous : téléphonez aux services techniques
au moins une semaine avant la date souhaitée pour convenir d'un passage.</p>
</main>
<footer><p>© Mairie de Saint-Exemple — mentions légales — politique de cookies</p></footer>
</body></html>
"""

MARKDOWN_EN = """# Library services

## Opening hours

The municipal library is open from Tuesday to Saturday, from ten in the morning
until six in the evening. It is closed on public holidays.

## Borrowing books

Residents may borrow up to eight books for three weeks with a free library card.
Renewals can be requested online or at the front desk.
"""

TEXT_EN = """Swimming pool

The swimming pool offers lessons for children every Wednesday afternoon.
Adults can swim in the lanes every evening after seven o'clock.
"""


def headless_chromium(user_dir: Path, width: int, *flags: str):  # type: ignore[no-untyped-def]
    """Debian's Chromium, headless, with a French town hall's language preferences: the one
    browser the web tests drive (tests/test_browser.py, tests/test_phones.py); ``flags``:
    Chromium's own, added."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromedriver are missing: run make test as root"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={user_dir}",
        f"--window-size={width},1000",
        *flags,
    ):
        options.add_argument(flag)
    # A person in a French town hall: the browser asks for French first.
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr,en"})
    return webdriver.Chrome(service=Service(driver), options=options)


def make_rates_ods(
    path: Path,
    rows: int,
    bold_header: bool = False,
    amounts: bool = True,
    then: list[list[str | float]] | None = None,
) -> Path:
    """A town hall's rates as LibreOffice saves them: a title, a header row (bold when
    ``bold_header``), then ``rows`` rows of a band and its rates, as amounts (a float with a
    currency's text) when ``amounts``, else as text; then, after an empty row, the rows of
    ``then``, another table of the same sheet."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TextProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    bold = Style(name="ce1", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    table = Table(name="Cantine")

    def add(cells: list[str | float], style: Style | None = None) -> None:
        row = TableRow()
        for value in cells:
            if isinstance(value, float):
                cell = TableCell(valuetype="float", value=value)
                value = f"{value:.2f} €".replace(".", ",")
            else:
                cell = TableCell(stylename=style) if style else TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)

    add(["Tarifs de la restauration scolaire 2026"])
    add(["Quotient familial", "Prix du repas", "Garderie du soir"], bold if bold_header else None)
    for band in range(rows):
        meal, care = 1.0 + band / 20, 0.5 + band / 40
        add(
            [f"De {band * 100} à {band * 100 + 99} €"]
            + ([meal, care] if amounts else [f"{meal:.2f} €", f"{care:.2f} €"])
        )
    if then:
        table.addElement(TableRow())
        for cells in then:
            add(cells)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path
