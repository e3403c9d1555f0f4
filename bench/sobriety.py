"""The sobriety figure: extraction as measured against always-generate as modelled.

    PYTHONPATH=src python bench/sobriety.py               # write results/sobriety.json, print
    PYTHONPATH=src python bench/sobriety.py --docs        # and paste the table in docs/charter.md

Why modelled (issue 21, part 6): the figure must compare the five steps with always-generate
by a model that really answers. None can run here (2 CPU cores, no GPU; the only packaged
generator, SmolLM2-135M, fails the citation checks and falls back to extraction, which once
made "equal correctness" hold by construction). So the generate side is the cooperative's
configured upstream model (docs/charter.md's ``[models.gpu]``), modelled by EcoLogits through
``commune.account.energy.modelled_for``: the method and version the product itself uses.

The extraction side is read, never rerun, from the committed reference evaluations
(eval/reports/): what was measured, on the test split, question by question. Nothing here
loads a model; it runs in about a second.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from commune.account.energy import ecologits_version, modelled_for
from commune.config import EnergySettings, ModelSettings, load_settings
from commune.evaluation.pins import config_hash
from commune.text import tokens

ROOT = Path(__file__).resolve().parents[1]
REPORTS = {
    "debian": ROOT / "eval/reports/reference-test/report.json",
    "fiches": ROOT / "eval/reports/reference-fiches-test/report.json",
}
CHARTER_DOC = ROOT / "docs/charter.md"
RESULTS = ROOT / "bench/results/sobriety.json"
MODEL = "gpu"
START, END = "<!-- SOBRIETY:START -->", "<!-- SOBRIETY:END -->"


def upstream() -> tuple[ModelSettings, int]:
    """The configured upstream model, as docs/charter.md configures it, read by the product's
    own settings loader (so its defaults are the product's); and the answers' token cap."""
    text = CHARTER_DOC.read_text(encoding="utf-8")
    block = next(
        (b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if f"[models.{MODEL}]" in b),
        None,
    )
    if block is None:
        sys.exit(f"docs/charter.md has no ```toml block with [models.{MODEL}]: restore it")
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "commune.toml").write_text(block, encoding="utf-8")
        settings = load_settings(home)
    return settings.models[MODEL], settings.generation.max_tokens


def energy_method(report: dict[str, Any]) -> str:
    """The extraction side's energy method. The report keeps each answer's Wh, not its
    method; its config hash says which settings measured it. Where they are the defaults
    (no RAPL, 12 W per core), the method is the meter's estimate, as the meter words it."""
    with tempfile.TemporaryDirectory() as home:
        defaults = load_settings(home)
    if report["pins"].get("config_sha256") == config_hash(defaults):
        watts = EnergySettings().watts_per_core
        return f"CPU time x {watts:g} W per core, a configured figure (estimated)"
    return "as the evaluation home's [energy] settings say (not the defaults; not recorded)"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def side_measured(answers: list[dict[str, Any]], method: str) -> dict[str, Any]:
    n = len(answers)
    correct = sum(1 for q in answers if q["correct"])
    wh = [float(q["wh"]) for q in answers]
    return {
        "way": "extraction",
        # Run here, answer by answer; its energy is the ledger's, whose method the reports'
        # settings name (CPU time measured x a configured wattage: an estimate, not a reading).
        "label": "run here",
        "method": method,
        "questions": n,
        "run": True,
        "generated": sum(1 for q in answers if q["mode"] == "generate"),
        # An answer asked of a model that came back as extracts says so in its notice.
        "fell_back": sum(1 for q in answers if q["mode"] == "extractive" and q.get("notice")),
        "extractive": sum(
            1
            for q in answers
            if q["mode"] == "extractive" and not q["refused"] and not q.get("notice")
        ),
        "refused": sum(1 for q in answers if q["refused"]),
        "correct": correct,
        "correct_share": round(correct / n, 4) if n else None,
        "wh_median_per_answer": _median(wh),
        "wh_total": sum(wh),
        "wh_per_correct_answer": sum(wh) / correct if correct else None,
    }


def side_modelled(
    answers: list[dict[str, Any]], spec: ModelSettings, output_tokens: list[int], assumption: str
) -> dict[str, Any]:
    """Always-generate on the same questions: this machine's work (retrieval, the same as the
    extraction side's measured figure for that question) plus the modelled generation."""
    cache: dict[int, Any] = {}
    low: list[float] = []
    mid: list[float] = []
    high: list[float] = []
    method = ""
    for q, n in zip(answers, output_tokens, strict=True):
        if n not in cache:
            cache[n] = modelled_for(MODEL, spec, n)
        m = cache[n]
        here = float(q["wh"])
        low.append(here + m.wh_min)
        mid.append(here + m.wh)
        high.append(here + m.wh_max)
        method = m.method
    return {
        "way": f"always generate ({MODEL})",
        "label": f"modelled, ecologits {ecologits_version()}",
        # The method of one answer, with its token count replaced by the assumption.
        "method": re.sub(r"\d+ output tokens", f"{assumption} output tokens", method),
        "assumption": assumption,
        "output_tokens_median": _median([float(n) for n in output_tokens]),
        "questions": len(answers),
        "run": False,  # nothing was generated: no such model runs here
        "generated": 0,
        "fell_back": None,
        "extractive": None,
        "refused": None,
        "correct": None,  # unknown until the model is evaluated
        "wh_median_per_answer": _median(mid),
        "wh_median_per_answer_range": [_median(low), _median(high)],
        "wh_total": sum(mid),
        "wh_total_range": [sum(low), sum(high)],
    }


def ratios(measured: dict[str, Any], gen: dict[str, Any]) -> dict[str, Any]:
    base = measured["wh_median_per_answer"]
    lo, hi = gen["wh_median_per_answer_range"]
    out: dict[str, Any] = {
        "per_answer_median": gen["wh_median_per_answer"] / base,
        "per_answer_median_range": [lo / base, hi / base],
    }
    # Generation's correctness is unknown; at best every answer is correct, so its Wh per
    # correct answer is at least its Wh per answer (EcoLogits' low end): a bound, not a guess.
    if measured["wh_per_correct_answer"]:
        low_total = gen["wh_total_range"][0]
        out["per_correct_answer_at_least"] = (
            low_total / gen["questions"] / measured["wh_per_correct_answer"]
        )
    return out


def compute() -> dict[str, Any]:
    spec, max_tokens = upstream()
    suites: dict[str, Any] = {}
    pooled: list[dict[str, Any]] = []
    methods = set()
    pins = {}
    for name, path in REPORTS.items():
        report = json.loads(path.read_text(encoding="utf-8"))
        answers = report["questions"]["extractive"]
        method = energy_method(report)
        methods.add(method)
        pins[name] = {
            "report": str(path.relative_to(ROOT)),
            "split": report["split"],
            "commit": report["pins"].get("commit"),
            "code_sha256": report["pins"].get("code_sha256"),
        }
        pooled += answers
        suites[name] = _compare(answers, method, spec, max_tokens)
    suites["all"] = _compare(pooled, " / ".join(sorted(methods)), spec, max_tokens)
    return {
        "kind": "commune-sobriety",
        "format": 1,
        "reports": pins,
        "model": {
            "name": MODEL,
            "from": "docs/charter.md [models.gpu]",
            "endpoint_model": spec.model,
            "active_params_b": spec.active_params_b,
            "total_params_b": spec.total_params_b,
            "quantization_bits": spec.quantization_bits,
            "gpu_memory_gb": spec.gpu_memory_gb,
            "datacenter_pue": spec.datacenter_pue,
            "electricity_zone": spec.electricity_zone,
        },
        "max_tokens": max_tokens,
        "token_count": tokens.method(),
        "suites": suites,
    }


def _compare(
    answers: list[dict[str, Any]], method: str, spec: ModelSettings, max_tokens: int
) -> dict[str, Any]:
    measured = side_measured(answers, method)
    # A typical answer's length: each question's own extract, counted in tokens.
    lengths = [tokens.count(q["answer"]) for q in answers]
    at_cap = side_modelled(answers, spec, [max_tokens] * len(answers), f"{max_tokens}")
    at_length = side_modelled(answers, spec, lengths, "the extract's own")
    return {
        "extraction": measured,
        "generate_max_tokens": {**at_cap, "ratio": ratios(measured, at_cap)},
        "generate_extract_length": {**at_length, "ratio": ratios(measured, at_length)},
    }


# -- rendering -------------------------------------------------------------------------------


def _wh(x: float) -> str:
    return f"{x:.4f}" if x >= 0.001 else f"{x:.5f}"


def _n(v: int | None, unknown: str = "unknown") -> str:
    return unknown if v is None else str(v)


def render(data: dict[str, Any]) -> str:
    m = data["model"]
    pins = data["reports"]
    pue = m["datacenter_pue"]
    pue_text = f"{pue[0]:g}–{pue[1]:g}" if isinstance(pue, list | tuple) else f"{pue:g}"
    first = data["suites"]["all"]
    label = first["generate_max_tokens"]["label"]
    lines = [
        "<!-- generated by `PYTHONPATH=src python bench/sobriety.py --docs` from "
        "bench/results/sobriety.json; do not edit by hand -->",
        "",
        "Test split of the committed reference evaluations ("
        + ", ".join(
            f"`{p['report']}`, commit {str(p['commit'])[:7]}, code {str(p['code_sha256'])[:12]}"
            for p in pins.values()
        )
        + f"). **Extraction: run here**, answer by answer; energy {first['extraction']['method']}. "
        f"**Always generate: {label}**, not run: `{m['name']}` as this page configures it "
        f"({m['endpoint_model']}, {m['active_params_b']:g}B active / {m['total_params_b']:g}B "
        f"total, {m['quantization_bits']}-bit, {m['gpu_memory_gb']:g} GB GPUs, PUE "
        f"{pue_text}, {m['electricity_zone']} mix), plus this machine's measured work for the "
        "same question (retrieval, taken equal to the extraction side's). Output tokens: "
        f"`max_tokens` ({data['max_tokens']}), or the extract's own length "
        f"({data['token_count']} tokens). Ranges are EcoLogits' (min–max).",
        "",
        "| test questions | way of answering | output tokens | generated | fell back "
        "| extracted | nothing found | correct | Wh per answer (median) | × extraction "
        "| Wh, all answers | Wh per correct answer |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for suite, rows in data["suites"].items():
        x = rows["extraction"]
        n = x["questions"]
        lines.append(
            f"| {suite} ({n}) | extraction, run here | – | {x['generated']} | "
            f"{x['fell_back']} | {x['extractive']} | {x['refused']} | "
            f"{x['correct']} ({x['correct_share']:.1%}) | "
            f"{_wh(x['wh_median_per_answer'])} | 1 | {x['wh_total']:.3f} | "
            f"{_wh(x['wh_per_correct_answer'])} |"
        )
        for key in ("generate_max_tokens", "generate_extract_length"):
            g = rows[key]
            lo, hi = g["wh_median_per_answer_range"]
            r = g["ratio"]
            rlo, rhi = r["per_answer_median_range"]
            toks = (
                f"{g['assumption']}"
                if key == "generate_max_tokens"
                else f"extract's (median {g['output_tokens_median']:g})"
            )
            tlo, thi = g["wh_total_range"]
            lines.append(
                f"| {suite} ({n}) | always generate, modelled | {toks} | 0 (not run) | "
                f"unknown | unknown | unknown | unknown | {_wh(g['wh_median_per_answer'])} "
                f"({_wh(lo)}–{_wh(hi)}) | **{r['per_answer_median']:.0f}×** "
                f"({rlo:.0f}–{rhi:.0f}×) | {g['wh_total']:.2f} ({tlo:.2f}–{thi:.2f}) | "
                f"unknown; ≥ {math.floor(r['per_correct_answer_at_least'])}× extraction's |"
            )
    lines += [
        "",
        "× extraction: the median Wh per answer against extraction's on the same questions. "
        "The modelled side's correctness is unknown (no such model runs here, so none of its "
        "answers was generated or checked); even if every one were correct, its Wh per "
        "correct answer would be at least the ≥ figure times extraction's (EcoLogits' low "
        "end, all questions counted as correct).",
    ]
    return "\n".join(lines)


def paste(table: str, doc: Path = CHARTER_DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"{doc}: the {START} / {END} markers are missing: put them back")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    doc.write_text(f"{before}{START}\n{table}\n{END}{after}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", action="store_true", help="paste the table in docs/charter.md")
    args = parser.parse_args()
    data = compute()
    RESULTS.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = render(json.loads(RESULTS.read_text(encoding="utf-8")))
    print(table)
    if args.docs:
        paste(table)


if __name__ == "__main__":
    main()
