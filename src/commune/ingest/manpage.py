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
from dataclasses import dataclass, field
from pathlib import Path

from commune.errors import IngestError
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
    "ct": "\u00a2", "Ye": "\u00a5", "u2014": "\u2014", "space": " ",
}  # fmt: skip
# A composed character, \['e] or \(:u: the accent, then its letter.
ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", ":": "\u0308", "~": "\u0303",
           ",": "\u0327", "v": "\u030c", "o": "\u030a"}  # fmt: skip
# Strings every formatter defines (groff's an.tmac, mdoc's): a page may use them unset.
STRINGS = {"lq": "\u201c", "rq": "\u201d", "R": "\u00ae", "Tm": "\u2122", "Aq": "'"}

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

# An escape and what it stands for; handled in _escape().
_ESCAPE = re.compile(
    r"\\(?:"
    r"(?P<comment>[\"#].*)"
    r"|\((?P<char2>..)"
    r"|\[(?P<charn>[^\]]*)\]"
    r"|\*(?:\((?P<str2>..)|\[(?P<strn>[^\]]*)\]|(?P<str1>.))"
    r"|[fFn](?:\(..|\[[^\]]*\]|.)"
    r"|s(?:[-+]?\d+|\(..|\[[^\]]*\]|[-+]?\(..|'[^']*')"
    r"|[mMgkYVz](?:\(..|\[[^\]]*\]|.)"
    r"|[hvwlLDXoZbRSHx]'[^']*'"
    r"|N'(?P<code>\d+)'"
    r"|C'(?P<named>[^']*)'"
    r"|(?P<one>.)"
    r")"
)
# What a one-character escape stands for; any other stands for itself (\. is ".").
_ONE = {
    "-": "-", "e": "\\", "\\": "\\", " ": "\u00a0", "~": "\u00a0", "0": " ", "t": " ",
    "'": "'", "`": "`", "|": "", "^": "", "&": "", ")": "", "/": "", ",": "", ":": "",
    "%": "", "c": "", "p": "", "a": "", "{": "", "}": "", "d": "", "u": "", "r": "",
    "E": "\\", "!": "", "?": "",
}  # fmt: skip


def _char(name: str) -> str:
    if name in CHARS:
        return CHARS[name]
    if re.fullmatch(r"u[0-9A-Fa-f]{4,6}(?:_[0-9A-Fa-f]{4,6})*", name):
        return unicodedata.normalize("NFC", "".join(chr(int(p, 16)) for p in name[1:].split("_")))
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
    section_number: str = ""
    title_words: list[str] = field(default_factory=list)  # the NAME section's text
    tag: str | None = None  # an option list's tag, said before its first paragraph
    awaiting: str | None = None  # "tag" after .TP, "tq" after .TQ, "heading" after .SH alone
    heading_level: int = 1
    link: tuple[str, int] | None = None  # .UR/.MT's address and where its text began
    mdoc: bool = False
    included: str | None = None  # a .so page's target

    def escape(self, text: str, depth: int = 0) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group("comment") is not None:
                return ""
            for key in ("char2", "charn"):
                if m.group(key) is not None:
                    return _char(m.group(key))
            for key in ("str2", "strn", "str1"):
                if m.group(key) is not None:
                    # A string may hold others; one that holds itself ends here, not in a
                    # RecursionError.
                    value = self.strings.get(m.group(key), "")
                    return self.escape(value, depth + 1) if depth < 8 else ""
            if m.group("code") is not None:
                return chr(int(m.group("code")))
            if m.group("named") is not None:
                return _char(m.group("named"))
            if m.group("one") is not None:
                return _ONE.get(m.group("one"), m.group("one"))
            return ""

        return _ESCAPE.sub(sub, text)

    @property
    def headings(self) -> tuple[str, ...]:
        # Not the page's name: it leads the title, which a passage is cited and read with.
        return tuple(h for h in (self.section, self.subsection) if h)

    def text(self, words: str) -> None:
        """Text to set: a line of a listing, or words of the paragraph being filled."""
        if self.awaiting in ("tag", "tq"):
            tag = words.strip()
            self.tag = tag if self.awaiting == "tag" or not self.tag else f"{self.tag}, {tag}"
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
        prose = _SPACES.sub(" ", " ".join(self.words)).strip()
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
        self.tag = None
        text = _SPACES.sub(" ", raw).strip()
        if level == 1:
            self.section, self.subsection = text, ""
        else:
            self.subsection = text


_CODING = re.compile(rb"-\*-.*?coding:\s*([\w.-]+)")


def decode(data: bytes, path: Path) -> str:
    """A page's text: in the encoding its first line declares ("-*- coding: UTF-8 -*-"),
    else UTF-8, else Latin-1, which is what groff reads a page without either as (preconv),
    so the page reads here as `man` shows it."""
    if b"\x00" in data[:8192]:
        raise IngestError(f"{path.name}: looks binary, not a man page", "check the file type")
    declared = _CODING.search(data.split(b"\n", 1)[0])
    for encoding in ([declared.group(1).decode("ascii")] if declared else []) + ["utf-8-sig"]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def read_manpage(data: bytes, path: Path) -> Parsed:
    source = decode(data, path)
    state = _State(path)
    lines = _logical_lines(source)
    _run(state, lines)
    state.flush()
    state.end_listing()
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
    """The source's lines, a line ending in an escaped newline joined to the next."""
    out: list[str] = []
    pending = ""
    for raw in source.split("\n"):
        line = pending + raw.rstrip("\r")
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # an odd run of backslashes: the last escapes the newline
            pending = line[:-1]
            continue
        if line.endswith("\\c"):  # \c: the next line continues this one's words
            pending = line[:-2]
            continue
        pending = ""
        out.append(line)
    if pending:
        out.append(pending)
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


def _run(state: _State, lines: list[str]) -> None:
    i = 0
    last_ie: list[bool] = []
    skip_until: str | None = None  # ".." ending a macro definition being skipped
    table: list[str] | None = None  # a tbl table's lines
    while i < len(lines):
        line = lines[i]
        i += 1
        if skip_until is not None:
            # The end may be indented after its control character (". ." for "..").
            if line[:1] in (".", "'") and line[1:].split()[:1] == [skip_until]:
                skip_until = None
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
        match = re.match(r"(\S*)\s*(.*)", body, re.S)
        name, rest = (match.group(1), match.group(2)) if match else ("", "")
        if not name or name.startswith('\\"') or name.startswith("\\#"):
            continue  # an empty request, or a comment
        if name in ("de", "de1", "am", "ig", "dei", "ami"):
            # A macro's definition (or text to ignore) runs to "..", or to the end named.
            args = split_args(rest)
            end = args[0] if name == "ig" and args else (args[1] if len(args) > 1 else "")
            skip_until = end or "."
            continue
        if name in ("if", "ie", "el"):
            if name == "el":
                value, rest2 = (not last_ie.pop()) if last_ie else False, rest
            else:
                value, rest2 = _condition(state, rest)
                if name == "ie":
                    last_ie.append(value)
            rest2 = rest2.lstrip()
            opens = rest2.startswith("\\{")
            if opens:
                rest2 = rest2[2:].lstrip()
            if not value:
                if opens:
                    depth = 1 + rest2.count("\\{") - rest2.count("\\}")
                    while depth > 0 and i < len(lines):
                        depth += lines[i].count("\\{") - lines[i].count("\\}")
                        i += 1
                continue
            rest2 = rest2.replace("\\}", "")
            if rest2.strip():
                lines.insert(i, rest2)  # what the condition guards, read as a line of its own
            continue
        if name == "TS":
            state.flush()
            table = []
            continue
        _request(state, name, rest)


def _inline(state: _State, args: list[str], joined: bool = False) -> str:
    parts = [state.escape(a) for a in args]
    return ("" if joined else " ").join(parts)


def _request(state: _State, name: str, rest: str) -> None:
    args = split_args(rest)
    if state.mdoc and _mdoc_request(state, name, args):
        return
    if name == "TH":
        state.name = state.escape(args[0]) if args else ""
        state.section_number = state.escape(args[1]) if len(args) > 1 else ""
        state.head = f"{state.name.lower()}({state.section_number})" if state.name else ""
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
    elif name in ("PP", "P", "LP", "HP", "sp", "br", "Sp", "RS", "RE", "PD", "ne", "bp"):
        state.flush()
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
        state.tag = tag if tag and tag not in BULLETS and not numbered else None
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
            key, value = match.group(1), match.group(2)
            if name.startswith("as"):
                value = state.strings.get(key, "") + value
            state.strings[key] = value
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
        state.name = state.escape(args[0]) if args else ""
        state.section_number = state.escape(args[1]) if len(args) > 1 else ""
        state.head = f"{state.name.lower()}({state.section_number})" if state.name else ""
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
        tag = _mdoc_words(state, args).strip()
        state.tag = tag if tag and tag not in BULLETS else None
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
                    for cell in rest[1:].split(tab):
                        if cell.strip() == "T{":
                            current = []
                        else:
                            pending.append(state.escape(cell))
                if current is None:
                    row_done()
            elif not line.startswith((".", "'")):
                current.append(state.escape(line))
            continue
        if line[:1] in (".", "'") or line.strip() in ("_", "=", ""):
            continue
        for cell in line.split(tab):
            if cell.strip() == "T{":
                current = []
            else:
                pending.append(state.escape(cell))
        if current is None:
            row_done()
    if pending:
        row_done()
