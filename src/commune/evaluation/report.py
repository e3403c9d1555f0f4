"""Reports: JSON for machines, HTML with plots for people, and the difference of two runs."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from commune.errors import CommuneError
from commune.text.numbers import plural

FORMAT = 1
# Every figure a report shows: (where, retriever or None for each answer system, key,
# long label for the HTML table, short label for the terminal, shown in the terminal).
FIGURES = [
    ("retrieval", "hybrid", "mrr@10", "MRR@10 hybrid", "MRR hyb", True),
    ("retrieval", "lexical", "mrr@10", "MRR@10 lexical", "MRR lex", True),
    ("retrieval", "dense", "mrr@10", "MRR@10 dense", "MRR dense", True),
    ("retrieval", "hybrid", "ndcg@10", "nDCG@10 hybrid", "nDCG@10", True),
    ("retrieval", "hybrid", "recall@10", "Recall@10 hybrid", "R@10", True),
    ("answers", None, "fact_containment", "fact containment", "facts", True),
    ("answers", None, "correct", "correct", "correct", True),
    ("answers", None, "citation_validity", "citation validity", "cites ok", True),
    ("answers", None, "refusal_precision", "refusal precision", "", False),
    ("answers", None, "refusal_recall", "refusal recall", "refused unans", True),
    ("answers", None, "answerable_refused", "answerable refused", "refused ans", True),
    ("answers", None, "latency_p50_ms", "latency p50 ms", "", False),
    ("answers", None, "latency_p95_ms", "latency p95 ms", "p95 ms", True),
    ("answers", None, "wh_per_answer", "Wh / answer", "", False),
    ("answers", None, "wh_per_correct_answer", "Wh / correct answer", "mWh/correct", True),
]
COLUMNS = [(where, sub, key, short) for where, sub, key, _, short, shown in FIGURES if shown]


def build(
    result: Any,
    pins: dict[str, Any],
    split: str | None,
    collection: str | None = None,
    limit: int | None = None,
    sample: int | None = None,
) -> dict[str, Any]:
    partial = bool(getattr(result, "partial", False))
    return {
        "kind": "commune-eval",
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": split,
        # What else narrowed the questions: a published report of three questions of one
        # collection said "split all" and nothing more.
        "collection": collection,
        "limit": limit if partial else None,
        "sample": sample if partial else None,
        "pins": pins,
        "systems": list(result.outcomes),
        "metrics": result.metrics(),
        "counts": counts(result),
        "questions": {
            label: [o.to_json() for o in outcomes] for label, outcomes in result.outcomes.items()
        },
    }


def counts(result: Any) -> dict[str, Any]:
    """What each ratio of the metrics was taken over, per group and answer system, as
    [found, out of]: a figure read alone hid that the questions naming no document are not in
    retrieval's, nor those listing no fact in the facts'. The same selections as
    metrics.answer_scores; the citations are sentences, the rest questions."""
    out: dict[str, Any] = {}
    for group, cases in result.groups().items():
        ids = {c.id for c in cases}
        entry: dict[str, Any] = {
            "questions": len(cases),
            "retrieval_judged": sum(1 for c in cases if c.id in result.qrels),
            "answers": {},
        }
        for label, outcomes in result.outcomes.items():
            mine = [o for o in outcomes if o.case.id in ids]
            answerable = [o for o in mine if not o.case.unanswerable]
            unanswerable = [o for o in mine if o.case.unanswerable]
            with_facts = [o for o in answerable if o.case.facts]
            entry["answers"][label] = {
                "fact_containment": [sum(bool(o.facts_found) for o in with_facts), len(with_facts)],
                "correct": [sum(o.correct for o in mine), len(mine)],
                "citation_validity": [
                    sum(o.citations_supported for o in mine),
                    sum(o.citations for o in mine),
                ],
                "refusal_precision": [
                    sum(o.refused for o in unanswerable),
                    sum(o.refused for o in mine),
                ],
                "refusal_recall": [sum(o.refused for o in unanswerable), len(unanswerable)],
                "answerable_refused": [sum(o.refused for o in answerable), len(answerable)],
            }
        out[group] = entry
    return out


def load(path: str | Path) -> dict[str, Any]:
    """A report from its JSON file or the directory a run wrote."""
    p = Path(path)
    if p.is_dir():
        p = p / "report.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommuneError(
            f"no evaluation report at {p}", "give a report.json or the --out directory of a run"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommuneError(f"{p} is not a valid report: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != "commune-eval":
        raise CommuneError(f"{p} is not a Commune evaluation report")
    missing = _missing(data)
    if missing is not None:
        # An older format, or a report edited by hand: the comparison read these after the
        # whole run and ended in a traceback.
        raise CommuneError(
            f"{p} is a report of another version of commune eval: it has no {missing}",
            "run commune eval --out again to make a report to compare with",
        )
    return data


# What a comparison reads of the earlier report: (path, type).
_READ: list[tuple[tuple[str, ...], type]] = [
    (("created_at",), str),
    (("pins",), dict),
    (("pins", "suite"), dict),
    (("pins", "suite", "sha256"), str),
    (("pins", "embedder"), dict),
    (("pins", "embedder", "name"), str),
    (("metrics",), dict),
    (("questions",), dict),
]


def _missing(data: dict[str, Any]) -> str | None:
    """The first field a comparison reads that ``data`` lacks, or has of another type
    ("pins.embedder.name"), or None."""
    for path, kind in _READ:
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, kind):
            return ".".join(path)
    if not all(isinstance(entry, dict) for entry in data["metrics"].values()):
        return "metrics"
    for items in data["questions"].values():
        if not isinstance(items, list) or not all(
            isinstance(q, dict) and "id" in q and "correct" in q for q in items
        ):
            return "questions"
    return None


def write(
    report: dict[str, Any],
    out: str | Path,
    other: dict[str, Any] | None = None,
    language: str = "en",
) -> Path:
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / "report.json.tmp"
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(d / "report.json")  # a reader never sees half a report
    (d / "report.html").write_text(to_html(report, other, language), encoding="utf-8")
    return d


def rows(report: dict[str, Any]) -> list[tuple[str, str, str, float | None]]:
    """(group, system, metric label, value) for every headline figure."""
    out = []
    for group, entry in report["metrics"].items():
        systems = ["retrieval", *entry.get("answers", {})]
        for system in systems:
            for where, sub, key, label, _, _ in FIGURES:
                if (sub is None) == (system == "retrieval"):
                    continue  # retrieval figures once, answer figures per system
                value = entry.get(where, {}).get(sub or system, {}).get(key)
                if value is not None:
                    out.append((group, system, label, value))
    return out


def _fmt(v: float | None, language: str = "en") -> str:
    if v is None:
        return "–"
    if abs(v) < 0.01 and v != 0:
        text = f"{v:.2e}"
    else:
        text = f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    # A decimal comma for a French reader (text/numbers.py); the figures are the same.
    return text.replace(".", ",") if language == "fr" else text


def _cell(entry: dict[str, Any], system: str, where: str, sub: str | None, key: str) -> Any:
    block = entry.get(where, {}).get(sub or system, {})
    value = block.get(key)
    if value is not None and key == "wh_per_correct_answer":
        value *= 1000
    return value


# The terminal table's words in French (the short labels fit the same columns).
FRENCH = {
    "group": "groupe",
    "system": "système",
    "retrieval": "recherche",
    "all": "tout",
    "facts": "faits",
    "correct": "justes",
    "cites ok": "cit. ok",
    "refused unans": "refus dus",
    "refused ans": "refus indus",
    "p95 ms": "p95 ms",
    "mWh/correct": "mWh/juste",
}


def _word(text: str, language: str) -> str:
    if language != "fr":
        return text
    # The suite's groups: "language fr" (the question's), "slice fr→en" (question→its documents).
    for english, french in (("language ", "langue "), ("slice ", "tranche ")):
        if text.startswith(english):
            return french + text.removeprefix(english)
    return FRENCH.get(text, text)


def scope(report: dict[str, Any], language: str = "en") -> str:
    """Which questions were asked: the split, and the collection, --limit or --sample that
    narrowed them ("partie test, collection mairie, --limit 3")."""
    split = report["split"] or "all"
    narrowed = [
        f"{flag} {report[key]}"
        for key, flag in (
            ("collection", "collection"),
            ("limit", "--limit"),
            ("sample", "--sample"),
        )
        if report.get(key) is not None
    ]
    if language == "fr":
        if split == "all":
            first = "toutes les parties" if narrowed else "toutes les questions"
        else:
            first = "partie " + _word(split, language)
    else:
        first = f"split {split}"
    return ", ".join([first, *narrowed])


def other_suite(report: dict[str, Any], other: dict[str, Any]) -> str:
    """ "suite NAME HASH, " when the run compared asked another suite, or another version of
    it (questions added, facts corrected): its changes are not only this code's."""
    mine, theirs = report["pins"]["suite"], other["pins"]["suite"]
    if mine.get("sha256") == theirs.get("sha256"):
        return ""
    return f"suite {theirs.get('name')} {str(theirs.get('sha256'))[:12]}, "


def summary(
    report: dict[str, Any], other: dict[str, Any] | None = None, language: str = "en"
) -> str:
    """A table: one row per group and answer system; with ``other``, each change beside.
    ``language`` "fr" writes its words and decimal commas in French (the CLI's default,
    issue 24); report.json and report.html are unchanged."""
    pins = report["pins"]
    fr = language == "fr"
    commit = pins.get("commit") or ("inconnu" if fr else "unknown")
    code, config = str(pins.get("code_sha256"))[:12], pins["config_sha256"][:12]
    embedder = pins["embedder"]["name"]
    lines = [
        f"Évaluation de {pins['suite']['name']} ({scope(report, language)}), commit {commit}, "
        f"code {code}, plongement {embedder}, configuration {config}"
        if fr
        else f"Evaluation of {pins['suite']['name']} ({scope(report)}), commit {commit}, "
        f"code {code}, embedder {embedder}, configuration {config}"
    ]
    if other:
        when, was = other["created_at"], other["pins"].get("commit")
        before = other["pins"]["embedder"]["name"]
        lines.append(
            f"comparée à {when} ({other_suite(report, other)}{scope(other, language)}, "
            f"commit {was}, plongement {before})\u00a0: l'écart entre parenthèses"
            if fr
            else f"compared with {when} ({other_suite(report, other)}{scope(other)}, commit "
            f"{was}, embedder {before}): change in brackets"
        )
    width = 16 if other else 9
    group, system = _word("group", language), _word("system", language)
    lines.append(
        f"{group:<18} {system:<18} "
        + " ".join(f"{_word(c[3], language):>{width}}" for c in COLUMNS)
    )
    for name, entry in report["metrics"].items():
        before = (other or {}).get("metrics", {}).get(name, {})
        # A run that asked for no answer (--retrieval-only) has one row, retrieval's, named
        # as the HTML table names it: it read "-", a system with no name.
        for system in entry.get("answers") or {"retrieval": {}}:
            cells = []
            for where, sub, key, _ in COLUMNS:
                v = _cell(entry, system, where, sub, key)
                text = _fmt(v, language)
                if other and v is not None:
                    b = _cell(before, system, where, sub, key)
                    if b is not None:
                        text += f" ({'+' if v - b >= 0 else ''}{_fmt(v - b, language)})"
                cells.append(f"{text:>{width}}")
            shown = system if entry.get("answers") else _word(system, language)
            lines.append(f"{_word(name, language):<18} {shown:<18} " + " ".join(cells))
    lines.extend(count_lines(report, language))
    if other:
        lines.extend(changed_answers(report, other, language=language))
    return "\n".join(lines)


def count_lines(report: dict[str, Any], language: str = "en") -> list[str]:
    """What the table's ratios were taken over, one line per group and system ("facts 4 of
    5"); a report written before the counts were kept has none."""
    fr = language == "fr"
    found = report.get("counts") or {}
    if not found:
        return []
    lines = [
        "\nSur quoi portent les chiffres (trouvés sur le total)\u00a0: la recherche (MRR, "
        "nDCG@10, R@10) sur les questions qui nomment leurs documents, les faits sur celles "
        "avec réponse qui en listent, les citations sur les phrases citées"
        if fr
        else "\nWhat the figures are taken over (found of the total): retrieval (MRR, nDCG@10, "
        "R@10) over the questions that name their documents, facts over the answerable ones "
        "that list some, citations over the sentences cited"
    ]
    of = "sur" if fr else "of"
    for name, entry in found.items():
        n, judged = entry["questions"], entry["retrieval_judged"]
        head = plural(language, n, "{n} question", "{n} questions") + (
            f", recherche sur {judged}" if fr else f", retrieval over {judged}"
        )
        answers = entry.get("answers") or {}
        if not answers:
            lines.append(f"{_word(name, language)}\u00a0: {head}" if fr else f"{name}: {head}")
            continue
        for system, c in answers.items():
            parts = [
                f"{_word(short, language)} {c[key][0]} {of} {c[key][1]}"
                for key, short in (
                    ("fact_containment", "facts"),
                    ("correct", "correct"),
                    ("citation_validity", "cites ok"),
                    ("refusal_recall", "refused unans"),
                    ("answerable_refused", "refused ans"),
                )
            ]
            text = f"{head}; {system}: " + ", ".join(parts)
            if fr:
                text = f"{head}\u00a0; {system}\u00a0: " + ", ".join(parts)
                lines.append(f"{_word(name, language)}\u00a0: {text}")
            else:
                lines.append(f"{name}: {text}")
    return lines


def changed_answers(
    report: dict[str, Any], other: dict[str, Any], limit: int = 20, language: str = "en"
) -> list[str]:
    out = []
    for system, items in report["questions"].items():
        # The same question: its id, and its words (another suite's "q1", or one reworded
        # since, is not the question that was answered before).
        asked = {q["id"]: q["question"] for q in items}
        before = {
            q["id"]: q
            for q in other.get("questions", {}).get(system, [])
            if q.get("question") == asked.get(q["id"])
        }
        gained = [
            q["id"]
            for q in items
            if q["id"] in before and q["correct"] and not before[q["id"]]["correct"]
        ]
        lost = [
            q["id"]
            for q in items
            if q["id"] in before and not q["correct"] and before[q["id"]]["correct"]
        ]
        if gained or lost:
            now, then = ", ".join(gained[:limit]), ", ".join(lost[:limit])
            if language == "fr":
                better = plural(language, len(gained), "{n} devenue juste", "{n} devenues justes")
                worse = plural(
                    language, len(lost), "{n} qui ne l'est plus", "{n} qui ne le sont plus"
                )
                out.append(f"{system}\u00a0: {better} ({now})\u00a0; {worse} ({then})")
            else:
                out.append(
                    f"{system}: {len(gained)} now correct ({now}); "
                    f"{len(lost)} no longer correct ({then})"
                )
    return out


# -- HTML ------------------------------------------------------------------------------------
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;"
    "color:#1b1b1b}table{border-collapse:collapse;margin:1rem 0}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}"
    "th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:bold}"
    ".up{color:#046b2d}.down{color:#a3000b}code{font-size:.9em}figure{margin:1rem 0}"
)


def _bars(title: str, series: dict[str, dict[str, float]], width: int = 640) -> str:
    """A grouped horizontal bar chart as inline SVG (values in 0..1)."""
    groups = list(series)
    names = sorted({n for s in series.values() for n in s})
    colours = ["#000091", "#e1000f", "#6a6af4", "#18753c", "#b34000"]
    bar, gap, left = 14, 10, 150
    height = len(groups) * (len(names) * bar + gap) + 40
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12">'
    ]
    y = 10
    for g in groups:
        parts.append(f'<text x="0" y="{y + bar}">{html.escape(g)}</text>')
        for i, n in enumerate(names):
            v = series[g].get(n)
            if v is None:
                continue
            w = max(0.0, min(1.0, v)) * (width - left - 60)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="{colours[i % len(colours)]}">'
                f"<title>{html.escape(n)}: {v:.3f}</title></rect>"
                f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}">{v:.2f}</text>'
            )
            y += bar
        y += gap
    legend = " ".join(
        f'<tspan fill="{colours[i % len(colours)]}">■ {html.escape(n)}</tspan>'
        for i, n in enumerate(names)
    )
    parts.append(f'<text x="{left}" y="{y + 14}">{legend}</text></svg>')
    return f"<figure>{''.join(parts)}<figcaption>{html.escape(title)}</figcaption></figure>"


# The rows of "Questions not answered correctly" report.html shows.
WRONG_SHOWN = 400
_KEYS = {label: key for _, _, key, label, _, _ in FIGURES}


# The HTML table's figure labels in French (FIGURES' long labels).
FRENCH_FIGURES = {
    "MRR@10 hybrid": "MRR@10 hybride",
    "MRR@10 lexical": "MRR@10 lexicale",
    "MRR@10 dense": "MRR@10 dense",
    "nDCG@10 hybrid": "nDCG@10 hybride",
    "Recall@10 hybrid": "Rappel@10 hybride",
    "fact containment": "faits contenus",
    "correct": "justes",
    "citation validity": "citations fondées",
    "refusal precision": "précision des refus",
    "refusal recall": "sans réponse refusées",
    "answerable refused": "avec réponse refusées",
    "latency p50 ms": "latence p50 ms",
    "latency p95 ms": "latence p95 ms",
    "Wh / answer": "Wh / réponse",
    "Wh / correct answer": "Wh / réponse juste",
}


def taken_over(
    report: dict[str, Any], group: str, system: str, label: str, language: str = "en"
) -> str:
    """What a figure of the HTML table was taken over: "4 of 5" for a ratio of questions
    (citations: of sentences), "3 questions" for a mean; "" where the report kept no count."""
    fr = language == "fr"
    entry = (report.get("counts") or {}).get(group)
    if not entry:
        return ""
    if system == "retrieval":
        n = entry["retrieval_judged"]
        return (
            plural(
                language,
                n,
                "{n} question qui nomme ses documents",
                "{n} questions qui nomment leurs documents",
            )
            if fr
            else f"{n} questions naming their documents"
        )
    mine = entry["answers"].get(system, {})
    key = _KEYS.get(label, "")
    pair = mine.get(key)
    if pair is not None:
        units = {
            "citation_validity": ("{n} phrase citée", "{n} phrases citées")
            if fr
            else ("{n} sentence cited", "{n} sentences cited"),
            "refusal_precision": ("{n} refus", "{n} refus")
            if fr
            else ("{n} refusal", "{n} refusals"),
        }
        one, many = units.get(key, ("{n} question", "{n} questions"))
        return f"{pair[0]} {'sur' if fr else 'of'} " + plural(language, pair[1], one, many)
    if key == "wh_per_correct_answer" and "correct" in mine:
        n = mine["correct"][0]
        return (
            plural(language, n, "{n} réponse juste", "{n} réponses justes")
            if fr
            else f"{n} correct answers"
        )
    return plural(language, entry["questions"], "{n} question", "{n} questions")


def to_html(
    report: dict[str, Any], other: dict[str, Any] | None = None, language: str = "en"
) -> str:
    """The report as a page, in ``language`` ("fr": French words and decimal commas, as the
    terminal's table; the figures are the same)."""
    esc = html.escape
    fr = language == "fr"

    def t(english: str, french: str) -> str:
        return french if fr else english

    def num(v: float | None) -> str:
        return _fmt(v, language)

    pins = report["pins"]
    metrics = report["metrics"]
    slices = [g for g in metrics if g.startswith("slice ")]
    retrieval = {
        g.removeprefix("slice "): {s: v["mrr@10"] for s, v in metrics[g]["retrieval"].items()}
        for g in slices
        if metrics[g]["retrieval"]
    }
    answers = {
        g.removeprefix("slice "): {
            s: v["fact_containment"]
            for s, v in metrics[g]["answers"].items()
            if v.get("fact_containment") is not None
        }
        for g in slices
    }
    theirs = {(g, s, m): v for g, s, m, v in rows(other)} if other else {}
    heads = [
        t("group", "groupe"),
        t("system", "système"),
        t("figure", "chiffre"),
        t("value", "valeur"),
        t("taken over", "sur"),
    ]
    if other:
        heads += [t("compared", "comparée"), t("change", "écart")]
    table = [
        f"<table><caption>{t('Figures', 'Chiffres')}</caption><tr>"
        + "".join(f"<th>{h}</th>" for h in heads)
        + "</tr>"
    ]
    for group, system, label, value in rows(report):
        over = taken_over(report, group, system, label, language)
        shown = (
            _word(group, language),
            t(system, "recherche") if system == "retrieval" else system,
            FRENCH_FIGURES.get(label, label) if fr else label,
            num(value),
            over,
        )
        cells = "".join(f"<td>{esc(x)}</td>" for x in shown)
        if other:
            before = theirs.get((group, system, label))
            change = None if before is None or value is None else value - before
            cls = "" if not change else ("up" if change > 0 else "down")
            cells += f'<td>{num(before)}</td><td class="{cls}">{num(change)}</td>'
        table.append(f"<tr>{cells}</tr>")
    table.append("</table>")
    wrong = []
    for system, items in report["questions"].items():
        for q in items:
            if not q["correct"]:
                said = t("refused", "refusée") if q["refused"] else q["answer"][:300]
                cells = "".join(
                    f"<td>{esc(x)}</td>" for x in (q["id"], system, q["question"], said)
                )
                wrong.append(f"<tr>{cells}</tr>")
    changed = (
        "".join(
            f"<li>{esc(line)}</li>" for line in changed_answers(report, other, language=language)
        )
        if other
        else ""
    )
    name = esc(pins["suite"]["name"])
    compared = ""
    if other:
        compared = (
            f"<p>{t('Compared with the run of', 'Comparée à l’évaluation du')} "
            f"{esc(other['created_at'])} "
            f"({esc(other_suite(report, other))}{esc(scope(other, language))}, "
            "commit "
            f"<code>{esc(str(other['pins'].get('commit')))}</code>).</p><ul>{changed}</ul>"
        )
    plots = ""
    if retrieval:
        plots += _bars(
            t(
                "Retrieval MRR@10 by slice: the hybrid and each of its halves",
                "Recherche, MRR@10 par tranche\u00a0: l’hybride et chacune de ses moitiés",
            ),
            retrieval,
        )
    if any(answers.values()):
        plots += _bars(
            t("Answer-fact containment by slice", "Faits contenus dans les réponses, par tranche"),
            answers,
        )
    head = (
        f"{esc(report['created_at'])} — Commune {esc(pins['commune_version'])}, commit "
        f"<code>{esc(str(pins.get('commit')))}</code>, code "
        f"<code>{esc(str(pins.get('code_sha256'))[:12])}</code>, {t('embedder', 'plongement')} "
        f"<code>{esc(pins['embedder']['name'])}</code>, configuration "
        f"<code>{esc(pins['config_sha256'][:12])}</code>, {t('suite', 'série')} "
        f"<code>{esc(pins['suite']['sha256'][:12])}</code>, "
        f"{t('index generation', 'génération de l’index')} "
        f"{esc(str(pins['index_generation']))}."
    )
    # A long list is cut, and says so: a reader counting the rows would take them for all.
    shown_wrong = WRONG_SHOWN
    cut = (
        t(
            f"<p>The first {shown_wrong} of {len(wrong)}; report.json holds every question.</p>",
            f"<p>Les {shown_wrong} premières sur {len(wrong)}\u00a0; report.json garde toutes "
            "les questions.</p>",
        )
        if len(wrong) > shown_wrong
        else ""
    )
    title = t(f"Commune evaluation: {name}", f"Évaluation Commune\u00a0: {name}")
    wrong_heads = "".join(
        f"<th>{h}</th>" for h in ("id", t("system", "système"), "question", t("answer", "réponse"))
    )
    return f"""<!doctype html>
<html lang="{t("en", "fr")}"><head><meta charset="utf-8"><title>{title}</title>
<style>{_CSS}</style></head><body><main>
<h1>{t("Evaluation of", "Évaluation de")} <code>{name}</code>, {esc(scope(report, language))}</h1>
<p>{head}</p>
{compared}
{plots}
{"".join(table)}
<h2>{t("Pins", "Épinglage")}</h2><pre>{esc(json.dumps(pins, indent=1, ensure_ascii=False))}</pre>
<h2>{t("Questions not answered correctly", "Questions sans réponse juste")}</h2>
<table><tr>{wrong_heads}</tr>
{"".join(wrong[:shown_wrong])}</table>
{cut}
</main></body></html>
"""


def one_line(report: dict[str, Any]) -> str:
    """The headline of a report, for `make demo` and logs."""
    m = report["metrics"]["all"]
    parts = [
        f"{report['pins']['suite']['name']} ({report['split'] or 'all'} split, "
        f"{m['questions']} questions, {report['created_at'][:10]})"
    ]
    hybrid = m["retrieval"].get("hybrid")
    if hybrid:
        parts.append(f"retrieval MRR@10 {hybrid['mrr@10']:.3f}")
    for system, a in m["answers"].items():
        parts.append(
            f"{system}: facts {a['fact_containment'] or 0:.1%}, "
            f"unanswerable refused {a['refusal_recall'] or 0:.1%}, "
            f"answerable refused {a['answerable_refused'] or 0:.1%}, "
            f"{(a['wh_per_correct_answer'] or 0) * 1000:.2f} mWh per correct answer"
        )
    return "last evaluation: " + "; ".join(parts)
