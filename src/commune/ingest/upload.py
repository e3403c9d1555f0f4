"""Files that arrive over HTTP: a safe name, and content that is what its name says.

An uploaded name is the client's word: only its last component is kept, and it must carry a
supported suffix. The content's first bytes must agree with that suffix (a PDF starts with
%PDF-, Office documents are zip archives, text is not a known binary format): a binary named
`.txt` or an executable named `.pdf` is refused before it is stored or parsed.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Protocol

from commune.account.metering import INGEST, UPLOAD, Metering, Work
from commune.config import Settings
from commune.errors import CommuneError, IngestError
from commune.govern.licences import TextMissing
from commune.govern.policy import Actor
from commune.ingest.encoding import BOMS, utf16_unmarked
from commune.ingest.pipeline import IngestSummary
from commune.ingest.readers import ARCHIVES

TEXT = {".txt", ".md", ".markdown", ".html", ".htm"}
MAGIC = {
    ".pdf": (b"%PDF-",),
    # A Word file saved with a password is Microsoft's compound file, no zip: the reader
    # says so, and what to do (refused here, it was "not a DOCX file: rename it").
    ".docx": (b"PK\x03\x04", bytes.fromhex("d0cf11e0a1b11ae1")),
    ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
}
# What a file that claims to be text must not start with.
BINARY = {
    b"%PDF-": "a PDF",
    b"PK\x03\x04": "a zip archive (an Office document?)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x7fELF": "a program (ELF)",
    b"MZ": "a Windows program",
    b"\x1f\x8b": "a gzip archive",
}


def safe_name(name: str | None) -> str:
    """The file name to store an upload under, or a one-line error."""
    raw = (name or "").strip()
    base = PureWindowsPath(PurePosixPath(raw).name).name  # no directory, either convention
    base = re.sub(r"[\x00-\x1f]", "", base)
    # One name, however the sender's system spells its accents: a Mac sends "réunion.md"
    # decomposed (e and a combining accent), Windows composed, and the same file sent from
    # both became two documents at two addresses, its passages found twice.
    base = unicodedata.normalize("NFC", base)
    if base in ("", ".", ".."):
        raise IngestError(f"refused upload {raw[:80]!r}: it has no file name", "name the file")
    if len(base) > 200:
        raise IngestError(f"refused upload {base[:40]!r}…: the name is too long", "shorten it")
    if base.startswith("."):
        # Uploads are added as a folder, whose reading passes over hidden files: the file
        # would be accepted here and then vanish from the reply without a word.
        raise IngestError(
            f"{base}: a hidden file's name (it starts with a dot)", "rename it without the dot"
        )
    suffix = PurePosixPath(base).suffix.lower()
    if base.lower().endswith(ARCHIVES):
        raise IngestError(
            f"{base}: an archive, whose files are not read from it",
            "unpack it, then upload the files it holds",
        )
    if suffix not in TEXT | set(MAGIC):
        raise IngestError(
            f"{base}: unsupported type {suffix or '(no extension)'}",
            "upload txt, md, html, pdf, odt, ods or docx files",
        )
    return base


def sniff(name: str, head: bytes) -> None:
    """Refuse content that is not what the name's suffix says."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in MAGIC:
        if not head.startswith(MAGIC[suffix]):
            raise IngestError(
                f"{name}: the content is not a {suffix[1:].upper()} file",
                "upload the file itself, or rename it to what it is",
            )
        return
    for magic, what in BINARY.items():
        if head.startswith(magic):
            raise IngestError(f"{name}: the content is {what}, not text", "rename it to what it is")
    # UTF-16's zero bytes are text after its byte order mark, or without one when they are
    # beside each character (ingest/encoding.py reads both).
    marked = head.startswith(tuple(mark for mark, _ in BOMS))
    if b"\x00" in head and not marked and utf16_unmarked(head[: len(head) // 2 * 2]) is None:
        raise IngestError(f"{name}: the content looks binary, not text", "upload a text file")


class Upload(Protocol):
    """A file as the web framework hands it over (Starlette's UploadFile)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


class Contributions(Protocol):
    """Where contributed files go: the library (commons/library.Library), or a test's double."""

    def add(
        self,
        paths: list[str | os.PathLike[str]],
        collection: str | None = None,
        licence: str | None = None,
        *,
        publisher: str | None = None,
        source: str | None = None,
        actor: Actor,
        work: Work,
    ) -> IngestSummary: ...

    def standing(self, document_id: int) -> tuple[str | None, str | None]: ...


class Staged:
    """Uploads written to a private folder of the home, removed once ingested.

    The folder is locked while in use: a server that died mid-upload left it for good, and
    the next server to start removes those no process holds (:func:`remove_leftovers`)."""

    def __init__(self, home: str) -> None:
        import fcntl
        import tempfile

        (Path(home) / "uploads").mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="upload-", dir=Path(home) / "uploads"))
        self._held: int | None = os.open(self.directory, os.O_RDONLY)
        fcntl.flock(self._held, fcntl.LOCK_EX)  # released when closed, or when the process dies
        self.names: list[str] = []

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.directory, ignore_errors=True)
        if self._held is not None:
            os.close(self._held)
            self._held = None


# A folder this young may be one just made whose lock is not taken yet.
LEFTOVER_AGE_S = 60


def remove_leftovers(home: str | os.PathLike[str]) -> int:
    """Remove the upload folders of ``home`` that no process holds: those of a server that
    died mid-upload (killed, out of memory, the machine stopped). Returns how many.

    Several servers may share a home: a folder one of them is filling is locked (Staged),
    and left alone."""
    import fcntl
    import shutil
    import time

    removed = 0
    for folder in (Path(home) / "uploads").glob("upload-*"):
        try:
            if time.time() - folder.stat().st_mtime < LEFTOVER_AGE_S:
                continue
            held = os.open(folder, os.O_RDONLY)
        except OSError:  # gone meanwhile, or not a folder we may open: not ours to judge
            continue
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(held)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        finally:
            os.close(held)
    return removed


async def read_uploads(
    settings: Settings, files: Sequence[Upload]
) -> tuple[Staged, list[dict[str, Any]]]:
    """Stage what may be ingested; the refused files with their one-line reason."""
    # The megabytes `commune add` counts (pipeline.read_regular_file): with 2**20, a file
    # between the two passed here, then failed there, telling the caller to edit commune.toml.
    limit = int(settings.limits.max_file_mb * 1_000_000)
    staged = Staged(str(settings.home))
    refused: list[dict[str, Any]] = []
    try:
        for upload in files:
            try:
                name = safe_name(upload.filename)
                if name in staged.names:
                    raise IngestError(f"{name}: sent twice in one upload", "send each file once")
                data = await upload.read(limit + 1)
                if len(data) > limit:
                    raise IngestError(
                        f"{name}: over the limit of {settings.limits.max_file_mb:g} MB",
                        "split it, or ask the operator to raise [limits] max_file_mb",
                    )
                sniff(name, data[:4096])
            except IngestError as exc:
                refused.append({"file": upload.filename, "status": "failed", "error": str(exc)})
                continue
            (staged.directory / name).write_bytes(data)
            staged.names.append(name)
    except BaseException:
        # A full disk, a client gone: the caller never gets the folder to remove it.
        staged.remove()
        raise
    return staged, refused


async def contribute(
    settings: Settings,
    metering: Metering,
    library: Contributions,
    files: Sequence[Upload],
    *,
    collection: str | None,
    licence: str | None,
    publisher: str | None,
    source: str | None,
    actor: Actor,
    route: str,
    settled: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Contribute uploaded files by ``actor``, with the rules of `commune add`: each file's
    result (added, updated, unchanged, failed), why it failed, whether it waits for curation.
    The API's POST /api/documents and the contribute page both come here (through
    Commune.contribute). ``settled`` runs after the files are added, before the reply: the
    contributor waits for the index to take them in (read your writes)."""
    from fastapi.concurrency import run_in_threadpool

    if collection is not None:
        # Composed (NFC), as the library finds it: decomposed, the files' addresses
        # (urn:commune:upload:COLLECTION/NAME) were others, and a file sent again was a
        # second document, not the same one unchanged.
        collection = unicodedata.normalize("NFC", collection)

    def add(directory: Path) -> IngestSummary:
        try:
            summary = library.add(
                [directory],
                collection,
                licence,
                publisher=publisher,
                source=source or f"urn:commune:upload:{collection or 'default'}",
                actor=actor,
                # Its energy lands in the ledger where the work happens (ingest/batch.py), as
                # ingestion: the collection's member pays for it, and no quota counts it.
                work=Work(route, INGEST),
            )
        except TextMissing as exc:  # no --licence-text here: say what to do instead
            raise exc.elsewhere() from None
        if settled is not None:
            settled()
        return summary

    # The upload itself is the person's request, admitted by their quotas and their
    # member's like any (HTTP 429 when one is used up, before a file is checked or parsed)
    # and counted as one request of theirs: its row holds the work of receiving and checking
    # the files, the documents' reading and embedding are ingestion's rows (billed to the
    # collection's member, in no quota), one after the other, so nothing is counted twice.
    # Without it, nothing bounded how much a contributor made the server embed: [limits]
    # max_upload_mb bounds one upload, not how many.
    metering.admit(actor)
    meter = metering.meter()
    try:
        staged, refused = await read_uploads(settings, files)
    except BaseException:
        metering.release(actor)  # no work recorded: its place in the quota is free again
        raise
    meter.stop()  # the request's own work ends here; its row is written once the add is
    try:
        summary = None
        if staged.names:
            summary = await run_in_threadpool(add, staged.directory)
    except CommuneError:
        # Refused whole (its licence, the caller's role, the collection's name) before a
        # document was stored: no request counted, as a refused question counts none. Its
        # row written first, a mistyped licence took a person's upload of the day.
        metering.release(actor)
        raise
    except BaseException:
        metering.record_usage(route, UPLOAD, None, 0, 0, collection, meter, actor)
        raise
    finally:
        staged.remove()
    metering.record_usage(route, UPLOAD, None, 0, 0, collection, meter, actor)
    results = []
    for o in summary.outcomes if summary else []:
        held, error = o.held, o.error
        if o.status == "unchanged" and o.document_id is not None:
            # Unchanged is not published: the file may still wait for a curator, or have
            # been refused by one, which the contributor is told rather than "the commons
            # already has this version".
            held, error = await run_in_threadpool(library.standing, o.document_id)
        results.append(
            {
                "file": Path(o.path).name,
                "status": o.status,
                "document_id": o.document_id,
                "chunks": o.chunks,
                "error": error,
                "held": held,
                "note": o.note,
            }
        )
    return refused + results
