"""Ingest files and directories: read, chunk, analyse, embed, store one document at a time.

Each document is written in its own transaction, so a failure (a corrupt file,
a crash) never leaves half a document; the batch goes on with the next file.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
from sqlalchemy import Connection, Engine

from commune.account.metering import Ingestion
from commune.config import Settings
from commune.embed import Embedder
from commune.errors import CommuneError, IngestError
from commune.govern.policy import OPERATOR, TAKEDOWNS, Actor, Decision
from commune.ingest.chunking import chunk_blocks
from commune.ingest.model import Block, Parsed
from commune.ingest.parsing import Parser
from commune.ingest.readers import (
    ARCHIVES,
    man_page_kind,
    man_page_name,
    reading,
    supported,
    walk_reads,
)
from commune.store import blobs, erasure
from commune.store import repository as repo
from commune.store.db import lock, write_transaction
from commune.text.analysis import analyze
from commune.text.lang import detect

log = logging.getLogger("commune.ingest")


@dataclass
class FileOutcome:
    path: str
    status: str  # added | updated | unchanged | failed
    document_id: int | None = None
    chunks: int = 0
    error: str | None = None
    held: str | None = None  # why the revision waits for curation instead of being published
    note: str | None = None  # what of the file could not be read, though it was stored


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0  # found in a directory, of a type no reader reads (or hidden)
    excluded: int = 0  # found in a directory, matched by a pattern the contributor gave
    links: int = 0  # found in a directory, a link to a file the walk reads (or a .so page)
    folder_links: int = 0  # found in a directory, a link to a folder: not followed
    # Found in a directory, an archive (.zip, .tar…): passed over, named, to be unpacked.
    archives: list[str] = field(default_factory=list)
    # Patterns given to --exclude that matched no file found in the folders: a slip, likely.
    unmatched: list[str] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [o.error for o in self.outcomes if o.error]


class Gate(Protocol):
    """Whether a new revision is published on arrival or waits for a curator: the commons'
    curation rules (commons/curation.py ``ArrivalGate``), decided and carried out inside the
    revision's own transaction, so that a crash never leaves one half-published. Ingest only
    writes what the gate decides; the rules live above it."""

    def decide(
        self,
        conn: Connection,
        coll_id: int,
        licence: str | None,
        existing: Any,
        held: str | None = None,
    ) -> Decision:
        """``held``: why ingest holds the file whatever its licence (a retired one's copy)."""
        ...

    def publish(self, conn: Connection, revision_id: int, actor: str, reason: str) -> None: ...


@dataclass(frozen=True)
class Provenance:
    licence: str | None = None
    contributor: str | None = None
    publisher: str | None = None
    # A URI for one file; a base URI for a directory or for several files (source_uri).
    source: str | None = None
    tdm_reserved: bool = False  # the rights holder reserved text and data mining
    actor: Actor = OPERATOR  # who adds it (recorded on the revision and in the audit log)
    # A record to reproduce (an exported dataset's revisions replayed): a field None is none,
    # not left unsaid (_same_file), so that a revision that dropped a publisher is replayed.
    exact: bool = False

    @property
    def recorded(self) -> dict[str, str | None]:
        """What each revision records of its provenance; the same bytes with the same record
        are an unchanged file, and so are they with a field left unsaid (None): _same_file."""
        return {
            "licence": self.licence,
            "contributor": self.contributor,
            "publisher": self.publisher,
        }


class Collected(NamedTuple):
    files: list[tuple[Path, str]]  # each with its path relative to the directory given
    skipped: int  # of a type no reader reads, or hidden
    excluded: int  # matched by a pattern the contributor gave (:func:`excluded`)
    links: int  # symbolic links to a file the same walk reads, and man pages that include one
    # Symbolic links to folders, which the walk does not follow (a loop, or a tree read twice):
    # counted, so that their files are not missing with nothing said.
    folder_links: int = 0
    # Archives (.zip, .tar…), by their path in the directory: not read, and not counted
    # among the files of other types, as what to do with them is known: unpack them.
    archives: tuple[str, ...] = ()
    # Of the skipped, those whose name starts with a dot: a folder holding nothing else is
    # refused saying so (nothing_to_read), not that ".notes.txt" is of another type.
    hidden: int = 0


def collect_files(
    paths: list[str | os.PathLike[str]],
    unreadable: list[tuple[str, str]] | None = None,
    exclude: Sequence[str] = (),
    matched: set[str] | None = None,
) -> Collected:
    """The files to ingest, and how many of those found in directories were passed over.

    Files named one by one are all attempted (an unsupported one is an error
    the user should see, and naming a file says to read it); inside a directory, files of
    other types (images, stylesheets, gzipped copies but man pages: readers.walk_reads) and
    hidden files are skipped silently (counted); archives (.zip, .tar…) are skipped too but
    named, to be unpacked (a town hall sends its documents zipped); and so is skipped a
    link to a file of the same directory read anyway: /usr/share/man links a page's other
    names to it (utmpx.5.gz to utmp.5.gz), and each copy would take a place among the
    passages an answer reads.

    ``matched`` gets each pattern of ``exclude`` that matches a file or folder found in a
    directory (of any type, followed or not): one that matches none is likely a slip
    (:func:`unmatched_exclusions`).
    """
    seen = matched if matched is not None else set(exclude)  # none asked: none looked for
    files: list[tuple[Path, str]] = []
    skipped = passed_over = links = folder_links = hidden = 0
    archives: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            top = path.resolve()
            here = _as_walked(path, exclude)
            # Each pattern not yet seen to match, as this walk reads it.
            pending = {p: _as_walked(path, [p]) for p in exclude if p not in seen}

            # A folder that cannot be listed (its permissions) is reported, not passed over:
            # its files would be missing with "0 failed" said.
            def fails(err: OSError) -> None:
                if unreadable is not None:
                    where = str(err.filename)
                    hint = (
                        f" ({UNREADABLE_FOLDER})"
                        if err.errno in (errno.EACCES, errno.EPERM)
                        else ""
                    )
                    unreadable.append((where, f"{where}: {err.strerror or err}{hint}"))

            for root, dirs, names in os.walk(path, onerror=fails):
                for sub in (d for d in dirs if pending):
                    # A folder the walk passes over (.git, a link to a folder) or that holds
                    # no file today: a pattern naming it is no slip.
                    within = (Path(root) / sub).relative_to(path).as_posix()
                    for pattern, forms in list(pending.items()):
                        if excluded(within, forms):
                            seen.add(pattern)
                            del pending[pattern]
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                folder_links += sum(os.path.islink(os.path.join(root, d)) for d in dirs)
                for name in sorted(names):
                    f = Path(root) / name
                    relative = f.relative_to(path).as_posix()
                    for pattern, forms in list(pending.items()):
                        if excluded(relative, forms):
                            seen.add(pattern)
                            del pending[pattern]
                    if name.startswith(".") or not walk_reads(name):
                        if name.startswith(".") or not name.lower().endswith(ARCHIVES):
                            skipped += 1
                            hidden += name.startswith(".")
                        elif excluded(relative, here):
                            passed_over += 1
                        else:
                            archives.append(relative)
                    elif excluded(relative, here):
                        passed_over += 1
                    elif f.is_symlink() and _walk_reads(f, top, here):
                        links += 1
                    elif man_page_name(name) and (kind := _man_kind(f, path, here)) != "page":
                        # A .so page naming another that the walk reads: a link in roff's
                        # form. A file numbered like a page that holds no roff is no page.
                        if kind == "include":
                            links += 1
                        else:
                            skipped += 1
                    else:
                        files.append((f, relative))
        else:
            files.append((path, path.name))
    return Collected(files, skipped, passed_over, links, folder_links, tuple(archives), hidden)


def _as_walked(folder: Path, patterns: Sequence[str]) -> list[str]:
    """``patterns`` as the walk of ``folder`` reads them: one that names a file or folder
    within it by its path from here (``--exclude archives/drafts`` beside ``archives/``, or
    an absolute path) becomes that path within the folder, also through a link to the
    folder (``docs-link`` added, ``docs/drafts`` named). Read only as a path within the
    folder, it matched nothing, and the drafts were added without a word. The pattern stays
    too: ``notes.txt`` given in a subfolder of the folder, where one stands, still names
    every notes.txt (a name matches wherever it is), not only the one here."""
    walked = list(patterns)
    for pattern in patterns:
        named = os.path.abspath(os.path.expanduser(pattern))
        if os.path.lexists(named) and (within := _within(named, folder)) is not None:
            walked.append(within)
    return walked


def _within(named: str, folder: Path) -> str | None:
    """The path of ``named`` (absolute) within ``folder``, as it is written or as links
    lead (``docs-link/`` added, ``docs/drafts`` named); None when it is not in it."""
    for there, top in (
        (named, os.path.abspath(folder)),
        (os.path.realpath(named), os.path.realpath(folder)),
    ):
        if there.startswith(top.rstrip("/") + "/"):
            return os.path.relpath(there, top)
    return None


def unmatched_exclusions(patterns: Sequence[str]) -> str:
    """What to say of ``patterns`` given to ``--exclude`` that matched no file of the folders
    added: most likely a slip ('brouilons' for 'brouillons'), whose files were added. The run
    goes on: a pattern kept in a script for files that come and go matches none some days."""
    shown = ", ".join(repr(p) for p in patterns)
    if len(patterns) == 1:
        return f"the --exclude pattern {shown} matched no file: check its spelling"
    return f"the --exclude patterns {shown} matched no file: check their spelling"


def exclusion_outside(
    paths: Sequence[str | os.PathLike[str]], patterns: Sequence[str]
) -> IngestError | None:
    """The refusal of an ``--exclude`` written as a path (``other/drafts``, or absolute)
    that names a file or folder outside every folder given: it could pass over nothing,
    and the files it was meant to keep out were added with nothing said. None when each
    pattern can match (a glob, a name, a path within a folder given)."""
    folders = [Path(p).expanduser() for p in paths if Path(p).expanduser().is_dir()]
    if not folders:
        return None  # files named are all read: --exclude is for the folders' files
    for pattern in patterns:
        written = os.path.expanduser(pattern)
        if "/" not in written.rstrip("/"):
            continue  # a name or a glob ('drafts', '*.tmp'), matched wherever it is
        named = os.path.abspath(written)
        if any(_within(named, folder) is not None for folder in folders):
            continue
        if not os.path.isabs(written) and (
            not os.path.lexists(named) or any(os.path.lexists(f / written) for f in folders)
        ):
            continue  # a path within the folders ('2024/drafts'), as the walk reads it
        where = ", ".join(str(f) for f in folders)
        return IngestError(
            f"--exclude {pattern}: {named} is not in {where}, so nothing would be passed "
            "over, nothing was added",
            "name a file or folder inside it, from here or absolute, or give a pattern "
            "('*.tmp', 'drafts')",
        )
    return None


def nothing_to_read(paths: list[str], found: Collected) -> IngestError:
    """The refusal of an add whose ``paths`` (folders: a file named is always read) hold no
    file a reader reads: what was found there, and what Commune reads. One line, each part a
    phrase of its own that text/messages.py says in French."""
    where = ", ".join(paths)
    other = found.skipped - found.hidden
    seen = [
        other and ("1 file of another type" if other == 1 else f"{other} files of other types"),
        found.hidden
        and (
            "1 hidden file (its name starts with a dot)"
            if found.hidden == 1
            else f"{found.hidden} hidden files (their names start with a dot)"
        ),
        found.archives
        and (
            "1 archive to unpack first"
            if len(found.archives) == 1
            else f"{len(found.archives)} archives to unpack first"
        ),
        found.excluded and f"{found.excluded} excluded by --exclude",
        found.folder_links
        and (
            "1 link to a folder not followed"
            if found.folder_links == 1
            else f"{found.folder_links} links to folders not followed"
        ),
    ]
    said = ", ".join(str(part) for part in seen if part)
    if not said:
        return IngestError(f"{where}: empty, nothing to add", supported())
    return IngestError(f"{where}: no file Commune reads, only {said}", supported())


def _man_kind(path: Path, top: Path, exclude: Sequence[str]) -> str | None:
    """:func:`readers.man_page_kind` of the file at ``path``, from its first bytes; a .so
    page is "include" only when the walk of ``top`` (the directory as given, which ``path``
    is under) takes the page it names (relative to the manual's root, the folder above
    man1/), else "page", read to say what is missing."""
    try:
        with path.open("rb") as f:
            kind, target = man_page_kind(f.read(65536))
    except OSError:
        return "page"  # read in full, it fails with its own reason
    if kind == "include":
        root = path.parent.parent
        named = [root / target, root / f"{target}.gz"] if target else []
        if path in named or not any(_walk_lists(page, top, exclude) for page in named):
            return "page"
    return kind


def _walk_lists(page: Path, top: Path, exclude: Sequence[str]) -> bool:
    """Whether the walk of ``top`` meets ``page`` and takes it (reads it, or counts it as a
    link to what it reads): its own path, not the one a link leads to."""
    try:
        if not os.path.lexists(page) or not page.is_relative_to(top):
            return False
    except (OSError, ValueError):  # a name too long for the system
        return False
    return _takes(page, top, exclude)


def _walk_reads(link: Path, top: Path, exclude: Sequence[str]) -> bool:
    """Whether the walk of the directory ``top`` reads the file ``link`` is, or points to,
    under that file's own name."""
    try:
        target = link.resolve()
    except (OSError, RuntimeError):  # a loop: collected, so that reading it says so
        return False
    return target.is_file() and target.is_relative_to(top) and _takes(target, top, exclude)


def _takes(path: Path, top: Path, exclude: Sequence[str]) -> bool:
    """Whether the walk of ``top`` takes ``path``, which is within it: of a type it reads,
    not hidden, not excluded."""
    within = path.relative_to(top)
    return (
        walk_reads(path.name)
        and not any(part.startswith(".") for part in within.parts)
        and not excluded(within.as_posix(), exclude)
    )


def excluded(relative: str, patterns: Sequence[str]) -> bool:
    """Whether a file found in a directory, at ``relative`` (its path from the directory
    given), matches one of ``patterns``: shell globs read against that path, the file's name
    alone, or one of the folders it is in ("*.pdf", "drafts", "drafts/*", "old/*.md").

    A manual shipped as both HTML and PDF would otherwise be indexed twice, and its copies
    would take the places of other passages among those an answer reads. Case is ignored, as
    the readers ignore it in a file's type: "*.pdf" passes over "NOTICE.PDF" too."""
    path = relative.lower()
    parts = path.split("/")
    names = [path, parts[-1], *("/".join(parts[:i]) for i in range(1, len(parts)))]
    for raw in patterns:
        pattern = raw.lower().removeprefix("./").rstrip("/")
        if pattern and any(fnmatchcase(n, pattern) for n in names):
            return True
    return False


# Schemes a source may have: a link a reader can follow, or an identifier. Anything else
# ("javascript:", "data:") would be rendered as a link to click in the web page.
SOURCE_SCHEMES = ("http", "https", "ftp", "ftps", "file", "urn", "doi")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def check_source(source: str) -> str:
    """``source`` unchanged, or an error naming what to give instead."""
    match = _SCHEME.match(source.strip())
    if match and match.group(1).lower() not in SOURCE_SCHEMES:
        raise CommuneError(
            f"refused source {source[:80]!r}: {match.group(1)!r} is not a document address",
            f"give an http(s) URI or a path (allowed schemes: {', '.join(SOURCE_SCHEMES)})",
        )
    return source


def source_uri(path: Path, relative: str, base: str | None, is_base: bool) -> str:
    """The address that makes a file "the same document" on its next addition.

    ``is_base``: ``base`` is shared by several files (a directory's members, or several
    files named with one ``--source``), so it is a base URI and each file's address is
    BASE/relative-path. A contributor who names six files with one --source means "they all
    come from there", not "these are six versions of one page": with the exact source for
    each, they became revisions of one document and five were lost. Refusing would make
    them run six commands; the base rule is the one directories already follow.
    """
    if base is None:
        try:
            return str(path.resolve())
        except (RuntimeError, OSError):
            # A symbolic link loop (Python 3.11 raises RuntimeError): the file fails when it
            # is read, with a reason; its address stays the one it was given as.
            return os.path.abspath(path)
    if is_base:
        return joined(base, relative)
    return base


# Schemes whose addresses are links with a path (the web page links them): a file's path
# joined to such a base is percent-encoded there.
LINKED = ("http", "https", "ftp", "ftps", "file")


def joined(base: str, relative: str) -> str:
    """BASE/relative, the address of a file at ``relative`` in a folder added with the base
    ``base``. In a link (http, https, ftp, file), the path is percent-encoded and goes before
    the base's query: "compte rendu #3.pdf" was written as is, its link stopping at "#" (a
    fragment) or at "?" (a query), and a base such as ".../?v=1" took the path into its
    query. Any other base (a path, a urn:) is joined as it is."""
    scheme = _SCHEME.match(base)
    if scheme is None or scheme.group(1).lower() not in LINKED or not _encodes(relative):
        # A name that is not UTF-8 stays as it is: the add refuses it, saying to rename it.
        return legacy_joined(base, relative)
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + "/" + quote(relative, safe="/!$&'()*+,;=:@")
    return urlunsplit(parts._replace(path=path))


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def legacy_joined(base: str, relative: str) -> str:
    """BASE/relative as written before :func:`joined` encoded links: the address of the
    documents added so (ingest/batch.py keeps it theirs)."""
    return base.rstrip("/") + "/" + relative


# What the dense model reads of a passage at most. Its memory grows with the input (20 kB of
# one token took 324 MB), and a passage is cut at 260 words of up to 2,000 characters each
# (chunking.py); real passages stay well below: the evaluation's longest has 3,189.
MAX_EMBED_CHARS = 8000


def embedding_text(title: str, heading_path: str, text: str) -> str:
    """What the dense model sees: the chunk in its context (title and section)."""
    context = " — ".join(p for p in (title, heading_path) if p)
    return (f"{context}\n{text}" if context else text)[:MAX_EMBED_CHARS]


def lexical_text(title: str, heading_path: str, text: str) -> str:
    # Section titles name what a passage is about; they are indexed with it.
    return "\n".join(p for p in (title, heading_path, text) if p)


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else is refused before
    it is read: a FIFO would block forever, /dev/zero never ends, a huge file exhausts memory."""
    st = path.stat()  # follows links; a link loop raises OSError (reported per file)
    if not stat.S_ISREG(st.st_mode):
        raise IngestError(f"{path.name}: not a regular file (a pipe, device or socket)")
    limit_mb = max_bytes / 1_000_000
    if st.st_size > max_bytes:
        raise IngestError(
            f"{path.name}: {st.st_size / 1_000_000:.1f} MB, over the {limit_mb:g} MB limit",
            "raise [limits] max_file_mb in commune.toml if this file is wanted",
        )
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)  # the file may have grown since stat()
    if len(data) > max_bytes:
        raise IngestError(f"{path.name}: over the {limit_mb:g} MB limit")
    return data


@dataclass
class Prepared:
    """A file read, cut into passages, analysed and embedded: everything but the storing.
    Computed where the work is cheapest (here, or on a Ray worker: ingest/distributed.py)."""

    title: str
    media_type: str
    tdm_reserved: bool
    language: str
    chunks: list[repo.NewChunk]
    vectors: np.ndarray
    source: str | None = None  # the address the document gives for itself (Parsed.source)
    licence: str | None = None  # the licence it declares for itself (Parsed.licence)
    # Which reading of its format made it (readers.READINGS), named where it was read: a Ray
    # worker running another version records its own.
    reading: str | None = None
    missing: str | None = None  # what of it could not be read (Parsed.missing)


def _without_nul(parsed: Parsed) -> Parsed:
    """The file's text without NUL characters, which mean nothing in it (a PDF's glyph
    mapped to no character, a stray byte past the first 8 KB a text file is checked on) and
    which PostgreSQL stores in no text: SQLite stored such a file, and on PostgreSQL the
    whole add stopped at it."""
    texts = [parsed.title, *(b.text for b in parsed.blocks)]
    texts += [h for b in parsed.blocks for h in b.headings]
    if not any("\x00" in t for t in texts):
        return parsed

    def clean(text: str) -> str:
        return text.replace("\x00", "")

    blocks = [
        replace(b, text=clean(b.text), headings=tuple(clean(h) for h in b.headings))
        for b in parsed.blocks
    ]
    return replace(parsed, title=clean(parsed.title), blocks=blocks)


def prepare(
    data: bytes,
    path: Path,
    settings: Settings,
    embedder: Any,
    parser: Any,
    reuse: dict[str, np.ndarray] | None = None,
) -> Prepared:
    """Parse, chunk, analyse and embed one file's content (``reuse``: vectors of passages
    that did not change, by repo.vector_key)."""
    try:
        parsed = parser.read(data, path)
    except (IngestError, OSError):
        raise
    except Exception as exc:
        # A reader's library failing on a malformed file (a PDF whose pages are not all there,
        # an ODT heading level that is not a number) is this file's failure, not the batch's:
        # the traceback stayed the only message, and the files after it were never tried.
        # Debug only: without logging set up (a CLI command), Python's last resort would
        # print a warning's traceback to the user; the IngestError below is their message.
        log.debug("reading %s failed", path, exc_info=exc)
        raise IngestError(
            f"{path.name}: could not be read: {type(exc).__name__}",
            "save it again from the application that made it, or convert it to PDF",
        ) from exc
    parsed = _without_nul(parsed)
    pieces = chunk_blocks(
        [_without_title(b, parsed.title) for b in parsed.blocks],
        settings.chunking.target_words,
        settings.chunking.max_words,
    )
    langs = [detect(c.text, default="") for c in pieces]
    weights = [len(c.text.split()) for c in pieces]
    doc_lang = _majority(list(zip(langs, weights, strict=True)))
    langs = [lang or doc_lang for lang in langs]
    new_chunks = [
        repo.NewChunk(
            text=c.text,
            heading_path=c.heading_path,
            anchor=c.anchor,
            page=c.page,
            language=lang,
            terms=" ".join(analyze(lexical_text(parsed.title, c.heading_path, c.text), lang)),
            n_words=len(c.text.split()),
        )
        for c, lang in zip(pieces, langs, strict=True)
    ]
    reuse = reuse or {}
    keys = [repo.vector_key(parsed.title, c.heading_path, c.text) for c in new_chunks]
    todo = [i for i, k in enumerate(keys) if k not in reuse]
    fresh = embedder.embed_passages(
        [embedding_text(parsed.title, new_chunks[i].heading_path, new_chunks[i].text) for i in todo]
    )
    vectors = np.zeros((len(new_chunks), embedder.dim), dtype=np.float32)
    for row, i in enumerate(todo):
        vectors[i] = fresh[row]
    for i, k in enumerate(keys):
        if k in reuse:
            vectors[i] = reuse[k]
    return Prepared(
        parsed.title,
        parsed.media_type,
        parsed.tdm_reserved,
        doc_lang,
        new_chunks,
        vectors,
        parsed.source,
        parsed.licence,
        reading(parsed.media_type),
        parsed.missing,
    )


def one_file(
    engine: Engine,
    settings: Settings,
    embedder: Embedder,
    coll_id: int,
    path: Path,
    source: str,
    prov: Provenance,
    parser: Parser,
    gate: Gate,
    ingestion: Ingestion | None = None,
) -> FileOutcome:
    """One file, read to stored; its failure is its outcome, and the batch goes on.
    ``ingestion``: the run's meter, charged in the transaction that stores the file."""
    try:
        data = read_regular_file(path, int(settings.limits.max_file_mb * 1_000_000))
        with engine.connect() as conn:
            existing = repo.find_document(conn, coll_id, source)
            digest = hashlib.sha256(data).hexdigest()
            if unchanged(
                conn, existing, digest, prov.recorded, reserved=prov.tdm_reserved, exact=prov.exact
            ):
                # Its original made whole again if a power cut left it empty (blobs.put):
                # adding the same folder again is what an operator does after one. Not one a
                # personal-data takedown erased: adding the folder again stored it back.
                if not erasure.erased_file(conn, digest):
                    blobs.put(settings.home, digest, data)
                return FileOutcome(str(path), "unchanged", int(existing.id))
            # A new path whose bytes the collection holds already (a second checkout): its
            # vectors serve, so that only reading it is spent to learn its address (store).
            known = existing or repo.same_bytes(conn, coll_id, digest)
            reuse = repo.current_vectors(conn, int(known.id), embedder.name) if known else {}
        prepared = prepare(data, path, settings, embedder, parser, reuse)
        return store(
            engine,
            settings,
            embedder.name,
            coll_id,
            path,
            source,
            prov,
            data,
            prepared,
            gate,
            ingestion,
        )
    except IngestError as exc:
        return FileOutcome(str(path), "failed", error=str(exc))
    except OSError as exc:
        return FileOutcome(str(path), "failed", error=file_error(path, exc))


# Errors of the home's disk, not of the file being read: every following file would fail the
# same way, so the batch stops and the caller says what to do (cli/group.py).
HOME_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


UNREADABLE_FILE = "let the user running Commune read it, or leave it out"
UNREADABLE_FOLDER = "let the user running Commune open it, or leave it out"


def file_error(path: Path, exc: OSError) -> str:
    """The one-line reason a file could not be read; a fault of the home is raised instead."""
    if exc.errno in HOME_ERRNOS:
        raise exc
    if exc.errno == errno.ELOOP:
        return f"{path}: a symbolic link loop: remove or fix the link"
    if exc.errno in (errno.EACCES, errno.EPERM):
        # "Permission denied" alone: on a town hall's shared drive, nobody knew what to do.
        return f"{path.name}: {exc.strerror} ({UNREADABLE_FILE})"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return (
            f"{path}: a link to {os.readlink(path)}, which does not exist: fix or remove the link"
        )
    return f"{path.name}: {exc.strerror}"


def store(
    engine: Engine,
    settings: Settings,
    model: str,
    coll_id: int,
    path: Path,
    source: str,
    prov: Provenance,
    data: bytes,
    prepared: Prepared,
    gate: Gate,
    ingestion: Ingestion | None = None,
) -> FileOutcome:
    """Store a prepared file as a new revision, published or held as curation decides.
    ``ingestion``: the run's meter; the work that read and embedded the file becomes a ledger
    row in the revision's own transaction, so that a crash keeps both or neither."""
    digest = hashlib.sha256(data).hexdigest()
    source_key = source
    asked = prov  # as the contributor gave it: _licensed fills in what they left unsaid
    declared = prepared.licence
    meta = prov.recorded
    reserved = prov.tdm_reserved or prepared.tdm_reserved
    # The user's --source wins; without one, the document's own address beats a local path.
    address = source if prov.source or not prepared.source else prepared.source
    doc = {
        "title": prepared.title[:500],
        "source_uri": address,
        "language": prepared.language,
        "content_hash": digest,
        "retrieved_at": repo.now(),
        **meta,
    }
    blobs.put(settings.home, digest, data)  # before the commit that references it
    with write_transaction(engine) as conn:
        # Re-check holding the write lock (PostgreSQL: this document's): another process
        # may have added it meanwhile.
        lock(conn, "document", repo.document_key(coll_id, source_key))
        # And this file's, whatever its collection: a retirement of a document holding it,
        # at the same moment, looked for published copies before this one committed, and
        # this one had found no retired document (curation.retire takes it too).
        lock(conn, "file", digest)
        existing = repo.find_document(conn, coll_id, source_key)
        # Its newest revision when that holds this very file (bytes and provenance).
        prov = _licensed(conn, asked, existing, digest, declared)
        meta = prov.recorded
        doc.update(meta)
        same = _same_file(conn, existing, digest, meta, reserved, prov.exact)
        if _stands(same, existing):
            return FileOutcome(str(path), "unchanged", int(existing.id))
        twin = (
            None if existing else repo.same_bytes(conn, coll_id, digest, address, retired_too=True)
        )
        if twin is not None:
            # The same bytes at the same address, read from another path (a fiche fetched in
            # a second checkout) are that document: stored twice, each passage would be found
            # twice and crowd out the others. With another licence or publisher, they are its
            # new revision, through curation like any. The same bytes at two addresses stay
            # two documents.
            prov = _licensed(conn, asked, twin, digest, declared)
            meta = prov.recorded
            doc.update(meta)
            same = _same_file(conn, twin, digest, meta, reserved, prov.exact)
            if _stands(same, twin):
                return FileOutcome(str(path), "unchanged", int(twin.id))
            existing = twin
            source_key = str(twin.source_key)
        if same is not None and _read_alike(conn, same, doc, prepared, model):
            # The same file read again by a newer reader (readers.READINGS), its passages as
            # stored: a new revision would change nothing a reader sees, and in a curated
            # collection each waited for a curator, an upgrade filling their queue with
            # revisions to approve unread. Only the reading is recorded, so that the file is
            # not read again at the next add.
            repo.record_reading(conn, int(same.id), prepared.reading)
            return FileOutcome(str(path), "unchanged", int(existing.id))
        # The same bytes under another address in this collection, published: a folder added
        # again without the --source the file was first added under. They stay two documents
        # (the same form may live at two addresses), but each passage would be found twice
        # and crowd out the others: the operator is told which, and how to retire this one
        # alone. A contributor is told too, and whom to ask: their upload was said to go
        # before a curator, yet a collection asking no approval published it as it came, a
        # second document nobody was told of. Only a document publishing these bytes is
        # named to them: one whose newest revision held them, still waiting for a curator,
        # was named (another's upload nobody reads yet, and no passage found twice), while
        # one publishing them under a newer waiting text was not.
        elsewhere = None
        if existing is None:
            elsewhere = (
                repo.same_bytes(conn, coll_id, digest)
                if prov.actor.is_operator
                else repo.publishing(conn, coll_id, digest)
            )
        retired = (
            repo.retired_holder(conn, coll_id, digest, TAKEDOWNS) if existing is None else None
        )
        held = None
        if retired is not None:
            # The file of a retired document, at another address (a folder added again
            # without the --source it was first added under), and no document of the
            # collection publishes it: a retirement for personal data would be undone by the
            # next `commune add`, or by adding the file to another collection. A copy held so
            # publishes nothing, so a third address is held too. The gate says it with the
            # approvals its collection asks: set here over its decision, the reason said the
            # retirement alone in a collection asking 2, and both once the rules changed.
            here = retired.collection_id == coll_id
            held = retired_copy(int(retired.id) if here else None)
        decision = gate.decide(conn, coll_id, prov.licence, existing, held=held)
        if not decision.allowed and same is not None:
            # A curator sees why the same file is back: read whole by a newer reader.
            decision = Decision(
                False, f"the same file, read again by a newer reader: {decision.reason}"
            )
        licence = prov.licence
        if (
            decision.allowed
            and licence
            and declared
            and licence.lower() != declared.lower()
            and not (same is not None and repo.approved(conn, int(existing.id), digest, licence))
        ):
            # A --licence that contradicts the file's own statement is more often a slip than a
            # relicensing: a curator confirms it (the file's statement is its publisher's).
            # Once confirmed, for these bytes, it is not asked again when a newer reader reads
            # them (same: the revision read again holds these bytes under this licence), at
            # this upgrade or any later one.
            decision = Decision(
                False,
                f"the file declares licence {declared}, but {licence} was given: "
                "a reviewer must confirm",
            )
        if _replaces_another_members(conn, existing, prov.actor):
            # Uploads are addressed by collection and file name: another member's
            # "compte-rendu.pdf" silently replaced the first one's, which readers lost.
            # Held for something else too (a collection asking for approvals), it says
            # both: the curators read only "the collection needs 1 approval(s)" and
            # approved Ville B's text over Ville A's unaware.
            held = None if decision.allowed else decision.reason
            decision = Decision(False, f"{held}; {OTHER_MEMBERS}" if held else OTHER_MEMBERS)
        document_id, revision_id = repo.write_revision(
            conn,
            coll_id=coll_id,
            existing=existing,
            source_key=source_key,
            doc=doc,
            media_type=prepared.media_type,
            size_bytes=len(data),
            new_chunks=prepared.chunks,
            vectors=prepared.vectors,
            model=model,
            revision_fields={
                "hold_reason": None if decision.allowed else decision.reason,
                "contributor_user_id": prov.actor.user_id,
                "contributor_member_id": prov.actor.member_id,
                "tdm_reserved": reserved,
                "reading": prepared.reading,
            },
        )
        if decision.allowed:
            gate.publish(conn, revision_id, prov.actor.user, decision.reason)
        if ingestion is not None:
            ingestion.charge(conn, coll_id)
    status = "added" if existing is None else "updated"
    held = None if decision.allowed else decision.reason
    if not prov.actor.is_operator:  # the operator may read every collection
        held = for_contributor(held)
    note = prepared.missing
    if note is None and elsewhere is not None:
        fix = (
            f"retire this one with commune retire {document_id} --reason duplicate --keep-copies"
            if prov.actor.is_operator
            else "ask a curator of the collection to retire one of them"
        )
        note = (
            f"{path.name}: the same bytes as document {elsewhere.id}, at another address: each "
            f"passage would be found twice ({fix})"
        )
    return FileOutcome(str(path), status, document_id, len(prepared.chunks), held=held, note=note)


OTHER_MEMBERS = (
    "the published revision was contributed by another member: a reviewer must confirm that "
    "this one replaces it"
)


def _replaces_another_members(conn: Connection, existing: Any, actor: Actor) -> bool:
    """Whether a user's revision would replace a published one that is not their member's
    (or is the operator's); the operator's own replace as they come."""
    if actor.is_operator or existing is None or existing.published_revision_id is None:
        return False
    return repo.published_member(conn, existing) != actor.member_id


def retired_copy(document_id: int | None) -> str:
    """Why a new document waits: its file is that of a document a curator retired, in the
    same collection (``document_id``) or in another (None), which this collection's curators
    may not be allowed to see, so it is not named."""
    if document_id is None:
        return (
            "the same file as a document retired in another collection: approving it "
            "publishes it again"
        )
    return (
        f"the same file as document {document_id}, which was retired: approving it publishes "
        "it again"
    )


# What a contributor reads instead of retired_copy(None): that the file's bytes were retired
# in another collection, perhaps another member's private one, tells them what they may not
# read (that such a file was there, and was taken down). The curators who decide read the
# stored reason (commons/curation.pending, show).
HELD_FOR_A_CURATOR = "a reviewer of the collection must check this file before it is published"


def for_contributor(reason: str | None) -> str | None:
    """``reason`` (why a revision waits) as its contributor may read it."""
    if reason is not None and retired_copy(None) in reason:
        return HELD_FOR_A_CURATOR
    return reason


def unchanged(
    conn: Connection,
    existing: Any,
    digest: str,
    meta: dict[str, str | None],
    *,
    reserved: bool = False,
    exact: bool = False,
) -> bool:
    """Same bytes and same provenance as the newest revision (``existing``: the document's
    row from repo.find_document, or None), read as its format is read today: nothing to do.
    A revision read by a reader that has since changed (readers.READINGS) is read again.
    ``reserved``: text and data mining is reserved now (--tdm-reserved)."""
    return _stands(_same_file(conn, existing, digest, meta, reserved, exact), existing)


def _stands(revision: Any, document: Any) -> bool:
    """Whether ``revision`` (the same file's, or None) of ``document`` stays as it is: read as
    its format is read today, or rejected, or sent back for changes, or of a document retired
    (perhaps for personal data, its text then stored again). Such a file added again was
    "unchanged"; read again by a newer reader, it came back to the curators' queue as a new
    revision, or was published outright in a collection that had stopped asking for
    approval. The curator decided on these bytes; a reader upgrade decides nothing (the
    contributor's next text is a new file, curated as any; one sent back and approved later
    is read again at its next add, published)."""
    if revision is None:
        return False
    return bool(
        revision.status in ("rejected", "changes-requested")
        or document.status == "retired"
        or revision.reading == reading(revision.media_type)
    )


def _read_alike(
    conn: Connection, revision: Any, doc: dict[str, Any], prepared: Prepared, model: str
) -> bool:
    """Whether ``prepared`` (the same bytes as ``revision``, read again) comes out as the
    revision stored it: the same title, language, address and type, and the same passages
    (repo.same_passages). Passages, not the text they hold: they are what is searched,
    embedded with their title and section, and cited by anchor and page. A reader that keeps
    every word but cuts them otherwise (a text with old Mac line ends, one passage then one a
    paragraph) or files them under other headings changes what is found and what an answer
    cites, which a curator checks as any change."""
    return (
        revision.title == doc["title"]
        and revision.language == doc["language"]
        and revision.source_uri == doc["source_uri"]
        and revision.media_type == prepared.media_type
        and repo.same_passages(conn, int(revision.id), prepared.chunks, model)
    )


def _same_file(
    conn: Connection,
    existing: Any,
    digest: str,
    meta: dict[str, str | None],
    reserved: bool = False,
    exact: bool = False,
) -> Any:
    """The newest revision of ``existing`` when it holds these bytes with this provenance.
    A reservation of text and data mining made since is a change: the rights holder's
    opt-out, given with the same file again, was taken for an unchanged file and dropped.
    Without it, an unchanged file stays as it is, reserved or not."""
    if existing is None:
        return None
    current = repo.current_revision(conn, int(existing.id))
    # A field not given (no --licence this time) is no change, as a reservation not given
    # again is not: the folder added again without its options made each of its files a new
    # revision without a licence, "updated" and waiting for a curator, nothing changed.
    if (
        current is not None
        and current.content_hash == digest
        and all((v is None and not exact) or getattr(current, k) == v for k, v in meta.items())
        and (current.tdm_reserved or not reserved)
    ):
        return current
    return None


def _licensed(
    conn: Connection, prov: Provenance, existing: Any, digest: str, declared: str | None
) -> Provenance:
    """``prov`` with what it leaves unsaid kept from the revision of ``existing`` that holds
    these bytes (:func:`_kept`), then, still without a licence, the licence the file declares
    for itself (a DILA fiche's Licence Ouverte: read, then dropped, the fiche was held as
    unlicensed).

    The licence recorded for these bytes comes first: it is the contributor's, or a
    curator's who set it on approval or confirmed it over the file's statement. Taken first,
    the file's own statement replaced the curator's decision when a newer reader read the
    same bytes again (readers.READINGS), and the fiche waited as a licence change. A
    curator decides what a file's statement is worth; a reader upgrade decides nothing."""
    prov = _kept(conn, prov, existing, digest)
    if prov.licence is None and declared:
        prov = replace(prov, licence=declared)
    return prov


def _kept(conn: Connection, prov: Provenance, existing: Any, digest: str) -> Provenance:
    """``prov`` with the fields it leaves unsaid taken from the newest revision of
    ``existing`` when that holds the same bytes: a --publisher given alone corrects the
    publisher (the licence recorded stays, not dropped to wait for a curator), and the same
    file read again by a newer reader keeps what was recorded of it. New bytes take only what
    is said: their licence is their contributor's to give."""
    current = repo.current_revision(conn, int(existing.id)) if existing is not None else None
    if prov.exact or current is None or current.content_hash != digest:
        return prov
    unsaid = {k: getattr(current, k) for k, v in prov.recorded.items() if v is None}
    return replace(prov, **unsaid)


def _without_title(block: Block, title: str) -> Block:
    """Drop a leading heading that repeats the document title (it would show twice)."""
    if block.headings and block.headings[0].strip() == title.strip():
        return Block(block.text, block.headings[1:], block.anchor, block.page)
    return block


def _majority(weighted: list[tuple[str, int]]) -> str:
    totals: dict[str, int] = {}
    for lang, weight in weighted:
        if lang:
            totals[lang] = totals.get(lang, 0) + weight
    return max(totals, key=lambda k: totals[k]) if totals else "en"
