"""Reading man pages: roff source with the man(7) macros, mdoc(7)'s common ones, and what
pod2man writes (the pages of `/usr/share/man`, such as Debian's manpages-fr).

No Python library reads roff, and groff is not a dependency: this reader interprets the
macros a manual page uses for its structure (sections, tagged paragraphs, examples, links,
tables) and drops the typesetting ones (fonts, spacing, indentation). A page's blocks sit
under its sections, and its title leads with its name: "exports(5) — Liste des répertoires
partagés par le serveur NFS", section "DESCRIPTION", is what an answer cites;
its examples and its synopsis are listings, quoted as code. What it cannot interpret (a
request that draws, a register's arithmetic) is dropped, never shown as markup.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from commune.errors import IngestError
from commune.ingest.encoding import utf8_cut_short
from commune.ingest.model import Block, Parsed, listing

MEDIA_TYPE = "text/troff"

# roff's named characters a manual page uses (groff_char(7)); an unknown one is dropped.
CHARS = {
    "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d", "oq": "\u2018", "cq": "\u2019",
    "Fo": "\u00ab", "Fc": "\u00bb", "fo": "\u2039", "fc": "\u203a", "em": "\u2014",
    "en": "\u2013", "hy": "-", "mi": "-", "bu": "\u2022", "co": "\u00a9", "rg": "\u00ae",
    "tm": "\u2122", "de": "\u00b0", "ti": "~", "ha": "^", "rs": "\\", "sl": "/", "ga": "`",
    "aa": "\u00b4", "mu": "\u00d7", "di": "\u00f7", "+-": "\u00b1", "<=": "\u2264",
    ">=": "\u2265", "!=": "\u2260", "->": "\u2192", "<-": "\u2190", "ua": "\u2191",
    "da": "\u2193", "pl": "+", "eq": "=", "sc": "\u00a7", "ps": "\u00b6", "Eu": "\u20ac",
    "eu": "\u20ac", "Po": "\u00a3", "lB": "[", "rB": "]", "lC": "{", "rC": "}", "la": "\u27e8",
    "ra": "\u27e9", "or": "|", "ba": "|", "br": "\u2502", "ul": "_", "ru": "_", "dg": "\u2020",
    "dd": "\u2021", "at": "@", "sh": "#", "Do": "$", "ss": "\u00df", "ae": "\u00e6",
    "AE": "\u00c6", "oe": "\u0153", "OE": "\u0152", "fi": "fi", "fl": "fl", "ff": "ff",
    "ct": "\u00a2", "Ye": "\u00a5", "u2014": "\u2014", "space": " ", "bv": "|", "12": "\u00bd",
    "14": "\u00bc", "34": "\u00be", "pc": "\u00b7", "if": "\u221e", "sr": "\u221a",
    "*a": "\u03b1", "*b": "\u03b2", "*g": "\u03b3", "*d": "\u03b4", "*e": "\u03b5",
    "*l": "\u03bb", "*m": "\u03bc", "*p": "\u03c0", "*s": "\u03c3", "*W": "\u03a9",
    "an": "-", "bq": "\u201e", "Bq": "\u201e", "OK": "\u2713", "tno": "\u00ac", "no": "\u00ac",
}  # fmt: skip
# A composed character, \['e] or \(:u: the accent, then its letter.
ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", ":": "\u0308", "~": "\u0303",
           ",": "\u0327", "v": "\u030c", "o": "\u030a"}  # fmt: skip
# Strings every formatter defines (groff's an.tmac, mdoc's): a page may use them unset.
STRINGS = {
    "lq": "\u201c", "rq": "\u201d", "R": "\u00ae", "Tm": "\u2122", "Aq": "'", "Am": "&",
    "Ba": "|", "Le": "\u2264", "Ge": "\u2265", "Lt": "<", "Gt": ">", "Pm": "\u00b1",
    "Ne": "\u2260", "q": '"', "Lq": "\u201c", "Rq": "\u201d", "If": "\u221e", "Na": "NaN",
}  # fmt: skip
# A string's value, expanded, beyond which the rest is dropped: strings that double each
# other would otherwise grow without end.
MAX_STRING = 10_000

# Section names whose body is command syntax, read as listings.
SYNOPSIS = {"SYNOPSIS", "SYNOPSYS", "SYNTAXE", "SINOPSIS", "ÜBERSICHT", "SYNTAX"}
# Section names whose body names the page, for its title.
NAME = {"NAME", "NOM", "NOMBRE", "NOME"}
# The prose of an option list: "-a — Export all directories."
TAG_JOIN = " \u2014 "
BULLETS = {"\u2022", "-", "*", "o", "\u00b7", "+", "\u2014", "\u2013"}

# Spaces a line break or a request's arguments leave; not roff's unbreakable one (\ , \~),
# which French typography puts before ":" and inside quotation marks.
_SPACES = re.compile(r"[ \t\n]+")

# A string's reference: \*x, \*(xx, \*[name]; not after an escaped backslash.
_STRING_REF = re.compile(r"(?<!\\)((?:\\\\)*)\\\*(?:\((..)|\[([^\]]*)\]|(.))")

# An escape and what it stands for; handled in _escape().
_ESCAPE = re.compile(
    r"\\(?:"
    r"(?P<comment>[\"#].*)"
    r"|\((?P<char2>..)"
    r"|\[(?P<charn>[^\]]*)\]"
    r"|\*(?:\((?P<str2>..)|\[(?P<strn>[^\]]*)\]|(?P<str1>.))"
    r"|[fFn](?:\(..|\[[^\]]*\]|.)"
    r"|s(?:[-+]?\d+|\(..|\[[^\]]*\]|[-+]?\(..|'[^']*')"
    r"|[mMgkYV](?:\(..|\[[^\]]*\]|.)"
    r"|[hvwlLDXoZbRSHx](?P<delim>[^\\\s])(?:(?!(?P=delim)).){0,200}(?P=delim)"
    r"|N'(?P<code>\d{1,8})'"
    r"|C'(?P<named>[^']*)'"
    r"|(?P<one>.)"
    r")"
)
# What a one-character escape stands for; any other stands for itself (\. is ".").
_ONE = {
    "-": "-", "e": "\\", "\\": "\\", " ": "\u00a0", "~": "\u00a0", "0": " ", "t": " ",
    "'": "'", "`": "`", "|": "", "^": "", "&": "", ")": "", "/": "", ",": "", ":": "",
    "%": "", "c": "", "p": "", "a": "", "{": "", "}": "", "d": "", "u": "", "r": "",
    "E": "\\", "!": "", "?": "", "z": "",
}  # fmt: skip


def _code_point(value: int) -> str:
    """The character, or nothing for a number no text can hold (a surrogate, beyond
    Unicode), which the database would refuse."""
    if 0 < value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF:
        return chr(value)
    return ""


def _char(name: str) -> str:
    if name in CHARS:
        return CHARS[name]
    if re.fullmatch(r"u[0-9A-Fa-f]{4,6}(?:_[0-9A-Fa-f]{4,6})*", name):
        points = "".join(_code_point(int(p, 16)) for p in name[1:].split("_"))
        return unicodedata.normalize("NFC", points)
    if re.fullmatch(r"char\d{1,7}", name):
        return _code_point(int(name[4:]))
    if len(name) == 2 and name[0] in ACCENTS and name[1].isalpha():
        return unicodedata.normalize("NFC", name[1] + ACCENTS[name[0]])
    return ""


def split_args(text: str) -> list[str]:
    """A request's arguments: separated by spaces, a double-quoted one may hold spaces, and
    two double quotes inside one stand for one."""
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        if text[i] == '"':
            i += 1
            arg = []
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        arg.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                if text[i] == "\\" and i + 1 < n:
                    arg.append(text[i : i + 2])
                    i += 2
                    continue
                arg.append(text[i])
                i += 1
            args.append("".join(arg))
        else:
            j = i
            while j < n and text[j] not in " \t":
                j += 2 if text[j] == "\\" and j + 1 < n else 1
            args.append(text[i:j])
            i = j
    return args


# A condition of .if/.ie: nroff's (a terminal), and groff's registers read as groff's.
_TRUE_CONDITIONS = {"n", r"\n(.g", r"\n[.g]", r"\n(.H>23"}


@dataclass
class _State:
    path: Path
    strings: dict[str, str] = field(default_factory=lambda: dict(STRINGS))
    blocks: list[Block] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # the paragraph being filled
    lines: list[str] | None = None  # a listing being read (no-fill), or None
    section: str = ""
    subsection: str = ""
    head: str = ""  # the page's name and section, "exports(5)", which leads its title
    name: str = ""
    title_words: list[str] = field(default_factory=list)  # the NAME section's text
    tag: str | None = None  # an option list's tag, said before its first paragraph
    awaiting: str | None = None  # "tag" after .TP, "tq" after .TQ, "heading" after .SH alone
    heading_level: int = 1
    link: tuple[str, int] | None = None  # .UR/.MT's address and where its text began
    mdoc: bool = False
    included: str | None = None  # a .so page's target
    macros: dict[str, list[str]] = field(default_factory=dict)  # the page's own (.de)
    aliases: dict[str, str] = field(default_factory=dict)  # .als: a request's other name
    stacked: bool = False  # .PD 0: tags follow each other without space, one item's names
    budget: int = 0  # characters the page may still read or produce (_run sets it)

    def escape(self, text: str, depth: int = 0) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group("comment") is not None:
                return ""
            for key in ("char2", "charn"):
                if m.group(key) is not None:
                    return _char(m.group(key))
            for key in ("str2", "strn", "str1"):
                if m.group(key) is not None:
                    # A value was expanded when it was defined (expand_strings): a
                    # reference left in it (rebuilt from a trailing "\\*") is not followed
                    # again, and what it produces is taken off the page's budget.
                    value = self.strings.get(m.group(key), "") if depth == 0 else ""
                    self.spend(len(value))
                    return self.escape(value, depth + 1)
            if m.group("code") is not None:
                return _code_point(int(m.group("code")))
            if m.group("named") is not None:
                return _char(m.group("named"))
            if m.group("one") is not None:
                return _ONE.get(m.group("one"), m.group("one"))
            return ""

        return _ESCAPE.sub(sub, text)

    def expand_strings(self, text: str) -> str:
        """``text`` with the strings it names replaced by their values, as roff's copy mode
        does when a string is defined: a value then holds no reference, and one that names
        itself ("\\*a\\*a") doubles once, not at each use. Built up to MAX_STRING only."""
        pieces: list[str] = []
        size, last = 0, 0
        for m in _STRING_REF.finditer(text):
            value = self.strings.get(m.group(2) or m.group(3) or m.group(4), "")
            for piece in (text[last : m.start()], m.group(1), value):
                pieces.append(piece)
                size += len(piece)
            last = m.end()
            if size > MAX_STRING:
                return "".join(pieces)[:MAX_STRING]
        pieces.append(text[last:])
        return "".join(pieces)[:MAX_STRING]

    def spend(self, characters: int) -> None:
        """Take ``characters`` read or produced off the page's budget (MAX_READ_FACTOR)."""
        self.budget -= characters
        if self.budget < 0:
            raise IngestError(
                f"{self.path.name}: its macros, strings or conditions expand without end",
                "check the page with `man -l FILE`; a page that man shows is read here",
            )

    def identify(self, args: list[str]) -> None:
        """The page's name and section, from .TH (man) or .Dt (mdoc): "EXPORTS 5"."""
        self.name = self.escape(args[0]) if args else ""
        number = self.escape(args[1]) if len(args) > 1 else ""
        self.head = f"{self.name.lower()}({number})" if self.name else ""

    @property
    def headings(self) -> tuple[str, ...]:
        # Not the page's name: it leads the title, which a passage is cited and read with.
        return tuple(h for h in (self.section, self.subsection) if h)

    def text(self, words: str) -> None:
        """Text to set: a line of a listing, or words of the paragraph being filled."""
        if self.awaiting in ("tag", "tq"):
            tag = words.strip()
            if self.awaiting == "tq" and self.tag and not self.words:
                self.tag = f"{self.tag}, {tag}"  # .TQ: another name of the same item
            else:
                self.new_tag(tag)
            self.awaiting = None
            return
        if self.awaiting == "heading":
            self.awaiting = None
            self.heading(words, self.heading_level)
            return
        if self.lines is not None:
            self.lines.append(words)
        elif words.strip():
            if self.section.upper() in NAME:
                self.title_words.append(words.strip())
            self.words.append(words.strip())

    def flush(self) -> None:
        """End the paragraph being filled: one prose block, or a listing in a synopsis."""
        # A bullet the page writes as text (Asciidoctor's lists) says nothing more.
        prose = _SPACES.sub(" ", " ".join(self.words)).strip().lstrip("\u2022\u00b7 ")
        self.words = []
        if self.tag and prose:
            prose = f"{self.tag}{TAG_JOIN}{prose}"
        elif self.tag and not prose:
            return  # the tag waits for its paragraph (a .TP whose body is a listing)
        self.tag = None
        if not prose:
            return
        if self.section.upper() in SYNOPSIS:
            self.blocks.append(Block(listing(prose), self.headings))
        else:
            self.blocks.append(Block(prose, self.headings))

    def emit_tag(self) -> None:
        """A tag whose paragraph never came (a list of names, a term before a heading): said
        on its own rather than lost."""
        if self.tag and not self.words:
            self.blocks.append(Block(self.tag, self.headings))
        if not self.words:
            self.tag = None

    def new_tag(self, tag: str | None) -> None:
        """A list item's tag. One still waiting for its paragraph is another name of the
        same item when the tags are stacked (.PD 0: "-V" then "--version", as pod2man writes
        them), else an item of its own."""
        if self.tag and not self.words and self.stacked and tag:
            self.tag = f"{self.tag}, {tag}"
            return
        self.emit_tag()
        self.tag = tag

    def end_listing(self) -> None:
        if self.lines is None:
            return
        text = listing("\n".join(self.lines))
        self.lines = None
        if text.strip():
            if self.tag:  # the tag announces the listing: said as prose before it
                self.blocks.append(Block(self.tag, self.headings))
                self.tag = None
            self.blocks.append(Block(text, self.headings))

    def heading(self, raw: str, level: int) -> None:
        self.flush()
        self.end_listing()
        self.emit_tag()
        self.awaiting = None
        text = _SPACES.sub(" ", raw).strip()
        if level == 1:
            self.section, self.subsection = text, ""
        else:
            self.subsection = text


_CODING = re.compile(rb"-\*-.*?coding:\s*([\w.-]+)")


def _text_codec(name: str) -> bool:
    """Whether ``name`` is an encoding of text a page may be written in: not one that reads
    escapes (unicode_escape makes roff's \\0 a NUL) or encodes for another purpose."""
    import codecs

    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return False
    return not re.match(r"(utf-(7|16|32)|unicode-escape|raw-unicode-escape|punycode|idna)", codec)


def decode(data: bytes, path: Path) -> str:
    """A page's text: in the encoding its first line declares ("-*- coding: UTF-8 -*-"),
    else UTF-8, else Latin-1, which is what groff reads a page without either as (preconv),
    so the page reads here as `man` shows it. UTF-8 cut inside its last character (a
    download stopped short) is UTF-8 without it, as a text file's (encoding.utf8_cut_short):
    read as Latin-1 whole, every accent of the page was two letters, "rÃ©sumÃ©"."""
    if b"\x00" in data[:8192]:
        raise IngestError(f"{path.name}: looks binary, not a man page", "check the file type")
    first = data.split(b"\n", 1)[0]
    declared = _CODING.search(first)
    if data.startswith(b"\xef\xbb\xbf"):
        declared = None  # a byte order mark says UTF-8 before any declaration, as for groff
    tried = [(declared.group(1).decode("ascii"), True)] if declared else []
    tried = [(name, said) for name, said in tried if _text_codec(name)]
    for encoding, said in [*tried, ("utf-8-sig", False)]:
        try:
            # Only an encoding the declaring line reads the same in, and text a database
            # holds: "utf-16" or "cp037" in an ASCII line is a mistake that would make the
            # page noise, and "utf-7" can make lone surrogates.
            if said and first.decode(encoding) != first.decode("latin-1"):
                continue
            text = _decoded(data, encoding)
            text.encode("utf-8")
            return text
        except (UnicodeError, LookupError):
            continue
    return data.decode("latin-1")


def _decoded(data: bytes, encoding: str) -> str:
    """``data`` in ``encoding``; in UTF-8, without a last character cut short."""
    import codecs

    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        cut = utf8_cut_short(data) if codecs.lookup(encoding).name.startswith("utf-8") else 0
        if not cut:
            raise
        return data[:-cut].decode(encoding)


def roff_kind(head: bytes) -> str | None:
    """What a file's start says it is: "page" (roff requests), "include" (only a .so that
    names another page: a link, in roff's form), or None (text before any request: a
    rotated log named syslog.1 is no man page)."""
    said: list[str] = []  # the requests and text lines, comments left out
    comments = False
    for line in head.removeprefix(b"\xef\xbb\xbf").decode("latin-1").splitlines():
        if line[:1] in (".", "'"):
            request = line[1:].lstrip(" \t")
            if request and not request.startswith(('\\"', "\\#")):
                said.append("." + request)
            comments = True
        elif line.strip():
            if not said and not comments:
                return None
            said.append(line)
    if not said:
        return "page" if comments else None  # a long licence in comments, then the page
    return "include" if len(said) == 1 and re.match(r"\.so\s", said[0]) else "page"


def included(head: bytes) -> str | None:
    """The page a .so page names ("man1/bash.1"), relative to the manual's root."""
    match = re.search(rb"^[.']\s*so\s+(\S+)", head.removeprefix(b"\xef\xbb\xbf"), re.M)
    return match.group(1).decode("latin-1") if match else None


def read_manpage(data: bytes, path: Path) -> Parsed:
    if roff_kind(data[:8192]) is None:
        raise IngestError(
            f"{path.name}: no roff request at its start, so not a man page",
            "rename it to what it is (.txt for text) to read it",
        )
    source = decode(data, path)
    state = _State(path)
    lines = _logical_lines(source)
    try:
        _run(state, lines)
    except (RecursionError, ValueError, OverflowError, IndexError) as e:
        # A construct this reader did not foresee: the page fails alone, in one line.
        raise IngestError(
            f"{path.name}: could not be read as a man page ({type(e).__name__})",
            "check it with `man -l FILE`, or convert it to text first",
        ) from None
    state.flush()
    state.end_listing()
    state.emit_tag()
    if not state.blocks and state.included:
        raise IngestError(
            f"{path.name}: only includes {state.included} (.so), which is read on its own",
            "add the page it names; this one has nothing of its own to index",
        )
    return Parsed(title=_title(state), media_type=MEDIA_TYPE, blocks=state.blocks)


def _title(state: _State) -> str:
    said = _SPACES.sub(" ", " ".join(state.title_words)).strip()
    head = state.head or Path(state.path.name.removesuffix(".gz")).stem
    if said:
        # "exports - Liste des répertoires…": the description after the names.
        match = re.match(r"(.*?)\s+[-\u2013\u2014]\s+(.*)", said)
        if match:
            return f"{head} \u2014 {match.group(2)}"[:200]
        return said[:200]
    return head[:200]


def _logical_lines(source: str) -> list[str]:
    """The source's lines, a line ending in an escaped newline joined to the next, and a
    text line ending in \\c joined to the next text line across the end of a condition
    (Asciidoctor writes a bullet, \\c, then ".\\}"), else set before the request that
    follows it."""
    out: list[str] = []
    pending = ""
    carried = ""  # a text line's words before \c, waiting for the next text line
    for raw in source.split("\n"):
        line = pending + raw.rstrip("\r")
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # an odd run of backslashes: the last escapes the newline
            pending = line[:-1]
            continue
        pending = ""
        if line[:1] in (".", "'"):
            # Only what ends or skips a condition lies between a bullet's \c and its item;
            # before any other request the held words are set where they stand.
            request = line[1:].lstrip(" \t")
            if carried and not re.match(r'(?:\\\}|\\"|el\b|$)', request):
                out.append(carried)
                carried = ""
            out.append(line)
            continue
        line = carried + line
        carried = ""
        if line.endswith("\\c"):
            carried = line[:-2]
            continue
        out.append(line)
    if pending or carried:
        out.append(pending or carried)
    return out


# A comment at the end of a request's line: \" or \#, not preceded by an escaped backslash.
_COMMENT = re.compile(r'(?<!\\)((?:\\\\)*)\\["#].*')


def _condition(state: _State, rest: str) -> tuple[bool, str]:
    """An .if/.ie condition's truth, and what follows it."""
    rest = rest.lstrip()
    negate = rest.startswith("!")
    if negate:
        rest = rest[1:]
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        parts = rest[1:].split(quote, 2)
        if len(parts) == 3:
            value = state.escape(parts[0]) == state.escape(parts[1])
            return value != negate, parts[2]
        return False, ""
    match = re.match(r"(\S+)\s*(.*)", rest, re.S)
    if not match:
        return False, ""
    cond, body = match.group(1), match.group(2)
    if cond in _TRUE_CONDITIONS:
        value = True
    elif re.fullmatch(r"[-+]?\d+", cond):
        value = int(cond) > 0
    else:
        value = False  # t (a typesetter), e and o (page parity), registers' arithmetic
    return value != negate, body


# The characters a page may have read, those that conditions and macros put back included,
# as a multiple of its source's (with a floor for small pages). Counted in characters, not
# lines, since the work on a line grows with its length: every page of manpages-fr reads
# less than twice its source; macros that call each other, or whose arguments double at
# each call, stop here in a second, not in a hang.
MAX_READ_FACTOR = 20
MIN_READ_BUDGET = 500_000


def _run(state: _State, lines: list[str]) -> None:
    queue = deque(lines)  # the source's lines, what conditions and macros put back first
    state.budget = max(MIN_READ_BUDGET, MAX_READ_FACTOR * sum(len(line) + 1 for line in lines))
    last_ie: list[bool] = []
    # A macro being defined: the line that ends it, its name (None: text to ignore), its
    # lines, and whether they add to the macro's earlier ones (.am).
    defining: tuple[str, str | None, list[str], bool] | None = None
    table: list[str] | None = None  # a tbl table's lines
    while queue:
        line = queue.popleft()
        state.spend(len(line) + 1)
        if defining is not None:
            end, target, definition, appending = defining
            # The end may be indented after its control character (". ." for "..").
            if line[:1] in (".", "'") and line[1:].split()[:1] == [end]:
                if target is not None:
                    earlier = state.macros.get(target, []) if appending else []
                    state.macros[target] = earlier + definition
                defining = None
            else:
                definition.append(line)
            continue
        if table is not None:
            if re.match(r"^[.']\s*TE\b", line):
                _table(state, table)
                table = None
            else:
                table.append(line)
            continue
        if line[:1] not in (".", "'"):
            if not line.strip():
                if state.lines is not None:
                    state.lines.append("")
                else:
                    state.flush()
                continue
            if line[:1] in (" ", "\t") and state.lines is None and not state.awaiting:
                state.flush()  # a line starting with a space breaks the paragraph
            state.text(state.escape(line))
            continue
        body = _COMMENT.sub(r"\1", line[1:]).lstrip(" \t")
        # A request's name ends at a space or at an escape: ".el\{" is .el, then \{.
        match = re.match(r"([^\s\\]*)\s*(.*)", body, re.S)
        name, rest = (match.group(1), match.group(2)) if match else ("", "")
        if not name:
            continue  # an empty request, a comment, or the end of a condition (".\}")
        name = state.aliases.get(name, name)
        if name in ("de", "de1", "dei", "am", "am1", "ami", "ig"):
            # A macro's definition (or text to ignore) runs to "..", or to the end named.
            args = split_args(rest)
            if name == "ig":
                defining = (args[0] if args else ".", None, [], False)
            else:
                target = args[0] if args else None
                defining = (args[1] if len(args) > 1 else ".", target, [], name.startswith("am"))
            continue
        if name == "als":
            args = split_args(rest)
            if len(args) >= 2:
                if args[1] in state.macros:
                    state.macros[args[0]] = state.macros[args[1]]
                else:
                    state.aliases[args[0]] = state.aliases.get(args[1], args[1])
            continue
        if name in ("if", "ie", "el"):
            if name == "el":
                value, guarded = (not last_ie.pop()) if last_ie else False, rest
            else:
                value, guarded = _condition(state, rest)
                if name == "ie":
                    last_ie.append(value)
            guarded = guarded.lstrip()
            opens = guarded.startswith("\\{")
            if opens:
                guarded = guarded[2:].lstrip()
            if not value:
                if opens:
                    depth = 1 + guarded.count("\\{") - guarded.count("\\}")
                    while depth > 0 and queue:
                        skipped = queue.popleft()
                        depth += skipped.count("\\{") - skipped.count("\\}")
                continue
            guarded = guarded.replace("\\}", "")
            if guarded.strip():
                queue.appendleft(guarded)  # what the condition guards, read as a line
            continue
        if name in state.macros:
            # A macro the page defines: its lines, with the call's arguments for \\$1…
            macro, args = state.macros[name], split_args(rest)
            # Counted before it is built, each reference to the arguments at their full
            # length: arguments that double at each call, or a line that names them ten
            # thousand times, would take the memory before the lines read took the budget.
            refs = sum(len(_ARGUMENT.findall(m)) for m in macro)
            state.spend(sum(len(m) for m in macro) + sum(len(a) + 1 for a in args) * refs)
            queue.extendleft(reversed(_expand(macro, args)))
            continue
        if name == "TS":
            state.flush()
            state.emit_tag()
            table = []
            continue
        _request(state, name, rest)


def _expand(body: list[str], args: list[str]) -> list[str]:
    """A macro's lines for one call: \\$1 to \\$9 its arguments, \\$* and \\$@ all of them, and
    the backslashes its definition doubled (copy mode) single again."""

    def argument(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in "*@":
            return " ".join(args)
        return args[int(key) - 1] if int(key) <= len(args) else ""

    return [_ARGUMENT.sub(argument, line).replace("\\\\", "\\") for line in body]


# A macro's argument in its definition: \$1 or, doubled by copy mode, \\$1; \$* and \$@ all.
_ARGUMENT = re.compile(r"\\\\?\$([1-9*@])")


def _inline(state: _State, args: list[str], joined: bool = False) -> str:
    parts = [state.escape(a) for a in args]
    return ("" if joined else " ").join(parts)


def _request(state: _State, name: str, rest: str) -> None:
    args = split_args(rest)
    if state.mdoc and _mdoc_request(state, name, args):
        return
    if name == "TH":
        state.identify(args)
    elif name in ("SH", "SS"):
        level = 1 if name == "SH" else 2
        if args:
            state.heading(_inline(state, args), level)
        else:
            state.flush()
            state.end_listing()
            state.awaiting, state.heading_level = "heading", level
    elif name == "RS" and state.words and not state.tag and state.lines is None:
        # A short line before an indented paragraph names it, as a tag does: the terms of
        # the definition lists Asciidoctor writes ("-o, --other", then .RS and its text).
        said = " ".join(state.words).strip()
        if len(said) <= 80 and not said.endswith((".", ":", "\u00a0:")):
            state.words, state.tag = [], said
        else:
            state.flush()
    elif name == "PD":
        state.stacked = args[:1] == ["0"]
    elif name in ("PP", "P", "LP", "HP", "sp", "br", "Sp", "RS", "RE", "ne", "bp"):
        state.flush()
        if name in ("PP", "P", "LP", "HP"):
            state.emit_tag()
    elif name == "TP":
        state.flush()
        state.end_listing()
        state.awaiting = "tag"
    elif name == "TQ":
        state.awaiting = "tq"
    elif name == "IP":
        state.flush()
        tag = state.escape(args[0]).strip() if args else ""
        # A bullet or a list's number says nothing; a bare number may be a value ("1: log
        # the start"), kept.
        numbered = re.fullmatch(r"\d+[.)]", tag)
        if tag and tag not in BULLETS and not numbered:
            state.new_tag(tag)
        else:
            state.emit_tag()
    elif name in ("nf", "EX", "Vb", "Ds"):
        state.flush()
        if state.lines is None:
            state.lines = []
    elif name in ("fi", "EE", "Ve", "De"):
        state.end_listing()
    elif name in ("B", "I", "SM", "SB", "R"):
        if args:
            state.text(_inline(state, args))
    elif name in ("BR", "BI", "IB", "IR", "RB", "RI"):
        if args:
            state.text(_inline(state, args, joined=True))
    elif name in ("UR", "MT"):
        state.link = (state.escape(args[0]) if args else "", len(state.words))
    elif name in ("UE", "ME"):
        if state.link is not None:
            address, start = state.link
            said = " ".join(state.words[start:]).strip()
            del state.words[start:]
            link = f"{said} <{address}>" if said and said != address else f"<{address}>"
            state.words.append(link + (state.escape(args[0]) if args else ""))
            state.link = None
    elif name == "URL":
        if args:
            said = state.escape(args[1]) if len(args) > 1 else ""
            after = state.escape(args[2]) if len(args) > 2 else ""
            url = state.escape(args[0])
            state.text((f"{said} <{url}>" if said else f"<{url}>") + after)
    elif name in ("ds", "ds1", "as", "as1"):
        match = re.match(r"(\S+)\s?\"?(.*)", rest)
        if match:
            key, value = match.group(1), state.expand_strings(match.group(2))
            if name.startswith("as"):
                value = state.strings.get(key, "") + value
            state.strings[key] = value[:MAX_STRING]
    elif name == "so":
        state.included = args[0] if args else "another page"
    elif name in ("Dd", "Dt", "Sh", "Nm"):
        state.mdoc = True
        _mdoc_request(state, name, args)
    # Anything else sets type (fonts, sizes, indentation, hyphenation, registers, index
    # entries, .UC, .IX): it changes how a page looks, not what it says.


# mdoc's macros that take words and give them back, perhaps decorated (mdoc(7)).
_MDOC_ENCLOSE = {
    "Op": ("[", "]"), "Dq": ("\u201c", "\u201d"), "Sq": ("\u2018", "\u2019"),
    "Qq": ('"', '"'), "Pq": ("(", ")"), "Bq": ("[", "]"), "Brq": ("{", "}"),
    "Aq": ("\u27e8", "\u27e9"), "Ql": ("\u2018", "\u2019"), "Eq": ("", ""),
}  # fmt: skip
_MDOC_OPEN = {"Oo": "[", "Do": "\u201c", "So": "\u2018", "Qo": '"', "Po": "(", "Bo": "[",
              "Bro": "{", "Ao": "\u27e8"}  # fmt: skip
_MDOC_CLOSE = {"Oc": "]", "Dc": "\u201d", "Sc": "\u2019", "Qc": '"', "Pc": ")", "Bc": "]",
               "Brc": "}", "Ac": "\u27e9"}  # fmt: skip
_MDOC_WORDS = {
    "Ar", "Pa", "Cm", "Ic", "Ev", "Va", "Dv", "Er", "Em", "Sy", "Li", "No", "Tn", "Fa", "Ft",
    "Cd", "An", "Lk", "Mt", "Ad", "Ms", "Ot", "Sx", "Vt", "St", "Lb", "In", "Fd", "Ux", "Bx",
    "At", "Nx", "Fx", "Ox", "Dx", "Bsx", "Xo", "Xc", "Ns", "Fn", "Nm", "Fl", "Xr",
    *_MDOC_ENCLOSE, *_MDOC_OPEN, *_MDOC_CLOSE,
}  # fmt: skip
# mdoc's macros that stand for words of their own (a system's name).
_MDOC_SAYS = {"Ux": "UNIX", "Bx": "BSD", "Nx": "NetBSD", "Fx": "FreeBSD", "Ox": "OpenBSD",
              "Dx": "DragonFly", "Bsx": "BSD/OS", "At": "AT&T UNIX"}  # fmt: skip
_PUNCT_AFTER = {".", ",", ";", ":", "?", "!", ")", "]", "}"}
_PUNCT_BEFORE = {"(", "[", "{"}


def _mdoc_words(state: _State, args: list[str]) -> str:
    """mdoc's callable macros and their words, rendered as the words they stand for."""
    return _mdoc_line(state, args)[1]


def _mdoc_line(state: _State, args: list[str]) -> tuple[bool, str]:
    """:func:`_mdoc_words`, and whether they attach to the words before the line (a
    closing mark or punctuation first: ".Pc ." after a line ending "(voir ls")."""
    out: list[str] = []
    glue = False  # the next word attaches to the previous one (Ns, an opening mark)
    leading = False
    i = 0

    def put(word: str, attach: bool = False) -> None:
        nonlocal glue, leading
        if out and (attach or glue):
            out[-1] += word
        else:
            leading = leading or (attach and not out)
            out.append(word)
        glue = False

    while i < len(args):
        token = args[i]
        i += 1
        if token == "Ns":
            glue = True
            continue
        if token in _MDOC_ENCLOSE:
            opening, closing = _MDOC_ENCLOSE[token]
            trailing: list[str] = []
            rest = args[i:]
            while rest and rest[-1] in _PUNCT_AFTER:
                trailing.insert(0, rest.pop())
            inner_text = _mdoc_words(state, rest)
            i = len(args)
            put(f"{opening}{inner_text}{closing}")
            for p in trailing:
                put(p, attach=True)
            continue
        if token in _MDOC_OPEN:
            put(_MDOC_OPEN[token])
            glue = True
            continue
        if token in _MDOC_CLOSE:
            put(_MDOC_CLOSE[token], attach=True)
            continue
        if token == "Fl":
            nxt = args[i] if i < len(args) and args[i] not in _MDOC_WORDS else ""
            if nxt and nxt not in _PUNCT_AFTER:
                i += 1
                put("-" + state.escape(nxt))
            else:
                put("-")
                if i < len(args) and args[i] == "Fl":
                    glue = True  # "Fl Fl apple": --apple
            continue
        if token == "Xr":
            if i + 1 < len(args):
                put(f"{state.escape(args[i])}({state.escape(args[i + 1])})")
                i += 2
            elif i < len(args):
                put(state.escape(args[i]))
                i += 1
            continue
        if token == "Nm":
            if i < len(args) and args[i] not in _MDOC_WORDS and args[i] not in _PUNCT_AFTER:
                continue  # its own name follows as a word
            put(state.name.lower() or "")
            continue
        if token in _MDOC_SAYS:
            put(_MDOC_SAYS[token])
            continue
        if token == "Ar" and (i >= len(args) or args[i] in _MDOC_WORDS or args[i] in _PUNCT_AFTER):
            put("file ...")  # mdoc's placeholder for an argument left unnamed
            continue
        if token == "Lk" and i + 1 < len(args) and args[i + 1] not in _MDOC_WORDS:
            put(f"{state.escape(args[i + 1])} <{state.escape(args[i])}>")
            i += 2
            continue
        if token in _MDOC_WORDS:
            continue  # a macro that only changes the look of the words after it
        word = state.escape(token)
        # Punctuation by the token as written: "\&." is a word, the way a page writes ".br".
        if token in _PUNCT_AFTER:
            put(word, attach=True)
        elif token in _PUNCT_BEFORE:
            put(word)
            glue = True
        else:
            put(word)
    return leading, " ".join(w for w in out if w)


def _mdoc_request(state: _State, name: str, args: list[str]) -> bool:
    """A request of an mdoc page; False for one of man(7)'s, handled by the caller."""
    if name == "Dt":
        state.identify(args)
    elif name in ("Dd", "Os", "Bk", "Ek", "Bf", "Ef", "Sm", "Ud", "Rv", "Ex"):
        pass
    elif name in ("Sh", "Ss"):
        state.heading(" ".join(state.escape(a) for a in args), 1 if name == "Sh" else 2)
    elif name in ("Pp", "Lp", "Bl", "El"):
        state.flush()
        state.end_listing()
    elif name == "It":
        state.flush()
        state.end_listing()
        if "Ta" in args:  # a row of a column list (.Bl -column): its cells, as a table's
            cells, cell = [], []  # type: ignore[var-annotated]
            for token in [*args, "Ta"]:
                if token == "Ta":
                    cells.append(_mdoc_words(state, cell))
                    cell = []
                else:
                    cell.append(token)
            state.emit_tag()
            row = TAG_JOIN.join(c for c in cells if c)
            if row:
                state.blocks.append(Block(row, state.headings))
            return True
        tag = _mdoc_words(state, args).strip()
        state.new_tag(tag if tag and tag not in BULLETS else None)
    elif name == "Bd":
        state.flush()
        if "-literal" in args or "-unfilled" in args:
            state.lines = []
    elif name == "Ed":
        state.end_listing()
        state.flush()
    elif name == "Dl":
        state.flush()
        state.blocks.append(Block(listing(_mdoc_words(state, args)), state.headings))
    elif name == "D1":
        state.flush()
        state.text(_mdoc_words(state, args))
        state.flush()
    elif name == "Nd":
        state.text("- " + " ".join(state.escape(a) for a in args))
    elif name == "Nm" and state.section.upper() in SYNOPSIS:
        state.flush()  # each form of the command starts with its name
        state.text(_mdoc_words(state, ["Nm", *args]))
    elif name == "Nm" and state.section.upper() in NAME:
        if args:
            state.name = state.name or state.escape(args[0])
            state.text(_mdoc_words(state, ["Nm", *args]))
    elif name in _MDOC_WORDS:
        attaches, words = _mdoc_line(state, [name, *args])
        if attaches and state.words and state.lines is None:
            first, _, words = words.partition(" ")
            state.words[-1] += first
        if words:
            state.text(words)
    else:
        return False
    return True


def _table(state: _State, rows: list[str]) -> None:
    """A tbl(1) table: each row as a prose block, its cells joined."""
    tab = "\t"
    i = 0
    # Options (a line ending in ";"), then formats up to the line ending in ".".
    if rows and rows[0].rstrip().endswith(";"):
        match = re.search(r"tab\s*\((.)\)", rows[0])
        if match:
            tab = match.group(1)
        i = 1
    while i < len(rows):
        ended = rows[i].rstrip().endswith(".")
        i += 1
        if ended:
            break
    current: list[str] | None = None  # a T{ … T} cell being read
    pending: list[str] = []

    def row_done() -> None:
        nonlocal pending
        text = TAG_JOIN.join(c for c in (_SPACES.sub(" ", c).strip() for c in pending) if c)
        if text:
            state.blocks.append(Block(text, state.headings))
        pending = []

    def take(text: str) -> list[str] | None:
        """A row's cells into ``pending``; a "T{" (the last cell of its line) opens a block
        cell, whose lines follow: returned, empty, to be filled."""
        for cell in text.split(tab):
            if cell.strip() == "T{":
                return []
            pending.append(state.escape(cell))
        return None

    while i < len(rows):
        line = rows[i]
        i += 1
        if line.startswith((".T&",)):
            while i < len(rows) and not rows[i].rstrip().endswith("."):
                i += 1
            i += 1
            continue
        if current is not None:
            if line.startswith("T}"):
                pending.append(" ".join(current))
                current = None
                rest = line[2:]
                if rest.startswith(tab):
                    current = take(rest[1:])
                if current is None:
                    row_done()
            elif not line.startswith((".", "'")):
                current.append(state.escape(line))
            continue
        if line[:1] in (".", "'") or line.strip() in ("_", "=", ""):
            continue
        current = take(line)
        if current is None:
            row_done()
    if pending:
        row_done()
