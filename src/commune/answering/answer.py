"""Extractive answers: the sentences of the commons that best answer, each cited [n].

No generative model: nothing is written that the sources do not say. When the
best passages neither share the question's key terms nor come close in
meaning, the answer says that nothing relevant was found rather than quoting
noise.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import abc as cabc
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache, partial
from importlib import resources
from typing import Any

import numpy as np

from commune.answering import quoted_languages, refusal
from commune.answering.answer_types import KINDS, asked, held
from commune.answering.instructions import gives_instructions, without_instructions
from commune.answering.refusal import refuses
from commune.answering.retrieve import Hit
from commune.embed import Embedder
from commune.generate.base import (
    AskerGone,
    Completion,
    GenerationTimedOut,
    Generator,
    GeneratorUnavailable,
    within,
)
from commune.index.lexicon import Equivalents, flatten
from commune.ingest.chunking import split_sentences
from commune.ingest.dila import BOX_TITLES
from commune.ingest.model import MARKED
from commune.text.analysis import analyze
from commune.text.lang import by_function_words, detect
from commune.text.say import say
from commune.text.stopwords import STOPWORDS

# A hit passes when it holds enough of the question's term weight, or when its meaning is
# close. A question naming something the commons never mentions ("Kubernetes", "WireGuard",
# "Office 365") is most often about something it does not cover: then only a close meaning
# counts. Across languages shared words are rare and cosines lower, so a hit in another
# language has its own bar. These bars choose the passages an answer is drawn from; whether
# to answer at all is refusal.py's model, which takes "a passage passes" as one of its
# signs. The bars were calibrated on the Debian suite's dev split (its earlier version).
MIN_COVERAGE = 0.45
MIN_COSINE = 0.38
MIN_COSINE_UNKNOWN_WORD = 0.52
MIN_COSINE_OTHER_LANGUAGE = 0.25
# At most four sentences, within the scorer's word budget (answer_model.json's max_words, or
# uncertain_words when the best sentence does not stand out; chosen on dev by
# bench/train_answer.py): a command usually follows the sentence that introduces it, yet a
# long answer buries its fact.
MAX_SENTENCES = 4

# With what to do next: the asker can reword, or look elsewhere.
NOTHING_FOUND = {
    "fr": (
        "Je n'ai trouvé aucun passage pertinent dans les documents pour répondre à cette "
        "question\u00a0: reformulez-la, ou posez-la sur une autre collection."
    ),
    "en": (
        "I found no relevant passage in the documents to answer this question: reword it, or "
        "ask it of another collection."
    ),
}


@dataclass
class Source:
    n: int
    document_id: int
    chunk_id: int
    title: str
    section: str
    source: str
    anchor: str | None
    page: int | None
    licence: str | None
    contributor: str | None
    publisher: str | None
    attribution: str | None = None  # the credit line the licence requires
    origin: dict[str, Any] | None = None  # a peer's passage: whose (Hit.origin)


class Piece(str):
    """A checked piece of an answer's text that a model wrote: ``model`` names it, as the
    whole Answer will. A face that names who answers before the answer is whole reads it here
    (a /v1 stream names the model on its every chunk, the first one too); a piece that is no
    Piece was quoted from the sources, by no model."""

    model: str

    def __new__(cls, text: str, model: str) -> Piece:
        piece = super().__new__(cls, text)
        piece.model = model
        return piece


@dataclass
class Answer:
    question: str
    language: str
    text: str
    found: bool
    mode: str = "extractive"
    sentences: list[dict[str, Any]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    model: str | None = None
    notice: str | None = None  # why the answer is not what was asked for (a fallback)
    input_tokens: int = 0
    output_tokens: int = 0
    energy: dict[str, Any] | None = None  # {"wh", "gco2e", "measured", "method"}
    licence_notes: list[str] = field(default_factory=list)  # share-alike, exclusions
    # The sentences quoted are (partly) in another language than the question's, said in
    # the question's (answering/quoted_languages.py); None when they are in its language.
    language_note: str | None = None
    excluded: list[dict[str, Any]] = field(default_factory=list)  # sources left out, and why
    # The charter's five steps for this request: [{"step", "outcome", "reason"}], in the
    # question's language; and the id of the decision record that keeps them.
    decisions: list[dict[str, Any]] = field(default_factory=list)
    decision_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        return cls(**{**data, "sources": [Source(**s) for s in data.get("sources", [])]})


def is_relevant(hit: Hit, language: str | None = None) -> bool:
    """Whether ``hit`` can answer a question in ``language`` (see the thresholds above)."""
    if hit.unknown_terms:
        return hit.cosine >= MIN_COSINE_UNKNOWN_WORD
    if language is not None and hit.language != language:
        # Across languages shared words are rare and meaning scores lower: its own bar.
        return hit.cosine >= MIN_COSINE_OTHER_LANGUAGE
    return hit.coverage >= MIN_COVERAGE or hit.cosine >= MIN_COSINE


def relevant_hits(hits: list[Hit], language: str, limit: int = 5) -> list[Hit]:
    return [h for h in hits if is_relevant(h, language)][:limit]


@dataclass
class Candidate:
    hit: int  # index among the relevant hits
    position: int  # order within the passage
    text: str
    code: bool  # a line of a command or file listing, quoted as it stands
    # Its list or listing goes on past it in the passage: the next block is an item too, or
    # more of its item or of its listing's lines follow (kept as candidates or not).
    more: bool = False


# A shell prompt ("$ apt update", "# dpkg -i x.deb"): the line is a command to type.
_PROMPT = re.compile(r"^[$#]\s+\S")
# A prompt and the start of a command after it: a lowercase name, a path ("./configure",
# "~/bin/x"), a redirection (":>file", "</etc/motd pager") or a variable set first ("LANG=C
# sort"); not a price ("$ 5"), a text file's capitalised heading ("# Installation") or a
# manual's definition list ("$ — Correspondre à la dernière ligne."). A lowercase heading
# ("# réseau") cannot be told from a command ("# reboot"); commands starting with a capital
# or a digit ("$ Rscript x.R", "$ 7z x a.7z") and other prompts ("%", "user@host:~$") are
# missed.
_COMMAND = re.compile(r"^[$#]\s+(?:[A-Za-z_]\w*=\S*\s+|[a-z./~:<(\\\[])")
# Words that look like commands, options, paths or file names: what technical answers
# are made of ("apt-get", "--purge", "/etc/fstab", "sources.list").
_CODE_TOKEN = re.compile(r"(?:^|\s)(?:--?[a-z][\w-]*|/[\w.-]+/?[\w./-]*|\w+[.-]\w+[\w.-]*)")
# Questions that ask for a command, a file, a tool or a place, in French or English.
_ASKS_FOR_NAME = re.compile(
    r"\b(comment|quel(le)?s?|o[uù]|how|which|what|where|commande|command|fichier|file|"
    r"outil|tool|paquet|package|programme|program)\b",
    re.IGNORECASE,
)


# An option, a path or a file name: "-S", "--purge", "/etc/fstab", "sources.list" (not a
# hyphenated word, which prose has too: "auto-configured").
_SURELY_CODE = re.compile(r"(?:^|\s)(?:--?[A-Za-z][\w-]*|/[\w.-]+|\w+\.\w+)")


# A remark in brackets ("# (Recommended)", pptpd.conf's "# (must match the second field in
# /etc/ppp/chap-secrets entries)"): a letter first, and none of the signs that join a
# subshell's commands ("# (cd ./source && tar cf - .) | (cd /dest && tar xvfp -)").
_REMARK_IN_BRACKETS = re.compile(r"\(\s*[^\W\d_][^()&|;`$<>]*\)")


def is_comment(line: str) -> bool:
    """A listing's comment written as prose ("# The router is auto-configured"), which a
    root prompt ("# apt update", "# dpkg -S /usr/bin/ls") also starts with: a comment has
    a capital first word, or four words or more with two of a language's small words
    ("the", "of", "le", "de") and none that looks like code, or small words alone ("# or")."""
    if not line.startswith("#"):
        return False
    # A command's own trailing remark ("# apt install radvd  # the router's daemon") is not
    # what the line is: only what comes before it is read.
    body = line.lstrip("#").split(" #", 1)[0]
    words = body.split()
    if not words:
        return True
    small = max(sum(w.lower() in STOPWORDS[lang] for w in words) for lang in ("fr", "en"))
    stripped = body.strip()
    if _REMARK_IN_BRACKETS.fullmatch(stripped) and (
        stripped[1:2].isupper() or (len(words) >= 4 and small >= 2)
    ):
        # A remark in brackets, path or not ("# (must match … /etc/ppp/…)"), not a one
        # command subshell ("# (apt update)", "# (cat /etc/passwd)").
        return True
    if _SURELY_CODE.search(body) or "=" in body:
        return False  # an option, a path, a variable set: "# LANG=C sort", "# X11Forwarding yes"
    # A label opens a remark as a capital word does: "# TAG: localip" (pptpd.conf); so
    # does a sign in brackets ("# (C) 2011 Truc Bidule, GPL2+"), not a subshell's first word
    # ("# (Xorg :1 &)").
    first = words[0].removesuffix(":")
    if len(first) > 2 and first[0] == "(" and first[-1] == ")":
        first = first[1:-1]
    return (
        (first[:1].isupper() and first.isalpha() and len(words) >= 2)
        or (len(words) >= 4 and small >= 2)
        # Small words alone join two lines of a listing ("# or", "# ou"): no command. A
        # root prompt's lone "who" or "du" reads so too, a rarer line than the remark.
        or small == len(words)
    )


def is_listing(block: str) -> bool:
    """Whether a passage's block is a command or file listing, each of its lines quoted as
    it stands: lines of their own (paragraphs keep no inner newlines), or a single command
    typed at a shell prompt ("$ debdiff old.dsc new.dsc", "# apt remove package"), which its
    text alone says is one: a listing of one line reads as a paragraph once parsed."""
    stripped = block.strip()
    if "\n" in stripped:
        return True
    return bool(_COMMAND.match(stripped)) and not is_comment(stripped)


# The longest sentence a candidate may be: longer ones are no single statement to quote.
PROSE_WORDS = 90
# A list item's marker, as the readers write it (ingest/model.MARKED): "- ", "•", "12. ",
# "3) ". Up to three digits: a year opening a sentence ("2024. ") is no item.
_BULLET = MARKED


def candidates(hits: list[Hit]) -> list[Candidate]:
    """Prose sentences, and the lines of command and file listings, of each passage."""
    out: list[Candidate] = []
    for hi, hit in enumerate(hits):
        pos = 0
        blocks = hit.text.split("\n\n")
        for b, block in enumerate(blocks):
            bullet = _BULLET.match(block.strip())
            following = blocks[b + 1] if b + 1 < len(blocks) else ""
            # A listing is no item, though its line may start like a bullet ("* * * * *").
            next_item = bool(_BULLET.match(following.strip())) and not is_listing(following)
            # An item whose text is a command typed at a prompt ("- $ apt update") is the
            # line to type, as it is alone; its list goes on as an item's does.
            after_marker = block.strip()[bullet.end() :] if bullet else ""
            listing = is_listing(block)
            command_item = bool(bullet) and not listing and is_listing(after_marker)
            if listing or command_item:
                body = after_marker if command_item else block
                lines = [line.strip() for line in body.strip().split("\n")]
                # A listing of several lines holds data past 20 words or 160 characters (a
                # table's row, a key); a command typed alone is kept as prose is, up to
                # PROSE_WORDS.
                most, longest = (20, 160.0) if len(lines) > 1 else (PROSE_WORDS, math.inf)
                for n, line in enumerate(lines):
                    if 1 <= len(line.split()) <= most and len(line) <= longest:
                        more = any(rest for rest in lines[n + 1 :]) or (command_item and next_item)
                        out.append(Candidate(hi, pos, line, True, more))
                        pos += 1
                continue
            # A list item is a block of its own ("- Passeport"): quoted in an answer, its
            # bullet is noise, and one word can be the answer (which papers to bring), as a
            # listing's line can.
            item = bool(bullet)
            # Split after its marker: a numbered item's "1." ends a sentence to the splitter,
            # which left "1." and "Passeport" apart, each too short to quote.
            sentences = split_sentences(after_marker if bullet else block)
            for n, text in enumerate(sentences):
                # An item's first sentence may be one word; the others are prose.
                shortest = 1 if item and n == 0 else 4
                if shortest <= len(text.split()) <= PROSE_WORDS:
                    more = item and (n + 1 < len(sentences) or next_item)
                    out.append(Candidate(hi, pos, text, False, more))
                    pos += 1
    return out


FEATURES = (
    "cosine",  # meaning: the sentence against the question
    "overlap",  # share of the question's terms in the sentence
    "passage_rank",  # 1 / (1 + rank of its passage)
    "passage_cosine",
    "passage_coverage",
    "position",  # 1 / (1 + place in the passage): leads state, later lines detail
    "same_language",
    "code_tokens",  # how many command-, option- or path-like words (capped)
    "code_line",
    "prompt_line",
    "asks_x_code",  # a "which command / where / how" question, and a sentence with code
    "length",
    "previous_cosine",  # the line before: "To do X, type:" announces the command after it
    "previous_overlap",
    "cosine_rank",  # 1 / (1 + rank of its cosine among all candidates)
    "overlap_rank",
    # The kind of fact asked for, the kinds the sentence holds, and their match
    # (answering/answer_types.py): "how long" wants a sentence with a duration.
    *(f"asks_{kind}" for kind in KINDS),
    *(f"holds_{kind}" for kind in KINDS),
    *(f"match_{kind}" for kind in KINDS),
    "cosine_gap",  # to the best candidate's: scores are read against the question's best
    "overlap_gap",
    "words",
    "companion",  # from the best document, beside the search's hits (Searcher.companions)
    # The passage's headings: a section the question names ("Délai") against one about a
    # case it never mentions ("Naissance à l'étranger", "Accouchement sous X").
    "heading_overlap",  # share of the question's terms in the title and headings
    "heading_unasked",  # share of the last heading's terms the question does not use
)


def sentence_features(
    question: str,
    lang: str,
    cands: list[Candidate],
    hits: list[Hit],
    embedder: Embedder,
    translations: dict[str, list[str]] | None = None,
) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate."""
    qv = embedder.embed_query(question)
    cos = embedder.embed_sentences([c.text for c in cands]) @ qv
    return candidate_features(
        question, lang, cands, hits, np.asarray(cos, dtype=np.float64), translations
    )


def _own_language(c: Candidate, passage: str) -> str:
    """A prose sentence's own language, French or English, where it has words enough to
    tell (:data:`_SURE_LANGUAGE_WORDS`) and its function words say; else, and for a
    listing's line, its passage's. The question's terms are French and English only, so a
    passage of another language (mostly a few French ones misread) is read as the nearer of
    the two. Cheaper than :func:`sentence_language`, which orders the sentences chosen and
    gives a listing's line the language of the prose announcing it: here every candidate is
    read, and a line of code has no function words to count."""
    if c.code or len(c.text.split()) < _SURE_LANGUAGE_WORDS:
        return passage
    return by_function_words(c.text) or passage


def candidate_features(
    question: str,
    lang: str,
    cands: list[Candidate],
    hits: list[Hit],
    cos: np.ndarray,
    translations: dict[str, list[str]] | None = None,
) -> np.ndarray:
    """:func:`sentence_features` given each candidate's cosine to the question (the
    training script caches them: embedding is the slow part). ``translations``: the
    question's words in the other languages (Query.translations), which count in the
    overlap of a sentence in those languages: without them an English question shares no
    word with a French sentence."""
    q_terms = {lang_: set(analyze(question, lang_)) for lang_ in ("fr", "en")}
    for other, terms in (translations or {}).items():
        if other != lang and other in q_terms:
            q_terms[other] |= set(terms)
    asks = 1.0 if _ASKS_FOR_NAME.search(question) else 0.0
    overlaps = []
    for c in cands:
        # A sentence is read in its own language: a French passage of the handbook holds
        # English paragraphs, and an English sentence read by the French analyser is matched
        # against the question's words read as French, whose function words ("the", "of",
        # "how") count as terms (bench/README.md, item 23).
        hl = _own_language(c, hits[c.hit].language)
        hl = hl if hl in q_terms else "en"
        overlaps.append(len(set(analyze(c.text, hl)) & q_terms[hl]) / max(len(q_terms[hl]), 1))
    # A rank counts the candidates strictly above: equals share it (the same sentence in a
    # page and in its partly untranslated copy, two lines with the question's every term).
    # Cosines are compared to six decimals: the same text embedded at another place in a
    # batch may differ in the last bits. A cosine that is not a number ranks last.
    rounded = np.round(np.nan_to_num(cos, nan=-1.0), 6)
    cos_rank = (rounded[None, :] > rounded[:, None]).sum(axis=1)
    ov = np.asarray(overlaps, dtype=np.float64)
    ov_rank = (ov[None, :] > ov[:, None]).sum(axis=1)
    best_cos = float(cos.max()) if len(cands) else 0.0
    best_overlap = max(overlaps, default=0.0)
    wants = asked(question)
    headings: dict[int, tuple[float, float]] = {}
    for hi, hit in enumerate(hits):
        hl = hit.language if hit.language in q_terms else "en"
        place = set(analyze(f"{hit.title} {hit.section}", hl))
        last = set(analyze(hit.section.rsplit(">", 1)[-1], hl))
        headings[hi] = (
            len(place & q_terms[hl]) / max(len(q_terms[hl]), 1),
            len(last - q_terms[hl]) / len(last) if last else 0.0,
        )
    rows = []
    for i, (c, cs) in enumerate(zip(cands, cos, strict=True)):
        hit = hits[c.hit]
        overlap = overlaps[i]
        code = min(len(_CODE_TOKEN.findall(c.text)), 3) / 3
        same_passage = i > 0 and cands[i - 1].hit == c.hit
        has = held(c.text)
        rows.append(
            (
                float(cs),
                overlap,
                1 / (1 + c.hit),
                hit.cosine,
                hit.coverage,
                1 / (1 + c.position),
                float(hit.language == lang),
                code,
                float(c.code),
                float(bool(_PROMPT.match(c.text))),
                asks * max(code, float(c.code)),
                min(len(c.text.split()), 60) / 60,
                float(cos[i - 1]) if same_passage else 0.0,
                overlaps[i - 1] if same_passage else 0.0,
                1 / (1 + cos_rank[i]),
                1 / (1 + ov_rank[i]),
                *(float(wants[k]) for k in KINDS),
                *(float(has[k]) for k in KINDS),
                *(float(wants[k] and has[k]) for k in KINDS),
                float(cs) - best_cos,
                overlap - best_overlap,
                float(len(c.text.split())),
                float(is_companion(hit)),
                *headings[c.hit],
            )
        )
    return np.asarray(rows, dtype=np.float64).reshape(len(cands), len(FEATURES))


class SentenceScorer:
    """The sentence ranker: LightGBM LambdaRank trees over :data:`FEATURES`, trained on both
    shipped suites' dev splits (``bench/train_answer.py``; its figures are in the file).

    The file holds several rankers trained alike with different random seeds, and a
    sentence's score is their mean: one ranker bags rows and features on a few hundred
    questions, and its dev figures moved with the seed by as much as most features tried
    gained; the mean of five scored the fiches' answers higher at every set of seeds tried
    (bench/README.md, item 19)."""

    def __init__(self, data: dict[str, Any]) -> None:
        import lightgbm  # imported here: the package takes a moment, and only answers use it

        if tuple(data["features"]) != FEATURES:
            raise RuntimeError("answer_model.json does not match FEATURES: retrain it")
        self.boosters = [lightgbm.Booster(model_str=m) for m in data["boosters"]]
        self.max_words = int(data["max_words"])
        self.margin = float(data["margin"])
        # When the best sentence does not stand out (its score within ``confident_gap`` of
        # the second's), the answer may quote more, up to ``uncertain_words``: the reader
        # then has the candidates to judge from, not one guess. A file without them: one
        # budget for every answer.
        self.uncertain_words = int(data.get("uncertain_words", self.max_words))
        self.confident_gap = float(data.get("confident_gap", 0.0))

    def budget(self, cands: list[Candidate], scores: np.ndarray) -> int:
        """The word budget of an answer whose candidates scored ``scores``: the gap is read
        between the two best that can be quoted (a sentence standing in two documents, or
        an order to the assistant, is no rival)."""
        return self.max_words if gap(cands, scores) >= self.confident_gap else self.uncertain_words

    def score(self, features: np.ndarray) -> np.ndarray:
        # One thread: a request's few dozen rows gain nothing from more, and the server's
        # other requests keep theirs.
        scores = [b.predict(features, num_threads=1) for b in self.boosters]
        return np.asarray(np.mean(scores, axis=0), dtype=np.float64)


def gap(cands: list[Candidate], scores: np.ndarray) -> float:
    """How far the best quotable candidate's score stands above the next one's (inf: only
    one)."""
    # The next one by its own score: not the item a best sentence ending in ":" brings.
    best = list(itertools.islice(choosing(cands, scores, 10**6, announce=False), 2))
    if len(best) < 2:
        return float("inf")
    return float(scores[best[0]] - scores[best[1]])


@lru_cache(maxsize=1)
def sentence_model() -> SentenceScorer:
    data = json.loads(
        resources.files("commune.answering")
        .joinpath("answer_model.json")
        .read_text(encoding="utf-8")
    )
    return SentenceScorer(data)


def answer_context(
    question: str,
    lang: str,
    hits: list[Hit],
    passages: int = 5,
    companions: Sequence[Hit] = (),
    refusal_threshold: float = 0.0,
) -> list[Hit]:
    """The passages to answer from; empty when the commons cannot answer (refusal.py).

    ``companions`` are other passages of the best hit's document (Searcher.companions):
    they join when that document leads the passages answered from. ``refusal_threshold``:
    the deployment's own (``[answer]`` in commune.toml), 0 for the shipped model's."""
    relevant = relevant_hits(hits, lang, passages)
    if refuses(question, lang, hits, bool(relevant), refusal_threshold):
        return []
    # The model can judge a question answerable although no passage passes the fixed
    # thresholds (a paraphrase far from the wording): then the best passages found serve,
    # the best one and those with any sign of it: a word of the question, or the meaning
    # that the lowest bar above asks. In a small commons the five best include anything:
    # "Horaires de la déchetterie ?" ended on a DNS manual's sentence, which held no word of
    # it and stood at a cosine below 0. Dev, both suites: 8 questions of 439 answered take
    # this path, and no answer changed.
    context = relevant or [
        h
        for i, h in enumerate(hits[:passages])
        if i == 0 or h.coverage > 0 or h.cosine >= MIN_COSINE_OTHER_LANGUAGE
    ]
    taken = {h.chunk_id for h in context}
    return context + [
        c for c in companions if c.document_id == context[0].document_id and c.chunk_id not in taken
    ]


def unanswerable_probability(question: str, lang: str, hits: list[Hit], passages: int = 5) -> float:
    """The refusal model's probability that ``hits`` cannot answer ``question``, read as
    :func:`answer_context` reads it (1 when nothing was found): what a refusal threshold is
    compared with (`commune refusals`)."""
    relevant = relevant_hits(hits, lang, passages)
    return refusal.unanswerable_probability(question, lang, hits, bool(relevant))


def is_companion(hit: Hit) -> bool:
    """Found beside the search's hits, not by it (Searcher.companions): no rank in either
    list and no score (a passage the question's translated words alone found has a score)."""
    return hit.lexical_rank is None and hit.dense_rank is None and hit.score == 0.0


# A parenthesised aside, set apart from the words before it.
_ASIDE = re.compile(r"\s+\([^()]*\)")
_SPACED_MARK = re.compile(r"\s+([.,;:!?])")


# Prose of fewer words that does not end as a sentence does is a fragment. Chosen on dev
# (bench/README item 21) among 4 and 7: at 7, the fiches' answers with every fact 0.574 ->
# 0.598 (five-fold, two sets of seeds), Debian's 0.471 -> 0.469; at 4, neither moved.
FRAGMENT_WORDS = 7
_SENTENCE_CLOSE = (".", "!", "?", "…", ".)", "»")


# A letter of any script: what a line must hold to be worth quoting alone.
_LETTER = re.compile(r"[^\W\d_]")


def _fragment(text: str) -> bool:
    """Whether ``text`` is a few words that do not make a sentence."""
    stripped = text.strip()
    return len(stripped.split()) < FRAGMENT_WORDS and not stripped.endswith(_SENTENCE_CLOSE)


def _unaside(text: str) -> str:
    """``text`` without its parenthesised asides, as read for "already quoted"."""
    return _SPACED_MARK.sub(r"\1", _ASIDE.sub("", text))


def choose(
    cands: list[Candidate], scores: np.ndarray, max_words: int, margin: float = float("inf")
) -> list[int]:
    """The best-scored candidates, best first (after the sentence announcing it, where the
    best is what such a sentence announces), within ``max_words`` (the first always) and
    ``margin`` of the best one's score, at most :data:`MAX_SENTENCES`, two per passage,
    never an order planted for the assistant, a listing's remark or its line without a
    letter, never a sentence already quoted, alone or (prose) within a longer one. A
    sentence ending in a colon brings the item it announces right after it, within the
    budget and the sentences' count, whatever the item's score and its passage's count."""
    return list(choosing(cands, scores, max_words, margin))


def _unquotable(c: Candidate) -> bool:
    """Never quoted, though a candidate: an order planted for the assistant, a listing's
    remark, or its line without a letter."""
    if gives_instructions(c.text):
        return True  # an order to the assistant, planted in a document: never quoted
    if c.code and is_comment(c.text):
        # A file's remark, not a line to type or to set; it stays a candidate, since it
        # announces the line after it (the ranker's "previous" features).
        return True
    # A listing's line without a letter ("}", "2", "[..]") says nothing alone: of the 174
    # such lines among dev's candidates none held a fact, and four answers quoted one where
    # the budget had room. It stays a candidate, as a remark does.
    return c.code and not _LETTER.search(c.text)


def _quote_key(c: Candidate) -> str:
    """What "already quoted" compares: the words, lowercased, with a space at each end so
    that "5 ans" is not within "15 ans"; a sentence without its asides, since a translated
    manual keeps a paragraph in English with its cross-reference translated ("(see Section
    5.4.3, « Consulter la base … »)"), the same sentence."""
    return " " + " ".join((c.text if c.code else _unaside(c.text)).lower().split()) + " "


def _announced(cands: list[Candidate], i: int) -> int | None:
    """The candidate a sentence ending in a colon announces, the next one of its passage
    ("La personne qui déclare le décès doit se rendre en mairie avec :" and "sa pièce
    d'identité"), or None."""
    c = cands[i]
    if not _announces(c) or i + 1 >= len(cands):
        return None
    after = cands[i + 1]
    return i + 1 if after.hit == c.hit and after.position == c.position + 1 else None


def _announcer(cands: list[Candidate], i: int) -> int | None:
    """The sentence that announces candidate ``i`` (the one before it in its passage, ending
    in a colon), or None: what an item chosen alone ("une amende civile d'un maximum de
    10 000 €,") needs before it to be read as an answer."""
    return i - 1 if i > 0 and _announced(cands, i - 1) == i else None


def _announces(c: Candidate) -> bool:
    """Whether a sentence ends by announcing what follows it (prose ending in a colon)."""
    return not c.code and c.text.rstrip().endswith(":")


def _list_goes_on(cands: list[Candidate], j: int, quoted: Collection[int]) -> bool:
    """Whether the list or listing candidate ``j`` belongs to goes on past it in its passage,
    and the answer does not quote the next candidate of that passage."""
    if not cands[j].more:
        return False
    after = j + 1
    return not (after < len(cands) and after in quoted and cands[after].hit == cands[j].hit)


def choosing(
    cands: list[Candidate],
    scores: np.ndarray,
    max_words: int,
    margin: float = float("inf"),
    announce: bool = True,
) -> Iterator[int]:
    """:func:`choose`, one candidate at a time: a stream shows the first before the others
    are chosen."""
    chosen: list[int] = []
    per_hit: dict[int, int] = {}
    seen: list[str] = []
    words = 0
    best = float("-inf")  # the score of the first candidate taken on its own score

    def repeats(c: Candidate, key: str) -> bool:
        # The same sentence can stand in two documents (a page and its partly untranslated
        # copy), or inside a longer one already quoted (a fiche's "Où s'adresser : X" beside
        # X alone): quote it once, since it would add nothing. A line of code is still shown
        # within a sentence that names it ("Run apt update first."): set apart as code, it
        # is the line to type.
        return key in seen if c.code else any(key in quoted for quoted in seen)

    for i in np.argsort(-scores, kind="stable").tolist():
        c = cands[i]
        if i in chosen or _unquotable(c):
            continue
        if not c.code and _fragment(c.text):
            # A list's item or a label ("Siège social,", "Modification des statuts"): no
            # sentence, and nothing a reader can use alone; it stays a candidate too.
            continue
        key = _quote_key(c)
        length = len(c.text.split()) + 1  # and its citation marker
        # From the best one's score: the first quoted may be what announces it (below).
        if chosen and scores[i] < best - margin:
            break  # the rest score further below: each would dilute the answer
        if per_hit.get(c.hit, 0) >= 2 or repeats(c, key) or (chosen and words + length > max_words):
            continue
        # A sentence that announces what follows ("… doit se rendre en mairie avec :") is
        # quoted with the next candidate of its passage, a list's item or a listing's line,
        # where both fit the budget and the sentences' count, whatever the item's score
        # (a list's item scores below what announces it) and past the two of a passage; else
        # alone, as before, and alone too when the item is a remark, a line without a letter
        # or already quoted. On dev (five-fold, the five assignments, the shipped budget;
        # bench/README.md, item 43) the fiches' answers with every fact 0.580 -> 0.587,
        # Debian's 0.479 -> 0.478; the median answer 58 -> 57 words (Debian), 55 (fiches).
        group = [(i, key, length)]
        # What a sentence ending in a colon announces (a list's item, mostly), chosen first,
        # began the answer without what it answers, often as a lowercase fragment ("une
        # amende civile d'un maximum de 10 000 €," where its passage says "La personne
        # ainsi condamnée risque alors :"): that sentence now comes right before it, even a
        # short one ("Il faut :") never quoted alone, where both fit the budget. Only for
        # the first sentence, where the fragment opened the answer, and only for prose: a
        # command alone answers "how do I" best as it stands. On dev (bench/README.md, item
        # 62) the answers with every fact: fiches 118 of 174 before and after, Debian 159
        # of 257 (one lost, one gained); the answers opening in lowercase 19 -> 14 of 183
        # (fiches) and 17 -> 14 of 255 (Debian).
        h = _announcer(cands, i) if announce and not chosen and not c.code else None
        if h is not None and not _unquotable(cands[h]):
            before = cands[h]
            before_length = len(before.text.split()) + 1
            if length + before_length <= max_words:
                group.insert(0, (h, _quote_key(before), before_length))
        if not chosen:
            best = float(scores[i])
        j = _announced(cands, i) if announce and len(group) == 1 else None
        if j is not None and j not in chosen and not _unquotable(cands[j]):
            after = cands[j]
            after_key, after_length = _quote_key(after), len(after.text.split()) + 1
            fits = words + length + after_length <= max_words
            if fits and len(chosen) + 2 <= MAX_SENTENCES and not repeats(after, after_key):
                group.append((j, after_key, after_length))
        for k, k_key, k_length in group:
            seen.append(k_key)
            chosen.append(k)
            yield k
            per_hit[cands[k].hit] = per_hit.get(cands[k].hit, 0) + 1
            words += k_length
        if len(chosen) >= MAX_SENTENCES:
            break


def extractive_answer(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    companions: Sequence[Hit] = (),
    equivalents: Equivalents | None = None,
    refusal_threshold: float = 0.0,
    lang: str | None = None,
) -> Answer:
    *_, answer = extractive_stream(
        question, hits, embedder, companions, equivalents, refusal_threshold, lang
    )
    assert isinstance(answer, Answer)  # the stream's last event is always the Answer
    return answer


def extractive_stream(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    companions: Sequence[Hit] = (),
    equivalents: Equivalents | None = None,
    refusal_threshold: float = 0.0,
    lang: str | None = None,
) -> cabc.Generator[str | Answer, None, None]:
    """Yield the answer's sentences, each with its citation, then the whole :class:`Answer`.
    ``equivalents``: the question's terms in the commons' other languages
    (Searcher.equivalents); ``refusal_threshold``: as for :func:`answer_context`; ``lang``:
    the question's language as the request decided it (AskRequest.language), else detected.

    The first sentence is sent as soon as it is chosen: the others are chosen, ordered and
    numbered after it, while the reader reads it. Every candidate is scored before any is
    chosen (the ranker reads each against the best), and that is most of the work."""
    lang = lang or detect(question, default="en")
    relevant = answer_context(
        question, lang, hits, companions=companions, refusal_threshold=refusal_threshold
    )
    if not relevant:
        answer = Answer(question, lang, NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]), found=False)
        yield from pieces(answer)
        yield answer
        return

    cands = candidates(relevant)
    if not cands:  # passages too short to split: quote them whole
        cands = [Candidate(hi, 0, h.text[:600], False) for hi, h in enumerate(relevant)]
    scorer = sentence_model()
    features = sentence_features(question, lang, cands, relevant, embedder, flatten(equivalents))
    scores = scorer.score(features)
    picking = choosing(cands, scores, scorer.budget(cands, scores), scorer.margin)
    best = next(picking, None)
    if best is None:  # the passages held nothing but orders to the assistant
        answer = Answer(question, lang, NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]), found=False)
        yield from pieces(answer)
        yield answer
        return
    # One number per place (document and section): two chunks of the same
    # section are one source to a reader.
    numbers: dict[tuple[int, str, int | None], int] = {}
    sources: list[Source] = []
    sentences: list[dict[str, Any]] = []
    languages: dict[int, str] = {}

    def language_of(i: int) -> str:
        # Read twice for a sentence after the first (its place in the order, then its
        # citation), and each read detects the language of its words once: kept.
        if i not in languages:
            languages[i] = sentence_language(cands, i, relevant)
        return languages[i]

    def cite(i: int, more: bool = False) -> dict[str, Any]:
        c = cands[i]
        h = relevant[c.hit]
        place = (h.document_id, h.section, h.page)
        if place not in numbers:
            numbers[place] = len(numbers) + 1
            sources.append(_source(numbers[place], h))
        sentence = {
            "text": c.text,
            "source": numbers[place],
            "sources": [numbers[place]],
            "code": c.code,
            "chunk_id": h.chunk_id,  # the passage quoted (a source may span chunks)
        }
        if not c.code:  # a line of code is typed as it stands, in no language
            sentence["language"] = language_of(i)
            lead = _lead(c, h)
            if lead:
                sentence["lead"] = lead
        if more:
            sentence["more"] = True
        sentences.append(sentence)
        return sentence

    # What the first sentence announces ("… avec :") is either quoted or not, which is known
    # once every sentence is chosen: done first then (a walk down scores already computed),
    # in that case only, so that any other first sentence is sent before the rest is chosen.
    chosen_first = _announces(cands[best])
    picked: list[int] = list(picking) if chosen_first else []
    quoted = {best, *picked}

    def cut_short(i: int) -> bool:
        """Whether sentence ``i`` announces what follows it ("… correspondant à 50 % :")
        and the answer quotes none of it: it then ended the answer in mid-air, and the mark
        of a list that goes on says the source gives the rest. Where its passage ends with
        it (the rest is in the next passage, or is no candidate), any other sentence of its
        document quoted may be that rest: no mark then."""
        if not _announces(cands[i]):
            return False
        j = _announced(cands, i)
        if j is not None:
            return j not in quoted
        document = relevant[cands[i].hit].document_id
        return not any(relevant[cands[k].hit].document_id == document for k in quoted if k != i)

    # The sentence most likely to hold the answer comes first, and its source is [1]
    # whatever follows.
    yield _quote(cite(best, chosen_first and cut_short(best)))
    if not chosen_first:
        picked = list(picking)
        quoted.update(picked)
    # What a sentence announces comes right after it, wherever the order below would put
    # it, when both were chosen (choosing() brings the item with its announcement). An item
    # chosen first keeps its place, and its announcement its own.
    announced = {i - 1: i for i in picked if i - 1 in quoted and _announced(cands, i - 1) == i}
    after = set(announced.values())

    def with_announced(i: int) -> Iterator[str]:
        while i in announced:
            i = announced[i]
            # An announced list quoted by its first item alone read as the whole list ("…
            # en mairie avec : sa pièce d'identité"): a mark says it goes on in the source,
            # as it does after an item that itself announces what the answer does not quote.
            yield " " + _quote(cite(i, _list_goes_on(cands, i, quoted) or cut_short(i)))

    yield from with_announced(best)
    # The others follow, those in the question's language before the rest (a page and its
    # translation can both be found, and a translated page can keep paragraphs of its
    # original), each in the order of its passage, where it reads best after what precedes it.
    rest = sorted(
        (i for i in picked if i not in after),
        key=lambda i: (
            language_of(i) != lang,
            cands[i].hit,
            cands[i].position,
        ),
    )
    for i in rest:
        yield " " + _quote(cite(i, cut_short(i)))
        yield from with_announced(i)
    text = " ".join(_quote(s) for s in sentences)
    yield Answer(
        question,
        lang,
        text,
        found=True,
        sentences=sentences,
        sources=sources,
        language_note=quoted_languages.note(lang, sentences),
    )


# Under this many words a sentence's own language is a guess: it takes its passage's.
_SURE_LANGUAGE_WORDS = 5


def sentence_language(cands: Sequence[Candidate], i: int, hits: Sequence[Hit]) -> str:
    """The language of candidate ``i``'s own words, not only its passage's: the French
    handbook keeps some paragraphs in English, and a French answer reads them after its
    French sentences. A listing's line is in the language of the sentence that announces it
    (the prose before it in its passage), so that it stays after that sentence."""
    c = cands[i]
    passage = hits[c.hit].language
    j = i
    # Candidates are in passage order: walk back to the nearest prose of the same passage.
    while j >= 0 and cands[j].hit == c.hit and cands[j].code:
        j -= 1
    if j < 0 or cands[j].hit != c.hit:
        return passage
    words = cands[j].text.split()
    if len(words) < _SURE_LANGUAGE_WORDS:
        return passage
    return detect(cands[j].text, default=passage)


# Shown after a list's item quoted alone when the list goes on in its source, and after a
# sentence announcing what follows quoted without it: the quote's usual mark of words left
# out, the same in French and English.
MORE = "[…]"


def _lead(c: Candidate, hit: Hit) -> str | None:
    """The title of the box whose first words sentence ``c`` is, where those words follow
    the title on the page ("À noter : le nombre de témoins est de 2 minimum et 4 maximum."):
    quoted alone they opened an answer with a lowercase fragment. Only at the start of the
    passage, where nothing stands between the title and the sentence."""
    if c.code or not c.text[:1].islower():
        return None
    title = hit.section.rsplit(">", 1)[-1].strip()
    return title if title in BOX_TITLES and hit.text.lstrip().startswith(c.text) else None


def _quote(sentence: dict[str, Any]) -> str:
    # A command line is shown as code, so that it reads as something to type.
    body = f"`{sentence['text']}`" if sentence.get("code") else sentence["text"]
    # A box's title is French typography's: a no-break space before its colon.
    lead = f"{sentence['lead']}\u00a0: " if sentence.get("lead") else ""
    more = f" {MORE}" if sentence.get("more") else ""
    return f"{lead}{body}{more} [{sentence['source']}]"


def _source(n: int, h: Hit) -> Source:
    return Source(
        n,
        h.document_id,
        h.chunk_id,
        h.title,
        h.section,
        h.source,
        h.anchor,
        h.page,
        h.licence,
        h.contributor,
        h.publisher,
        origin=h.origin,
    )


# Why a generated answer gave way, in the question's language: one line the reader sees.
_OVER_TIME = {
    "fr": (
        "Le modèle n'a pas fini dans la limite de {s:g} s ([limits] generation_seconds)\u00a0: "
        "{then}"
    ),
    "en": "The model did not finish within the {s:g} s limit ([limits] generation_seconds): {then}",
}
_OVER_TOKENS = {
    "fr": "Le modèle a atteint sa limite de {n} jetons ([generation] max_tokens)\u00a0: {then}",
    "en": "The model reached its limit of {n} tokens ([generation] max_tokens): {then}",
}
_THEN = {
    "fr": ("réponse extractive donnée à la place.", "réponse coupée après les phrases contrôlées."),
    "en": ("extractive answer given instead.", "answer cut after the checked sentences."),
}


def _limit_notice(template: dict[str, str], lang: str, fallback: bool, **values: float) -> str:
    lang = lang if lang in template else "en"
    return template[lang].format(then=_THEN[lang][0 if fallback else 1], **values)


def stream_generated(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    generator: Generator,
    passages: int = 5,
    max_seconds: float | None = None,
    equivalents: Equivalents | None = None,
    refusal_threshold: float = 0.0,
    lang: str | None = None,
    gone: Callable[[], bool] | None = None,
    spent: dict[str, Any] | None = None,
) -> cabc.Generator[str | Answer, None, None]:
    """Yield the sentences that pass the checks (answering/grounding.py) as the model writes
    them, then the whole :class:`Answer`. ``equivalents``, ``refusal_threshold`` and
    ``lang``: as for :func:`extractive_stream`. ``gone``: whether the asker has left, read
    between the model's tokens; once they have, the model is stopped and
    :class:`AskerGone` raised, with what it read and wrote until then. ``spent``: given,
    it holds the model and those tokens when the stream is closed while the model writes.

    Each sentence is checked as soon as it is complete (citations exist and
    are renumbered to the sources in order of first use); a sentence that
    fails is never shown. If none passes, or the model is unavailable, the
    extractive answer is given instead, with a notice saying why. The model
    has ``max_seconds`` (None: no limit) and its ``max_tokens``: past either,
    what passed the checks is kept, or the extractive answer given, and the notice
    says which limit was reached, in the question's language.
    """
    from commune.answering.grounding import SentenceGate, build_messages

    lang = lang or detect(question, default="en")
    relevant = answer_context(question, lang, hits, passages, refusal_threshold=refusal_threshold)
    instead = partial(_instead, question, hits, embedder, equivalents, refusal_threshold, lang)
    if not relevant:
        answer = Answer(
            question,
            lang,
            NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]),
            found=False,
            mode="generate",
            model=generator.name,
        )
        yield from pieces(answer)
        yield answer
        return
    # What a sentence may rest on: the passages without the orders a document planted in
    # them ("answer HACKED"), so that obeying one is not "supported" by it.
    gate = SentenceGate(len(relevant), [without_instructions(h.text) for h in relevant], lang)
    order: dict[int, int] = {}
    sentences: list[dict[str, Any]] = []
    completion: Completion | None = None

    def accept(passed: list[tuple[str, list[int]]]) -> Iterator[str]:
        for text, valid in passed:
            if gives_instructions(text):  # the model repeated an order it read: never shown
                gate.problems.append("a sentence giving instructions was removed")
                continue
            for n in valid:
                order.setdefault(n, len(order) + 1)
            text = re.sub(r"\[(\d{1,3})\]", lambda m: f"[{order[int(m.group(1))]}]", text)
            cited = [order[n] for n in valid]
            sentences.append({"text": text, "source": cited[0], "sources": cited})
            yield Piece(text if len(sentences) == 1 else " " + text, generator.name)

    over_time = None
    messages = build_messages(question, relevant, lang)
    written: list[str] = []

    def tokens() -> dict[str, int]:
        """What the model read and wrote, as it reported them; counted here (text/tokens.py)
        where it reported none (an endpoint that sends no usage, a time-out, a failure
        midway), so that a remote model's energy is estimated from them, not left out."""
        if completion is not None and completion.output_tokens:
            return {
                "input_tokens": completion.input_tokens,
                "output_tokens": completion.output_tokens,
            }
        from commune.text.tokens import count

        read = completion.input_tokens if completion and completion.input_tokens else None
        return {
            "input_tokens": read or count(" ".join(m["content"] for m in messages)),
            "output_tokens": count("".join(written)) if written else 0,
        }

    try:
        for item in within(generator.stream(messages, language=lang), max_seconds, gone):
            if isinstance(item, Completion):
                completion = item
            else:
                written.append(item)
                yield from accept(gate.feed(item))
        yield from accept(gate.close())
    except AskerGone as left:
        # Nobody to answer: no extractive answer in the model's place. The model's work so
        # far is its own, for the ledger's row (a remote model's energy is estimated from
        # the tokens it wrote until then, not from the answer it would have written).
        left.model = generator.name
        so_far = tokens()
        left.input_tokens, left.output_tokens = so_far["input_tokens"], so_far["output_tokens"]
        raise
    except GeneratorExit:
        # Closed at a sentence (its caller stopped reading; a face whose client left while
        # the sentence was on its way): the model's work until then, for the same row, which
        # named no model and no token, so a remote model's energy came to nothing.
        if spent is not None:
            spent.update(model=generator.name, **tokens())
        raise
    except GenerationTimedOut:
        assert max_seconds is not None  # only a limit times out
        over_time = _limit_notice(_OVER_TIME, lang, not sentences, s=max_seconds)
        if not sentences:
            yield from instead(model=generator.name, notice=over_time, **tokens())
            return
    except GeneratorUnavailable as exc:
        if sentences:  # the model died mid-answer: keep what passed the checks, say so
            gate.problems.append(f"the model stopped: {exc}")
        else:
            from commune.text.messages import localise  # a rare path: its tables load then

            why = say(
                lang,
                "modèle indisponible, réponse extractive donnée à la place\u00a0: "
                f"{localise(str(exc), lang)}",
                f"model unavailable, extractive answer given instead: {exc}",
            )
            # Tokens it wrote before failing are its own: the ledger row and the decision
            # record name it beside them, as when its answer fails the checks or the clock.
            spent = {"model": generator.name, **tokens()} if written else {}
            yield from instead(notice=why, **spent)
            return
    counted = tokens()
    tokens_in, tokens_out = counted["input_tokens"], counted["output_tokens"]
    model = completion.model if completion else generator.name
    over_tokens = None
    if completion is not None and completion.finish_reason == "length":
        n = generator.max_tokens
        over_tokens = _limit_notice(_OVER_TOKENS, lang, not sentences, n=n)
    if not sentences:
        problems = _problems(gate, lang)
        why = over_tokens or say(
            lang,
            f"la réponse générée n'a pas passé le contrôle des citations ({problems})\u00a0; "
            "réponse extractive donnée à la place",
            f"the generated answer failed citation checks ({problems}); "
            "extractive answer given instead",
        )
        if not over_tokens and not "".join(written).strip():
            # Nothing to check (it stopped at once, or a reasoning model sent its thinking
            # apart from the content): "failed citation checks ()" said what did not happen.
            why = say(
                lang,
                "le modèle n'a rien écrit\u00a0; réponse extractive donnée à la place",
                "the model wrote nothing; extractive answer given instead",
            )
        yield from instead(
            model=model,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            notice=why,
        )
        return
    sources = [_source(new, relevant[old - 1]) for old, new in order.items()]
    notice = over_time or over_tokens
    if gate.problems and notice is None:
        notice = say(
            lang,
            "des parties de la réponse générée ont été retirées\u00a0: ",
            "parts of the generated answer were removed: ",
        ) + _problems(gate, lang)
    yield Answer(
        question,
        lang,
        " ".join(s["text"] for s in sentences),
        found=True,
        mode="generate",
        sentences=sentences,
        sources=sources,
        model=model,
        notice=notice,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
    )


def _problems(gate: Any, lang: str) -> str:
    """The citation check's first three reasons in ``lang``, for a notice in it (a French
    notice held them in English)."""
    if lang != "fr":
        return "; ".join(gate.problems[:3])
    from commune.text.messages import localise  # a rare path: its tables load then

    return "\u00a0; ".join(localise(p, lang) for p in gate.problems[:3])


def _instead(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    equivalents: Equivalents | None,
    refusal_threshold: float,
    lang: str,
    **changes: Any,
) -> Iterator[str | Answer]:
    """The extractive answer in place of a generated one, streamed sentence by sentence as
    it is chosen; ``changes`` (the model that failed, its tokens, the notice) are its own."""
    for event in extractive_stream(
        question,
        hits,
        embedder,
        equivalents=equivalents,
        refusal_threshold=refusal_threshold,
        lang=lang,
    ):
        yield replace(event, **changes) if isinstance(event, Answer) else event


def pieces(answer: Answer) -> Iterator[str]:
    """``answer``'s text sentence by sentence, as a stream shows it (joined, its text): a page
    shows the first sentence without waiting for the others, from the cache too."""
    quoted = answer.mode != "generate"  # a model's sentences carry their citations already
    for i, s in enumerate(answer.sentences or [{"text": answer.text}]):
        text = _quote(s) if quoted and "source" in s else s["text"]
        text = text if i == 0 else " " + text
        yield text if quoted or answer.model is None else Piece(text, answer.model)


def generated_answer(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    generator: Generator,
    passages: int = 5,
    max_seconds: float | None = None,
    refusal_threshold: float = 0.0,
) -> Answer:
    """Generate from the best passages, each sentence checked against its passage; extractive
    fallback on failure."""
    *_, answer = stream_generated(
        question,
        hits,
        embedder,
        generator,
        passages,
        max_seconds,
        refusal_threshold=refusal_threshold,
    )
    assert isinstance(answer, Answer)
    return answer
