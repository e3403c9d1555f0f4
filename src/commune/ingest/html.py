"""HTML: trafilatura decides what is main content; the page's headings give structure.

trafilatura is the field's standard for removing navigation, menus and footers,
but it flattens headings away (DocBook pages lose every section title). So the
page is walked once for headings and blocks, and a block is kept where
trafilatura kept its text too, or where it lies in the element that holds what
trafilatura kept (the page's main content): trafilatura also leaves out boxes and
examples inside it, which in a manual are content (the Debian handbook lost its
NOTE and TIP boxes and a fifth of its listings, 30% of its words). Pages too small
for trafilatura to judge keep every block outside obvious boilerplate elements.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from commune.errors import IngestError
from commune.ingest.encoding import by_bom, holds_utf8, utf8_cut_short, windows_1252_by_chance
from commune.ingest.model import MARKED, Block, Parsed, names_columns, under

# An lxml element: lxml ships no type information, and its stubs are not a dependency.
Element = Any

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Elements whose own inline text is one block. Containers count too: DocBook
# writes paragraphs as <div class="para"> with nested <div>s inside.
_BLOCKS = {
    "p",
    "li",
    "pre",
    "blockquote",
    "dd",
    "dt",
    "tr",
    "figcaption",
    "caption",
    "div",
    "section",
    "article",
    "main",
    "body",
    "address",
    "header",  # an article's own (_own_header): the site's banner is dropped before
    # A disclosure's label, a FAQ's question ("<details><summary>Et pour la cantine ?"):
    # read as nothing, its answer stood without it.
    "summary",
}
_STRUCTURE = (
    _BLOCKS
    | set(_HEADINGS)
    | {
        "ul",
        "ol",
        "dl",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "td",
        "th",
        "figure",
        "details",
        "summary",
    }
)
_BOILERPLATE = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "template",
    "svg",
    "button",
    "select",
    "iframe",
    "head",
)
# Navigation that pages mark by class rather than by element (DocBook, Sphinx,
# most CMS themes): tables of contents, breadcrumbs, previous/next bars.
_BOILERPLATE_CLASSES = {
    "toc",
    "navheader",
    "navfooter",
    "docnav",
    "breadcrumb",
    "breadcrumbs",
    "menu",
    "skip-link",
    "sphinxsidebar",
    "related",
}
# A theme's sidebar is a column of links; DocBook's (the handbook's NOTE, TIP, CULTURE
# boxes) is prose. Dropped when most of its words are links.
_ASIDE_CLASSES = {"sidebar"}
NAVIGATION_LINK_SHARE = 0.5
_SHOWN_ADDRESS = re.compile(r"://|@|^\s*www\.")
# The main content: the deepest element holding this share of the words trafilatura kept
# (one stray block it kept elsewhere, a title or a caption, must not widen it to the body).
MAIN_SHARE = 0.9
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def _clean(text: str) -> str:
    return _WS.sub(" ", text.replace("\xa0", " ")).strip()


def _shingles(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _own_text(el: Element) -> str:
    """The element's text without the text of nested block-level elements."""
    if el.tag == "pre":
        return str(el.text_content()).strip("\n")
    if el.tag == "tr":
        return " | ".join(_cells(el).values())
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag in _STRUCTURE:
            parts.append(" ")
        elif isinstance(child.tag, str):
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return _clean("".join(parts))


# A table's header row (None for none) and each of its rows' cells by column (_grid).
Table = tuple[Element | None, dict[Element, dict[int, str]]]


def _headed(row: Element, tables: dict[Element, Table]) -> str | None:
    """A table row with each cell under its column's header (<th>), "Prix du repas : 3 €",
    as the other readers write a table's row, and the cells of the rows above that span it
    (rowspan) in their place; None for a row as its own cells read. Bare, a row of a long
    table of rates was chunked far from the header that said which amount was the meal's.
    ``tables`` holds each table's header row and cells, found once: looked for at each row,
    the table's rows were each walked again (8,000 rows, 18 seconds)."""
    table = next((a for a in row.iterancestors() if a.tag == "table"), None)
    if table is None:
        return None
    if table not in tables:
        grid = _grid(table)
        tables[table] = (_header_row(table, grid), grid)
    header, grid = tables[table]
    cells = grid.get(row, {})
    if header is None or row is header or row.getparent().tag == "thead" or len(cells) < 2:
        spanned = " | ".join(cells.values())
        return spanned if cells != _cells(row) else None
    heads = grid.get(header, {})
    return " | ".join(under(heads.get(col), text) for col, text in cells.items())


def _span(cell: Element, name: str) -> int:
    given = (cell.get(name) or "1").strip()
    return min(int(given), 1000) if given.isascii() and given.isdigit() and given != "0" else 1


def _cells(row: Element, empty: bool = False) -> dict[int, str]:
    """A table row's cells with text (or all, ``empty`` too), by the column each starts in
    (a colspan counted)."""
    cells: dict[int, str] = {}
    column = 0
    for cell in row:
        if not isinstance(cell.tag, str) or cell.tag not in ("td", "th"):
            continue
        if (text := _cell_text(cell)) or empty:
            cells[column] = text
        column += _span(cell, "colspan")
    return cells


def _grid(table: Element) -> dict[Element, dict[int, str]]:
    """Each row of ``table`` (not of a table inside it), its cells by column, a cell that
    spans rows (rowspan) in each row it spans: "Lundi" over its morning and its afternoon.
    Counted from the row alone, the afternoon's cells stood a column to the left, under
    the wrong headers ("Jour : Après-midi | Créneau : 14h-18h"), and said no day."""
    grid: dict[Element, dict[int, str]] = {}
    groups = [c for c in table if c.tag in ("thead", "tbody", "tfoot")]
    for group in [table, *groups]:  # a rowspan stops at its group's end, as HTML has it
        above: dict[int, tuple[int, str]] = {}  # column: (rows it still spans, its text)
        for row in (r for r in group if r.tag == "tr"):
            cells: dict[int, str] = {}
            column = 0
            spanning = dict(above)
            for cell in row:
                if not isinstance(cell.tag, str) or cell.tag not in ("td", "th"):
                    continue
                while column in spanning:
                    if text := spanning[column][1]:
                        cells[column] = text
                    column += 1
                text = _cell_text(cell)
                if text:
                    cells[column] = text
                width, height = _span(cell, "colspan"), _span(cell, "rowspan")
                if height > 1:
                    above[column] = (height, text)
                    above.update((c, (height, "")) for c in range(column + 1, column + width))
                column += width
            for later in sorted(c for c in spanning if c >= column):
                if text := spanning[later][1]:
                    cells[later] = text
            grid[row] = dict(sorted(cells.items()))
            for c, (left, text) in list(above.items()):  # rows it spans, this one with them
                if left > 1:
                    above[c] = (left - 1, text)
                else:
                    del above[c]
    return grid


def _header_row(table: Element, grid: dict[Element, dict[int, str]]) -> Element | None:
    """The header row of ``table``, or None: the last row of its <thead>, or else its first
    row, when that row's cells are all <th>, or name its columns over the rows of ``grid``
    below it (model.names_columns): a CMS's table often has no <th>, its first row
    "<td><strong>Jour</strong></td><td><strong>Horaires</strong></td>", and "Lundi |
    Fermé" had said no "Horaires"."""
    head = next((c for c in table if c.tag == "thead"), None)
    if head is not None:
        rows = [r for r in head if r.tag == "tr"]
        first = rows[-1] if rows else None
    else:
        body = next((c for c in table if c.tag == "tbody"), table)
        first = next((r for r in body if r.tag == "tr"), None)
    if first is None:
        return None
    cells = [c for c in first if isinstance(c.tag, str) and c.tag in ("td", "th")]
    if len(cells) < 2:
        return None
    if all(c.tag == "th" for c in cells):
        return first
    if _laid_out(table, cells):
        return None
    starts = list(_cells(first, empty=True))
    below = [[row.get(c, "") for c in starts] for r, row in grid.items() if r is not first]
    return first if names_columns([_cell_text(c) for c in cells], below) else None


def _laid_out(table: Element, first: list[Element]) -> bool:
    """Whether ``table`` lays out a page (as an old site or a page Word saved does) rather
    than holding data, its ``first`` row's cells unmarked: a row of links only, a menu
    ("Accueil | Services | Contact"), or a cell that holds a heading or a table of its own.
    Read under such a row taken for a header (names_columns), the page's text said
    "Services : Bienvenue La mairie est ouverte…", and its footer "Accueil : Plan"."""
    if all(any(a.get("href") for a in c.iter("a")) for c in first if _cell_text(c)):
        return True
    headings = ("h1", "h2", "h3", "h4", "h5", "h6", "table")
    return any(d.tag in headings for c in table.iter("td", "th") for d in c.iterdescendants())


def _cell_text(cell: Element) -> str:
    """A table cell's text, its paragraphs, items and blocks apart: its text content ran
    them together, "01 23 45 67 89</p><p>accueil@mairie.fr" one word, "89accueil", whose
    row then matched no words of the main content and was dropped with the others."""
    from lxml import etree

    parts: list[str] = []
    for event, el in etree.iterwalk(cell, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else None
        if event == "start":
            if tag in _STRUCTURE and el is not cell:
                parts.append(" ")
            if tag is not None:
                parts.append(el.text or "")
        elif el is not cell:
            parts.append(" " if tag in _STRUCTURE else "")
            parts.append(el.tail or "")
    return _clean("".join(parts))


def _anchor(el: Element) -> str | None:
    if el.get("id"):
        return str(el.get("id"))
    for a in el.iter("a"):
        if a.get("id") or a.get("name"):
            return str(a.get("id") or a.get("name"))
    parent = el.getparent()
    while parent is not None:
        if parent.get("id") and parent.tag in ("section", "div"):
            return str(parent.get("id"))
        parent = parent.getparent()
    return None


_SCRIPTS = re.compile(rb"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(rb"<[^>]*>")


def _check_nothing_lost(data: bytes, root: Element, path: Path) -> None:
    """Even lifted, the parser's nesting limit drops what lies deeper, silently: compare
    the words it kept with the words of the raw text, and refuse rather than lose them."""
    raw = _TAGS.sub(b" ", _SCRIPTS.sub(b" ", data)).decode("utf-8", errors="replace")
    raw_words = len(_WORD.findall(raw))
    # Each text apart, as the raw text's tags part them: the text content ran two cells'
    # words together ("familial</th><th>Prix" one word), and a page of short cells (opening
    # hours, rates) counted half its words kept, refused as nested too deeply.
    kept = len(_WORD.findall(" ".join(root.itertext())))
    if raw_words >= 20 and kept < raw_words * 0.5:
        raise IngestError(
            f"{path.name}: nested too deeply to read whole ({kept} of {raw_words} words kept)",
            "flatten the page (it is probably generated), or export it as text",
        )


def _undeclared(data: bytes) -> str:
    """The encoding of a page that declares none: UTF-8 when its bytes are UTF-8, else
    windows-1252, as browsers read such a page in French or English (an old Latin-1 page
    was stored as "Le caf\ufffd est tr\ufffds bon")."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "cp1252" if windows_1252_by_chance(data) else "utf-8"


def read_html(data: bytes, path: Path) -> Parsed:
    import lxml.html
    import trafilatura
    from lxml.etree import ParserError

    text = by_bom(data, path)
    if text is not None:  # UTF-16 or UTF-32 with its mark: read as the UTF-8 it becomes
        data = text.encode("utf-8")
    # A character cut in two at the end (a download stopped short): dropped, so that the
    # page is still UTF-8, not read as Windows-1252 for its last byte ("DÃ©libÃ©ration").
    data = data[: len(data) - utf8_cut_short(data)]
    try:
        # huge_tree lifts libxml2's nesting limit of 255, below which content vanished. A page
        # that declares no charset is read as UTF-8 (libxml2 would assume Latin-1: "aprÃ¨s");
        # a page turned into UTF-8 above, whatever its <meta charset> says.
        if text is not None:
            encoding: str | None = "utf-8"
        else:
            encoding = _encoding(data)
        parser = lxml.html.HTMLParser(huge_tree=True, encoding=encoding)
        root = lxml.html.fromstring(data, parser=parser)
    except (ParserError, ValueError) as exc:
        raise IngestError(f"{path.name}: not readable HTML ({exc})") from None
    _check_nothing_lost(data, root, path)
    # A line break parts words as a space does (a line of its own in a listing): read as
    # nothing, an opening hours cell "9h-12h<br>14h-17h" was one word, "9h-12h14h-17h", and
    # an address "Mairie<br>1 place …" ran into "Mairie1", which no search finds.
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    _word_list_markers(root)
    head_meta = list(root.iter("meta"))
    title_el = root.find(".//title")
    title = _clean(title_el.text_content()) if title_el is not None else ""

    main_text = (
        trafilatura.extract(
            data.decode(encoding, errors="replace") if encoding else data,
            favor_recall=True,
            include_tables=True,
            include_comments=False,
            deduplicate=False,
        )
        or ""
    )
    main = _shingles(main_text, 3)
    judge = len(_WORD.findall(main_text)) >= 30

    for bad in list(root.iter(*_BOILERPLATE)):
        if bad.getparent() is not None and not _own_header(bad):
            bad.drop_tree()
    for el in list(root.iter()):
        classes = set((el.get("class") or "").split()) if isinstance(el.tag, str) else set()
        if el.getparent() is None:
            continue
        if classes & _BOILERPLATE_CLASSES or (classes & _ASIDE_CLASSES and _mostly_links(el)):
            el.drop_tree()

    stack: list[tuple[int, str, str | None]] = []
    # (element, block, whether trafilatura kept its text)
    found: list[tuple[Element, Block, bool]] = []
    items: set[Element] = set()  # the list items whose first block has its marker
    tables: dict[Element, Table] = {}  # each table's header row and cells (_headed)
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _HEADINGS:
            heading = _clean(el.text_content())
            if not heading:
                continue
            level = _HEADINGS[tag]
            _item_marker(el, items, heading)  # a heading opening an item takes its place
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading, _anchor(el)))
            title = title or heading
            continue
        if tag not in _BLOCKS or _inside_pre_or_row(el):
            continue
        text = _own_text(el)
        if not text:
            continue
        kept = True
        if judge:
            shingles = _shingles(text, 3 if len(text.split()) >= 3 else 1)
            kept = bool(shingles) and len(shingles & main) / len(shingles) >= 0.6
        if tag == "tr":
            # Judged above bare, as trafilatura writes the row: under its header, its words
            # ran in no order of trafilatura's, and a long table's rows were all dropped.
            text = _headed(el, tables) or text
        anchor = next((a for _, _, a in reversed(stack) if a), None)
        text = _item_marker(el, items, text) + text
        found.append((el, Block(text, tuple(h for _, h, _ in stack), anchor), kept))
    container = _main_container([(el, b) for el, b, kept in found if kept]) if judge else None
    inside = set(container.iter()) if container is not None else set()
    # Widened to what trafilatura left out of the main content, but not to a menu inside it
    # (a page wrapped whole in one <div> makes that <div> its main content). And to the notes
    # of a page Word saved, which it writes after its text's <div> (_word_note).
    blocks = [
        b
        for el, b, kept in found
        if kept or (el in inside and not _mostly_links(el)) or _word_note(el)
    ]
    # W3C TDMRep: <meta name="tdm-reservation" content="1"> reserves text and data mining.
    reserved = any(
        (m.get("name") or "").lower() == "tdm-reservation" and (m.get("content") or "") == "1"
        for m in head_meta
    )
    return Parsed(
        title=title or path.stem, media_type="text/html", blocks=blocks, tdm_reserved=reserved
    )


def _item_marker(el: Element, items: set[Element], text: str) -> str:
    """The marker of a list item ("- ", or "3. " in a numbered list) when ``el`` is the
    first block of its item, as the other readers write one: the answers read an item as
    such (one word can answer, and a list that goes on is marked), where its text alone
    read as prose. An item's text is its own (``<li>Passeport</li>``) or its first
    paragraph's (DocBook's ``<li><div class="para">…``). A listing, a table's row or a
    heading opening an item gets none, nor a text numbered by hand ("1. Remplir…")."""
    item = el if el.tag == "li" else next(el.iterancestors("li"), None)
    if item is None or item in items:
        return ""
    items.add(item)
    parent = item.getparent()
    if el.tag in ("pre", "tr") or el.tag in _HEADINGS or parent is None or MARKED.match(text):
        return ""
    if parent.tag != "ol":
        return "- "
    return f"{_ordinal(parent, item)}. "


# HTML's rules for parsing integers: spaces, a sign, digits; whatever follows is ignored.
_INTEGER = re.compile(r"[ \t\n\f\r]*([+-]?[0-9]+)")


def _number(written: str | None) -> int | None:
    """An ``<ol start>`` or ``<li value>`` as HTML parses an integer: spaces, a sign, digits,
    whatever follows ignored ("-1", " 3", "4abc"); a number written otherwise ("²", "iv") is
    none."""
    found = _INTEGER.match(written or "")
    return int(found.group(1)) if found else None


def _ordinal(ol: Element, item: Element) -> int:
    """``item``'s number as a browser shows it (HTML's list item ordinal value): the list
    counts from its ``start``, down from its length when ``reversed``, and an item's own
    ``value`` sets its number and the count of the items after it. A page's numbered steps
    are quoted with the numbers the reader sees on it."""
    items = [c for c in ol if c.tag == "li"]
    down = ol.get("reversed") is not None
    start = _number(ol.get("start"))
    number = start if start is not None else (len(items) if down else 1)
    for li in items:
        own = _number(li.get("value"))
        number = own if own is not None else number
        if li is item:
            break
        number += -1 if down else 1
    return number


def _mostly_links(el: Element) -> bool:
    """Whether most of ``el``'s words are the words of links: navigation, not prose. A link
    that shows its own address ("→ https://deb.debian.org/", an e-mail) is a reference the
    reader is given, not a menu entry."""
    words = len(_WORD.findall(el.text_content()))
    linked = sum(
        len(_WORD.findall(a.text_content()))
        for a in el.iter("a")
        if not _SHOWN_ADDRESS.search(a.text_content())
    )
    return words == 0 or linked > NAVIGATION_LINK_SHARE * words


def _main_container(kept: list[tuple[Element, Block]]) -> Element | None:
    """The deepest element holding :data:`MAIN_SHARE` of the kept blocks' words, or None
    when only the page's body holds them (no main content to widen to)."""
    tally: dict[Element, int] = {}
    depth: dict[Element, int] = {}
    total = 0
    for el, block in kept:
        n = len(_WORD.findall(block.text))
        total += n
        for level, a in enumerate(reversed([el, *el.iterancestors()])):
            tally[a] = tally.get(a, 0) + n
            depth[a] = level
    holding = [a for a, n in tally.items() if total and n >= MAIN_SHARE * total]
    if not holding:
        return None
    deepest = max(holding, key=lambda a: depth[a])
    return None if deepest.tag in ("body", "html") else deepest


# A list item's number as Word writes it in a page it saves ("1.", "a)", "iv."): kept.
_WORD_NUMBER = re.compile(r"(?:\d{1,3}|[a-zA-Z]|[ivxlcdmIVXLCDM]{1,6})[.)]")


def _word_list_markers(root: Element) -> None:
    """A list item's marker as Word's "Save as Web Page" writes it, a paragraph's span of
    its own (style "mso-list:Ignore") holding the bullet glyph of its Symbol font ("·", "§",
    "o") and spaces: read as written, "· Approbation du budget" was no item to the answers,
    where the other readers' items are "- ". Its bullet becomes "- ", its number stays."""
    for span in list(root.iter("span")):
        style = (span.get("style") or "").replace(" ", "").lower()
        if "mso-list:ignore" not in style or span.getparent() is None:
            continue
        marker = _clean(span.text_content())
        for child in list(span):
            span.remove(child)  # its glyph's own spans; their tails are spaces
        span.text = f"{marker} " if _WORD_NUMBER.fullmatch(marker) else "- "


def _word_note(el: Element) -> bool:
    """Whether ``el`` stands in a footnote or an endnote of a page Word saved ("<div
    style='mso-element:footnote'>"): after the text's own <div>, outside the main content
    trafilatura finds, "[1] Délibération n° 2026-12." was dropped, where a Word document's
    notes are read (readers._DocxNotes)."""
    for node in (el, *el.iterancestors()):
        style = (node.get("style") or "").replace(" ", "").lower()
        if "mso-element:footnote" in style or "mso-element:endnote" in style:
            return True
    return False


def _own_header(el: Element) -> bool:
    """Whether ``el`` is the header of an article or a section, not the site's banner: a
    <header> inside <article>, <section> or <main>, as HTML has it, which holds the page's
    title where a CMS's theme puts it ("<article><header><h1>Inscriptions scolaires"),
    dropped with the banners, the page's passages lost their first heading. Not a banner a
    page puts there too, its site's name and menu ("<main><header role="banner">", a <nav>
    in it, class "site-header" or "masthead"): read, its tagline headed by the site's name
    stood first on each page of the site."""
    if el.tag != "header" or not any(
        a.tag in ("article", "section", "main") for a in el.iterancestors()
    ):
        return False
    names = f"{el.get('class') or ''} {el.get('id') or ''}".casefold()
    return not (
        el.get("role") == "banner"
        or any(True for _ in el.iter("nav"))
        or any(word in names for word in ("site", "masthead", "banner"))
    )


def _inside_pre_or_row(el: Element) -> bool:
    return any(a.tag in ("pre", "tr") for a in el.iterancestors())


def _declares_charset(data: bytes) -> bool:
    return b"charset" in data[:2048].lower()


_CHARSET = re.compile(rb"""(?:charset|<\?xml[^>]*encoding)\s*=\s*["']?\s*([\w.:-]+)""")
# Western single-byte charsets, which an editor's "save as UTF-8" leaves declared.
_WESTERN = {"iso8859-1", "cp1252", "iso8859-15"}


def _encoding(data: bytes) -> str | None:
    """The encoding to read a page in without its mark: the one it declares (None: libxml2
    reads the declaration), unless its bytes say otherwise. A page converted to UTF-8 that
    still declares ISO-8859-1 was stored as "DÃ©libÃ©ration", and a Latin-1 page declaring
    UTF-8 as "D\ufffdlib\ufffdration", which no search finds: the bytes are what a
    browser would have to guess from, and they do not lie about UTF-8."""
    if not _declares_charset(data):
        return _undeclared(data)
    found = _CHARSET.search(data[:2048].lower())
    try:
        declared = codecs.lookup(found.group(1).decode("ascii")).name if found else None
    except (LookupError, UnicodeDecodeError):
        # A charset no one knows ("x-unknown"), which libxml2 reads as Latin-1: as undeclared.
        return _undeclared(data)
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    if declared == "utf-8" and not utf8 and not holds_utf8(data):
        return "cp1252"
    if declared in _WESTERN and utf8 and not data.isascii() and not windows_1252_by_chance(data):
        return "utf-8"
    return None
