"""Variants of the sentence ranker tried on dev, beside the shipped one (bench/README.md,
items 24, 26, 47, 56, 59 and 60): their five-fold figures, each question's prediction under every
assignment of the document groups to folds (folds.FOLD_SEEDS), at the shipped
answer_model.json budget.

The candidates and their features come from `bench/train_answer.py`'s cache (collected when
missing, as that script does); a variant adds or redefines columns, or (``--passages``)
collects the candidates from another number of passages. The test split is never read.

    python bench/ranker_variants.py --home eval-data --cache cand.pkl base yesno form clause
    python bench/ranker_variants.py --home eval-data --cache cand8.pkl --passages 8 base
    python bench/ranker_variants.py --home eval-data --cache cand.pkl --e5-cache e5.pkl e5 e5top
    python bench/ranker_variants.py --home eval-data --cache cand.pkl placed   # item 47
    python bench/ranker_variants.py --home eval-data --cache cand.pkl base where   # item 56
    python bench/ranker_variants.py --home eval-data --cache cand.pkl base support   # item 59
    python bench/ranker_variants.py --home eval-data --cache cand.pkl base headkind   # item 60
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import train_answer  # noqa: E402

from commune.answering.answer import FEATURES, gap  # noqa: E402
from commune.answering.answer_types import ASKS  # noqa: E402
from commune.core import Commune  # noqa: E402

Columns = dict[str, np.ndarray]

# A question with no word asking for something else is taken as a yes/no question: most are
# asked without inversion ("je peux la réutiliser ?", "c'est possible ?"), which the shipped
# pattern misses, though an imperative or "Que faut-il faire ?" counts too. "qui" asks where
# a clause opens with it.
_ASKS_WHAT = re.compile(
    r"\b(comment|quel|quelle|quels|quelles|lequel|laquelle|lesquels|lesquelles|où|quand|"
    r"combien|pourquoi|quoi|qu'est-ce|(?:à|auprès de|par|pour|chez|avec|de) qui|"
    r"how|what|which|where|when|who|whom|whose|why)\b|(?:^|[,:;]\s*|[.?!]\s+)qui\b",
    re.IGNORECASE,
)
_ASKS_FORM = re.compile(r"\b(formulaire|cerfa|imprimé|form)\b", re.IGNORECASE)
# A fiche names a form with its number: "Formulaire : … (Cerfa n° 15789*02)".
_HOLDS_FORM = re.compile(r"\bcerfa\b|\bformulaire\s*:|\b\d{5}\*\d{2}\b", re.IGNORECASE)
# The question a situation leads to: "Mon bébé est né hier, on a combien de jours … ?"
_CLAUSE = re.compile(r"[,:;]\s+|(?<=[.?!])\s+")


def last_clause(question: str) -> str:
    """The question's last clause of three words or more (the whole question if none)."""
    parts = [p for p in _CLAUSE.split(question.strip()) if len(p.split()) >= 3]
    return parts[-1] if parts else question


def yesno(record: dict[str, Any], _: Any) -> Columns:
    """asks_yesno also for a question with no question word (:data:`_ASKS_WHAT`)."""
    asks = bool(ASKS["yesno"].search(record["question"])) or not _ASKS_WHAT.search(
        record["question"]
    )
    holds = record["x"][:, FEATURES.index("holds_yesno")]
    return {"asks_yesno": np.full(len(holds), float(asks)), "match_yesno": holds * float(asks)}


def form(record: dict[str, Any], _: Any) -> Columns:
    """A tenth kind of fact: a form, asked by name ("quel cerfa"), held by its number."""
    asks = float(bool(_ASKS_FORM.search(record["question"])))
    holds = np.asarray([float(bool(_HOLDS_FORM.search(c.text))) for c in record["cands"]])
    return {"asks_form": np.full(len(holds), asks), "holds_form": holds, "match_form": holds * asks}


# A file asked without the word "file": "Où déclarer les zones…" wants /etc/bind/named.conf.local,
# "Comment configurer bind ?" a configuration file (item 56). A fiche's "où" wants a place, and
# its sentences seldom hold a path: the match then stays 0.
_ASKS_FILE_TOO = re.compile(
    r"\b(configur\w*|paramétr\w*|réglages?|settings?|où|where)\b", re.IGNORECASE
)


def where(record: dict[str, Any], _: Any) -> Columns:
    """asks_file also for a question about configuring, or asking where (:data:`_ASKS_FILE_TOO`)."""
    asks = bool(ASKS["file"].search(record["question"])) or bool(
        _ASKS_FILE_TOO.search(record["question"])
    )
    holds = record["x"][:, FEATURES.index("holds_file")]
    return {"asks_file": np.full(len(holds), float(asks)), "match_file": holds * float(asks)}


def meaning(prefix: str, cos: np.ndarray) -> Columns:
    """A cosine to the question, its rank and its gap to the best, as the shipped features
    read USE's (answering/answer.py: a rank counts the candidates strictly above, to six
    decimals)."""
    rounded = np.round(cos.astype(np.float64), 6)
    rank = (rounded[None, :] > rounded[:, None]).sum(axis=1)
    return {
        f"{prefix}_cosine": cos,
        f"{prefix}_rank": 1 / (1 + rank),
        f"{prefix}_gap": cos - cos.max(),
    }


def clause(record: dict[str, Any], commune: Commune) -> Columns:
    """Each candidate's cosine to the question's last clause, its rank and its gap to the
    best (one more query embedding an answer)."""
    vectors = commune.embedder.embed_sentences([c.text for c in record["cands"]])
    cos = np.asarray(vectors @ commune.embedder.embed_query(last_clause(record["question"])))
    return meaning("clause", cos)


def key(record: dict[str, Any]) -> tuple[str, ...]:
    """What tells a record apart: its domain, question and (two collections asked the same
    question hold their own candidates) its candidates' texts."""
    return (record["domain"], record["question"], *(c.text for c in record["cands"]))


def _contexts(commune: Commune, records: list[dict[str, Any]]) -> dict[tuple[str, ...], Any]:
    """Each record's context hits, as `bench/train_answer.py`'s collect() found them (the
    cache keeps the candidates, not their passages' titles and headings); a record whose
    candidates no longer come out the same stops the run."""
    from commune.answering.answer import candidates
    from commune.evaluation import load_suite

    # The same question can be asked of two collections (the handbook's French and English
    # editions): the case is the one whose candidates come out as the cache holds them.
    cases: dict[tuple[str, str], list[Any]] = {}
    for name in train_answer.SUITES:
        for case in load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl").select("dev"):
            cases.setdefault((name, case.question), []).append(case)
    out: dict[tuple[str, ...], Any] = {}
    for r in records:
        for case in cases[(r["domain"], r["question"])]:
            context = train_answer.context_of(
                commune, case.question, case.collection, r["passages"]
            )
            if [c.text for c in candidates(context)] == [c.text for c in r["cands"]]:
                out[key(r)] = context
                break
        else:
            sys.exit(f"the candidates of {r['question']!r} changed: collect the cache again")
    return out


def placed(record: dict[str, Any], context: tuple[Commune, dict[tuple[str, ...], Any]]) -> Columns:
    """Each candidate's cosine to the question read with its document's title and its
    section's heading in front ("Déclaration de naissance — Délai : Elle doit être faite
    dans les 5 jours"): a sentence alone often leaves its subject to its headings. Its rank
    and gap to the best, as USE's own cosine."""
    commune, contexts = context
    hits = contexts[key(record)]
    texts = []
    for c in record["cands"]:
        hit = hits[c.hit]
        heading = hit.section.rsplit(">", 1)[-1].strip()
        place = " — ".join(p for p in dict.fromkeys([hit.title.strip(), heading]) if p)
        texts.append(f"{place} : {c.text}" if place else c.text)
    vectors = commune.embedder.embed_passages(texts)
    cos = np.asarray(vectors @ commune.embedder.embed_query(record["question"]))
    return meaning("placed", cos)


class E5Vectors:
    """e5-small's vectors of the candidates and questions, kept in ``path`` between runs (the
    dev candidates hold about 10,500 distinct sentences: about 6 minutes on 2 cores). The
    file is replaced whole, so a run stopped midway leaves the last complete one."""

    MODEL = "e5-small"

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.vectors: dict[tuple[str, str], np.ndarray] = {}
        if path and path.exists():
            with open(path, "rb") as f:
                held = pickle.load(f)
            if not isinstance(held, dict) or held.get("model") != self.MODEL:
                sys.exit(f"{path} holds no {self.MODEL} vectors: give another --e5-cache")
            self.vectors = held["vectors"]

    def of(self, texts: list[str], kind: str) -> np.ndarray:
        """The vectors of ``texts`` as queries or passages (``kind``), embedding only those
        not yet held."""
        missing = [t for t in dict.fromkeys(texts) if (kind, t) not in self.vectors]
        if missing:
            from commune.embed import get_embedder

            embedder = get_embedder(self.MODEL)  # the shared instance: loaded once
            embed = embedder.embed_queries if kind == "query" else embedder.embed_passages
            vectors = embed(missing)
            self.vectors.update({(kind, t): v for t, v in zip(missing, vectors, strict=True)})
            if self.path:
                part = self.path.with_name(self.path.name + ".part")
                with open(part, "wb") as f:
                    pickle.dump({"model": self.MODEL, "vectors": self.vectors}, f)
                part.replace(self.path)
        return np.stack([self.vectors[(kind, t)] for t in texts])

    def fill(self, records: list[dict[str, Any]], top: int | None = None) -> None:
        """The records' questions and candidates (``top``: only :func:`use_first`'s),
        embedded in batches of a thousand, saved after each."""
        self.of([r["question"] for r in records], "query")
        texts = list(
            dict.fromkeys(
                r["cands"][i].text
                for r in records
                for i in (use_first(r, top) if top else range(len(r["cands"])))
            )
        )
        texts = [t for t in texts if ("passage", t) not in self.vectors]
        for start in range(0, len(texts), 1000):
            self.of(texts[start : start + 1000], "passage")
            print(f"e5: {min(start + 1000, len(texts))} of {len(texts)} sentences", flush=True)


def e5(record: dict[str, Any], vectors: E5Vectors) -> Columns:
    """Each candidate's cosine to the question by e5-small as well as USE, its rank and its
    gap to the best (bench/README items 19 and 26; item 19 added the previous line's)."""
    cands = vectors.of([c.text for c in record["cands"]], "passage")
    return meaning("e5", np.asarray(cands @ vectors.of([record["question"]], "query")[0]))


# e5 only for the candidates USE puts first: a quarter of an answer's 51 on average.
E5_TOP = 12


def use_first(record: dict[str, Any], top: int) -> np.ndarray:
    """The ``top`` candidates of highest USE cosine."""
    return np.argsort(-record["x"][:, FEATURES.index("cosine")], kind="stable")[:top]


def e5_top(record: dict[str, Any], vectors: E5Vectors) -> Columns:
    """:func:`e5` for the :data:`E5_TOP` candidates of highest USE cosine. The others get
    values below any real one (cosine -1, gap -2, rank 0), as answer.py gives a cosine that
    is not a number: LightGBM would put a missing value on whichever side gains, whatever
    the rising constraint."""
    top = use_first(record, E5_TOP)
    cols = e5({**record, "cands": [record["cands"][i] for i in top]}, vectors)
    n = len(record["cands"])
    out = {"e5_cosine": np.full(n, -1.0), "e5_rank": np.zeros(n), "e5_gap": np.full(n, -2.0)}
    for f, v in cols.items():
        out[f][top] = v
    return out


def _terms(text: str) -> set[str]:
    """A sentence's stems, read as French and as English (a passage of the handbook holds
    both), without those of one or two characters."""
    from commune.text.analysis import analyze

    return {t for lang in ("fr", "en") for t in analyze(text, lang) if len(t) > 2}


def support(record: dict[str, Any], _: Any) -> Columns:
    """How far the other passages of the context repeat what a candidate adds to the
    question (answer redundancy, as in AskMSR's answer tiling): the share of the candidate's
    stems that are not the question's and that another passage holds too, weighted by
    their rarity among the context's passages; the number of other passages holding at
    least two of them; and the gap of the first to the best candidate's."""
    cands = record["cands"]
    question = _terms(record["question"])
    own = [_terms(c.text) - question for c in cands]
    passages: dict[int, set[str]] = {}
    for c, terms in zip(cands, own, strict=True):
        passages.setdefault(c.hit, set()).update(terms)
    n = len(passages)
    df: dict[str, int] = {}
    for terms in passages.values():
        for t in terms:
            df[t] = df.get(t, 0) + 1
    share, count = [], []
    for c, terms in zip(cands, own, strict=True):
        weight = {t: np.log((n + 1) / df[t]) + 0.1 for t in terms}
        shared = {t for t in terms if any(t in p for h, p in passages.items() if h != c.hit)}
        total = sum(weight.values())
        share.append(sum(weight[t] for t in shared) / total if total else 0.0)
        count.append(
            sum(1 for h, p in passages.items() if h != c.hit and len(terms & p) >= 2)
            / max(n - 1, 1)
        )
    sh = np.asarray(share)
    return {
        "support_share": sh,
        "support_passages": np.asarray(count),
        "support_gap": sh - (sh.max() if len(sh) else 0.0),
    }


# The kind of fact a section's heading announces: a fiche's "Délai", "Coût", "Où s'adresser",
# a manual's "Configuration file", "Commands" (item 60).
HEADING_KINDS = {
    "duration": re.compile(
        r"\b(délais?|durée|validité|combien de temps|time limits?|deadline|"
        r"duration|how long)\b",
        re.I,
    ),
    "amount": re.compile(
        r"\b(coûts?|cout|prix|tarifs?|montants?|frais|barème|cost|price|fees?|"
        r"amount)\b",
        re.I,
    ),
    "age": re.compile(r"\b(âge|age)\b", re.I),
    "when": re.compile(r"\b(dates?|calendrier|quand|when)\b", re.I),
    "place": re.compile(r"\b(où|adresse|lieu|s'adresser|where|address)\b", re.I),
    "who": re.compile(r"\b(qui|interlocuteurs?|contacts?|organismes?|s'adresser|who)\b", re.I),
    "command": re.compile(r"\b(commandes?|commands?|utilisation|usage|synopsis)\b", re.I),
    "file": re.compile(r"\b(fichiers?|files?|configuration)\b", re.I),
}


def headkind(
    record: dict[str, Any], context: tuple[Commune, dict[tuple[str, ...], Any]]
) -> Columns:
    """Whether the last heading over a candidate's passage announces a kind of fact the
    question asks for (:data:`HEADING_KINDS` against answer_types.ASKS), and whether it
    announces one the question does not ask for."""
    from commune.answering.answer_types import asked

    _, contexts = context
    hits = contexts[key(record)]
    wants = {k for k, v in asked(record["question"]).items() if v}
    match, other = [], []
    for c in record["cands"]:
        heading = hits[c.hit].section.rsplit(">", 1)[-1]
        kinds = {k for k, pattern in HEADING_KINDS.items() if pattern.search(heading)}
        match.append(float(bool(kinds & wants)))
        other.append(float(bool(kinds - wants)))
    return {"heading_kind_match": np.asarray(match), "heading_kind_other": np.asarray(other)}


VARIANTS: dict[str, Callable[[dict[str, Any], Any], Columns]] = {
    "yesno": yesno,
    "form": form,
    "clause": clause,
    "e5": e5,
    "e5top": e5_top,
    "placed": placed,
    "where": where,
    "support": support,
    "headkind": headkind,
}
# Constrained as the shipped features they mirror (train_answer.RISING): a tenth kind's
# match as the nine others', the cosine, rank and gap of the clause and e5's as USE's.
RISING = {
    "match_form",
    "clause_cosine",
    "clause_rank",
    "clause_gap",
    "e5_cosine",
    "e5_rank",
    "e5_gap",
    "placed_cosine",
    "placed_rank",
    "placed_gap",
    "support_share",
    "support_gap",
    "heading_kind_match",
}


def constraints(features: list[str]) -> list[int]:
    """LightGBM's monotone constraints for ``features``: the shipped ones, and :data:`RISING`."""
    rising = set(train_answer.RISING) | RISING
    falling = set(train_answer.FALLING)
    return [1 if f in rising else -1 if f in falling else 0 for f in features]


def apply(records: list[dict[str, Any]], name: str, context: Any) -> list[str]:
    """Each record's features under variant ``name`` (columns replaced or added, in place);
    the feature names. ``context``: what the variant reads besides the record (the home for
    ``clause``, :class:`E5Vectors` for ``e5`` and ``e5top``, the home and each record's
    passages for ``placed``)."""
    features = list(FEATURES)
    if name == "base":
        return features
    added: list[str] = []
    for r in records:
        cols = VARIANTS[name](r, context)
        added = [f for f in cols if f not in features]  # the same for every record
        x = r["x"].copy()
        for f, v in cols.items():
            if f in features:
                x[:, features.index(f)] = v
        r["x"] = np.column_stack([x, *(cols[f] for f in added)])
    return features + added


def figures(records: list[dict[str, Any]], features: list[str]) -> str:
    """Five-fold over every assignment, at the shipped budget (answer_model.json)."""
    shipped = json.loads(
        (ROOT / "src/commune/answering/answer_model.json").read_text(encoding="utf-8")
    )
    train_answer.PARAMS["monotone_constraints"] = constraints(features)
    every, scores = train_answer.every_assignment(
        records, train_answer.SEEDS, train_answer.FOLD_SEEDS
    )
    gaps = np.asarray([gap(r["cands"], s) for r, s in zip(every, scores, strict=True)])
    share = shipped["trained_on"].get("uncertain_share")
    tier = None
    if share:  # 0 or none: one budget for every answer
        tier = (shipped["uncertain_words"], float(np.quantile(gaps[np.isfinite(gaps)], share)))
    budget, margin = shipped["max_words"], shipped["margin"]
    row = train_answer.outcome(every, scores, budget, margin, tier)
    each = train_answer.each_assignment(every, scores, len(records), budget, margin, tier)
    lines = [", ".join(f"{d} facts {f:.3f} median {w:g} words" for d, (f, w) in row.items())]
    for d in row:
        lines.append(f"  {d}, each assignment: " + ", ".join(f"{e[d][0]:.3f}" for e in each))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="the evaluation home (scripts/eval-home.sh)")
    ap.add_argument("--cache", required=True, help="train_answer.py's candidates (made if missing)")
    ap.add_argument(
        "--passages",
        type=int,
        default=5,
        help="passages answered from, when the cache is collected (default 5)",
    )
    ap.add_argument(
        "--e5-cache",
        help="e5-small's vectors of the questions and candidates, kept here between runs",
    )
    ap.add_argument("variants", nargs="+", choices=["base", *VARIANTS])
    args = ap.parse_args()
    vectors = E5Vectors(Path(args.e5_cache) if args.e5_cache else None)
    commune = Commune(args.home)
    records, _ = train_answer.candidates_of(commune, args.cache, args.passages)
    print(f"dev: {len(records)} answered questions with facts", flush=True)
    if "e5" in args.variants:
        vectors.fill(records)
    elif "e5top" in args.variants:
        vectors.fill(records, E5_TOP)
    for name in args.variants:
        fresh = [dict(r) for r in records]  # apply() replaces each record's features
        context: Any = vectors if name.startswith("e5") else commune
        if name in ("placed", "headkind"):
            context = (commune, _contexts(commune, records))
        features = apply(fresh, name, context)
        if name != "base" and len(features) == len(FEATURES):
            # A variant that only redefines columns: how many questions it touches (one that
            # changes no value cannot change the figures).
            changed = sum(
                not np.array_equal(f["x"], r["x"]) for f, r in zip(fresh, records, strict=True)
            )
            print(f"{name}: features changed for {changed} of {len(records)} questions")
        print(f"{name}: {figures(fresh, features)}", flush=True)


if __name__ == "__main__":
    main()
