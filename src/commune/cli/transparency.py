"""What the deployment shows of itself: the charter in force, the transparency report, the
bill of materials and the sovereignty map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from commune.cli import speech
from commune.cli.group import cli, commune_of, dumps, name_sessions, said
from commune.text.messages import localise
from commune.text.numbers import billions, number, plural, small

# Ingestion's kinds (store/schema.INGESTION_MODES) as each language says them.
INGESTION_WORDS = {
    "en": (("ingest", "adding"), ("enrich", "enriching"), ("import", "importing")),
    "fr": (("ingest", "ajouts"), ("enrich", "enrichissement"), ("import", "imports")),
}


@cli.group()
def charter() -> None:
    """The cooperative's charter (charter.toml in the home; docs/charter.md)."""


@charter.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def charter_check(ctx: click.Context, path: str | None) -> None:
    """Validate a charter file (default: the home's charter.toml) without putting it in force."""
    from commune.charter.rules import load_charter
    from commune.config import resolve_home

    c = load_charter(resolve_home(ctx.obj["home"]), path=Path(path) if path else None)
    lang = speech.language()
    name = speech.as_pages_say(c.name, lang)
    click.echo(
        said(
            f"valide\u00a0: {name}, version {speech.as_pages_say(c.version, lang)}, "
            f"sha256 {c.sha256}",
            f"valid: {c.name}, version {c.version}, sha256 {c.sha256}",
        )
    )
    known = home_collections(ctx)
    if known is not None:
        from commune.charter.rules import unknown_collections

        label = said("avertissement\u00a0:", "warning:")
        for warning in unknown_collections(c, known):
            click.echo(f"{label} {localise(warning, lang)}", err=True)


def home_collections(ctx: click.Context) -> list[str] | None:
    """The names of the home's collections, or None where there is no home yet (a charter
    checked before the home is made): none is made for the look."""
    from commune.config import load_settings
    from commune.store.db import holds_database

    settings = load_settings(ctx.obj["home"])
    name_sessions(ctx)
    if not holds_database(settings.database_url, settings.home):
        return None
    return [c["name"] for c in commune_of(ctx).collections()]


@charter.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the charter as JSON.")
@click.pass_context
def charter_show(ctx: click.Context, as_json: bool) -> None:
    """The charter in force, its hash and the versions before it."""
    commune = commune_of(ctx)
    c = commune.charter
    past = commune.charter_history()
    if as_json:
        click.echo(dumps({**c.to_json(), "history": past}))
        return
    lang = speech.language()
    version = speech.as_pages_say(c.version, lang)
    click.echo(f"{speech.as_pages_say(c.name, lang)}, version {version}, sha256 {c.sha256}")
    default = "(aucun\u00a0: la charte par défaut est en vigueur)"
    click.echo(
        said(
            f"fichier\u00a0: {c.path or default}",
            f"file: {c.path or '(none: the default charter is in force)'}",
        )
    )
    for h in past:
        click.echo(f"  {h['in_force_from']}  {h['version']:<20} {h['sha256']}")


@charter.command("purge")
@click.pass_context
def charter_purge(ctx: click.Context) -> None:
    """Delete decision records past the charter's retention now (audited)."""
    commune = commune_of(ctx)
    gone = commune.purge_decisions()
    days = commune.charter.utility.retention_days
    lang = speech.language()
    click.echo(
        said(
            "décisions effacées, plus anciennes que "
            + plural(lang, days, "{n} jour", "{n} jours")
            + f"\u00a0: {number(gone, 0, lang)}",
            "purged "
            + plural("en", gone, "{n} decision record", "{n} decision records")
            + " older than "
            + plural("en", days, "{n} day", "{n} days"),
        )
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The same data as /transparency.json.")
@click.pass_context
def transparency(ctx: click.Context, as_json: bool) -> None:
    """What /transparency shows: the charter, the models, energy, requests at each step."""
    data = commune_of(ctx).transparency()
    if as_json:
        click.echo(dumps(data))
        return
    lang = speech.language()
    if speech.french(lang):
        click.echo(french_transparency(data))
        return
    c, t = data["charter"], data["totals"]
    versions = plural("en", len(c["history"]), "{n} version", "{n} versions")
    click.echo(f"charter {c['version']} ({c['sha256'][:12]}), {versions}")
    for m in data["models"]:
        verdict = "allowed" if m["allowed"] else f"not allowed: {m['why']}"
        size = f", {m['params_b']:g}B parameters" if m["params_b"] else ""
        energy = m["energy_method"]  # what the charter weighs it by, and how it was found
        if m["wh_per_1k_tokens"] is not None:
            energy = f"{small(m['wh_per_1k_tokens'], 4, 'en')} Wh per 1,000 tokens ({energy})"
        click.echo(
            f"model {m['name']}: {m['openness']}, {m['licence'] or 'no licence given'}, "
            f"{m['hosting']}"
            f"{', ' + m['jurisdiction'] if m['jurisdiction'] else ''}{size}; {energy}; {verdict}"
        )
    kind, st = t["by_kind"], data["steps"]
    click.echo(
        plural("en", t["requests"], "{n} request", "{n} requests")
        + " in the ledger ("
        # A reply is an answer or the charter's refusal (docs/charter.md): "answered"
        # counted the refused ones, which the list below says "refused".
        + plural("en", kind["answered_questions"], "{n} question", "{n} questions")
        + " with an answer or the charter's refusal, "
        + f"{kind['abandoned_questions']} abandoned, "
        + plural(
            "en",
            kind["other_requests"],
            "{n} search, listing, embedding or upload",
            "{n} searches, listings, embeddings and uploads",
        )
        + f"), {small(t['wh'], 4, 'en')} Wh, "
        f"{small(t['gco2e'], 4, 'en')} gCO2e ({t['estimated_requests']} of them estimated)"
    )
    # Beside the requests, never among them: the documents added, enriched and imported.
    ing = t["ingestion"]
    click.echo(
        f"ingestion, apart from the requests: {small(ing['wh'], 4, 'en')} Wh, "
        f"{small(ing['gco2e'], 4, 'en')} gCO2e ("
        + ", ".join(
            f"{what} {small(ing['by_kind'][mode]['wh'], 4, 'en')} Wh"
            for mode, what in INGESTION_WORDS["en"]
        )
        + ")"
    )
    # This month beside the server's draw at rest, as /transparency says it; not counted is
    # said so, never "0 Wh".
    mo = data["month"]
    idle = mo["idle"]
    at_rest = f"{small(idle['wh'], 1, 'en')} Wh, " if idle["watts"] else ""
    click.echo(
        f"this month ({mo['month']}): the requests used {small(mo['requests_wh'], 4, 'en')} "
        f"Wh, ingestion {small(mo['ingestion_wh'], 4, 'en')} Wh; the server at rest: "
        f"{at_rest}{idle['method']}"
    )
    click.echo(
        plural("en", st["questions"], "{n} question", "{n} questions")
        + f" recorded: {st['answered_requests']} with an answer or the charter's refusal, "
        f"{st['over_quota']} refused over quota (no work done, no ledger row)"
    )
    for outcome, v in data["steps"]["by_outcome"].items():
        click.echo(f"  {outcome:<24} {v['requests']:>6}  {(v['share'] or 0):.1%}")
    embedded = data["embeddings"]
    for model, v in embedded["models"].items():
        click.echo(
            f"passages embedded by {model}: {v['passages']} of {embedded['passages']} "
            f"({v['share']:.1%})"
        )
    refusal = data.get("refusal")
    if refusal:
        whose = "the model's own"
        if refusal["configured"]:
            whose = "this home's, set in commune.toml; the model's own: "
            whose += f"{refusal['model_threshold']:.2f}"
        click.echo(f'"nothing relevant" threshold: {refusal["threshold"]:.2f} ({whose})')
        for name, t in refusal.get("collections", {}).items():
            click.echo(f"  in {name}: {t:.2f} (set for that collection)")
        if hidden := refusal.get("private_collections"):
            named = plural("en", hidden, "{n} collection not public", "{n} collections not public")
            click.echo(f"  and one set for {named}")
    for e in data["evaluations"]:
        click.echo(
            f"eval {e['collection']} {e['mode']}{':' + e['model'] if e['model'] else ''}: "
            f"{e['correct']:.1%} correct over "
            + plural("en", e["questions"], "{n} question", "{n} questions")
        )
    if hidden := data.get("private_evaluations"):
        click.echo(
            plural(
                "en",
                hidden,
                "{n} evaluation of a collection not public: counted, not shown",
                "{n} evaluations of collections not public: counted, not shown",
            )
        )


def french_transparency(data: dict[str, Any]) -> str:
    """The transparency report's lines in French: the same figures as the English lines,
    in the words of the /transparency page (its catalogue) and French typography."""
    fr = "fr"
    say, n, pct = speech.as_pages_say, number, speech.percent
    c, t = data["charter"], data["totals"]
    lines = [
        f"charte {say(c['version'], fr)} ({c['sha256'][:12]}), "
        + plural(fr, len(c["history"]), "{n} version", "{n} versions")
    ]
    for m in data["models"]:
        verdict = "autorisé" if m["allowed"] else f"non autorisé\u00a0: {say(m['why'], fr)}"
        # « 0,135 milliard », « 24 milliards »: as the method and the pages say them.
        size = ""
        if m["params_b"]:
            size = ", " + billions(f"{m['params_b']:g}", fr) + " de paramètres"
        energy = say(m["energy_method"], fr)
        if m["wh_per_1k_tokens"] is not None:
            energy = f"{small(m['wh_per_1k_tokens'], 4, fr)} Wh pour 1\u202f000 jetons ({energy})"
        lines.append(
            f"modèle {m['name']}\u00a0: {say(m['openness'], fr)}, "
            f"{m['licence'] or 'aucune licence donnée'}, "
            f"{say(m['hosting'], fr)}{', ' + m['jurisdiction'] if m['jurisdiction'] else ''}"
            + f"{size}\u00a0; {energy}\u00a0; {verdict}"
        )
    kind, st = t["by_kind"], data["steps"]
    lines.append(
        plural(fr, t["requests"], "{n} requête", "{n} requêtes")
        + " au registre ("
        + plural(fr, kind["answered_questions"], "{n} question", "{n} questions")
        + " avec une réponse ou le refus de la charte"
        + f", {plural(fr, kind['abandoned_questions'], '{n} abandonnée', '{n} abandonnées')}, "
        + plural(
            fr,
            kind["other_requests"],
            "{n} recherche, liste, plongement ou envoi",
            "{n} recherches, listes, plongements et envois",
        )
        + f"), {small(t['wh'], 4, fr)} Wh, {small(t['gco2e'], 4, fr)} gCO2e (dont "
        + plural(fr, t["estimated_requests"], "{n} estimée", "{n} estimées")
        + ")"
    )
    ing = t["ingestion"]
    lines.append(
        f"ingestion, à côté des requêtes : {small(ing['wh'], 4, fr)} Wh, "
        f"{small(ing['gco2e'], 4, fr)} gCO2e ("
        + ", ".join(
            f"{what} {small(ing['by_kind'][mode]['wh'], 4, fr)} Wh"
            for mode, what in INGESTION_WORDS["fr"]
        )
        + ")"
    )
    mo = data["month"]
    idle = mo["idle"]
    at_rest = f"{small(idle['wh'], 1, fr)} Wh, " if idle["watts"] else ""
    lines.append(
        f"ce mois-ci ({mo['month']})\u00a0: les requêtes ont utilisé "
        f"{small(mo['requests_wh'], 4, fr)} Wh, l'ingestion {small(mo['ingestion_wh'], 4, fr)} "
        f"Wh\u00a0; le serveur au repos\u00a0: {at_rest}" + localise(idle["method"], fr)
    )
    lines.append(
        plural(fr, st["questions"], "{n} question enregistrée", "{n} questions enregistrées")
        + f"\u00a0: {n(st['answered_requests'], 0, fr)} avec une réponse ou le refus de la "
        "charte, "
        + plural(
            fr,
            st["over_quota"],
            "{n} refusée pour dépassement de quota",
            "{n} refusées pour dépassement de quota",
        )
        + " (aucun travail fait, donc aucune ligne au registre)"
    )
    for outcome, v in st["by_outcome"].items():
        lines.append(
            f"  {speech.outcome(outcome, fr):<24} {n(v['requests'], 0, fr):>6}  "
            f"{pct(v['share'], fr)}"
        )
    embedded = data["embeddings"]
    for model, v in embedded["models"].items():
        lines.append(
            f"passages vectorisés par {model}\u00a0: {n(v['passages'], 0, fr)} sur "
            f"{n(embedded['passages'], 0, fr)} ({pct(v['share'], fr)})"
        )
    refusal = data.get("refusal")
    if refusal:
        whose = "celui du modèle"
        if refusal["configured"]:
            whose = (
                "celui de ce service, fixé dans commune.toml\u00a0; celui du modèle\u00a0: "
                + n(refusal["model_threshold"], 2, fr)
            )
        lines.append(
            f"seuil de «\u00a0rien de pertinent\u00a0»\u00a0: {n(refusal['threshold'], 2, fr)} "
            f"({whose})"
        )
        for name, t in refusal.get("collections", {}).items():
            lines.append(f"  dans {name}\u00a0: {n(t, 2, fr)} (fixé pour cette collection)")
        if refusal.get("private_collections"):
            lines.append(
                "  et un seuil fixé pour "
                + plural(
                    fr,
                    refusal["private_collections"],
                    "{n} collection non publique",
                    "{n} collections non publiques",
                )
            )
    for e in data["evaluations"]:
        model = f" ({e['model']})" if e["model"] else ""
        lines.append(
            f"évaluation {e['collection']} {speech.outcome(e['mode'], fr)}{model}\u00a0: "
            f"{pct(e['correct'], fr)} de réponses justes sur "
            + plural(fr, e["questions"], "{n} question", "{n} questions")
        )
    if hidden := data.get("private_evaluations"):
        lines.append(
            plural(
                fr,
                hidden,
                "{n} évaluation d'une collection non publique\u00a0: comptée, non montrée",
                "{n} évaluations de collections non publiques\u00a0: comptées, non montrées",
            )
        )
    return "\n".join(lines)


@cli.command()
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write the BOM here (default: standard output)."
)
@click.pass_context
def bom(ctx: click.Context, out: str | None) -> None:
    """A CycloneDX 1.6 bill of materials of this deployment: software, models, datasets.

    Validated against the CycloneDX 1.6 JSON schema; a copy is kept in the home (bom/), so
    that `commune sovereignty` can say what changed."""
    from commune.errors import CommuneError
    from commune.stack.bom import store

    commune = commune_of(ctx)
    if out and not Path(out).resolve().parent.is_dir():
        # Checked before anything is written: the copy kept in the home would become the
        # baseline of "changes since" for a bill that was never delivered.
        raise CommuneError(
            f"cannot write {out}: the folder {Path(out).resolve().parent} does not exist",
            "create it, or give --out a file in a folder that exists",
        )
    data = commune.bom()
    text = json.dumps(data, indent=1, ensure_ascii=False)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")  # first: failing, nothing is kept
    kept = store(commune.settings.home, data=data)
    if out:
        kinds: dict[str, int] = {}
        for c in data["components"]:
            kinds[c["type"]] = kinds.get(c["type"], 0) + 1
        lang = speech.language()
        summary = ", ".join(
            f"{number(n, 0, lang)} {component_kind(k, n, lang)}" for k, n in sorted(kinds.items())
        )
        click.echo(
            said(
                f"{out} écrit\u00a0: CycloneDX 1.6, valide\u00a0; {summary} (une copie dans "
                f"{kept.parent})",
                f"wrote {out}: CycloneDX 1.6, valid; {summary} (a copy in {kept.parent})",
            )
        )
    else:
        click.echo(text)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the sovereignty map as JSON.")
@click.pass_context
def sovereignty(ctx: click.Context, as_json: bool) -> None:
    """The sovereignty map: what most of the stack depends on, closed or unknown-licence
    components, models hosted outside the charter's jurisdictions, licence obligations,
    and what changed since the last `commune bom`."""
    from commune.stack.bom import stored
    from commune.stack.sovereignty import sovereignty_map

    commune = commune_of(ctx)
    kept = stored(commune.settings.home)
    previous = json.loads(kept[-1].read_text(encoding="utf-8")) if kept else None
    data = sovereignty_map(
        commune.bom(),
        jurisdictions=commune.charter.sovereignty.jurisdictions,
        previous=previous,
    )
    if as_json:
        click.echo(dumps(data))
        return
    lang = speech.language()
    click.echo(sovereignty_lines(data, lang) if speech.french(lang) else english_map(data))


# CycloneDX's component types, in French (one, many); English shows the type as it is.
KINDS = {
    "library": ("bibliothèque", "bibliothèques"),
    "application": ("application", "applications"),
    "machine-learning-model": ("modèle", "modèles"),
    "model": ("modèle", "modèles"),
    "data": ("jeu de données", "jeux de données"),
    "dataset": ("jeu de données", "jeux de données"),
    "software": ("logiciel", "logiciels"),
}


# The licence families of stack/sovereignty.py, from the lightest obligation to the heaviest.
FAMILIES = {
    "none": "aucune",
    "notice": "mentions",
    "weak-copyleft": "copyleft faible",
    "strong-copyleft": "copyleft fort",
    "network-copyleft": "copyleft réseau",
}


def juridiction(where: str) -> str:
    return "inconnue" if where == "unknown" else where


def component_kind(kind: str, n: int, lang: str) -> str:
    if not speech.french(lang) or kind not in KINDS:
        return kind
    one, many = KINDS[kind]
    return one if n < 2 else many


def english_map(data: dict[str, Any]) -> str:
    lines = [f"{data['components']} components. Most depended on:"]
    for d in data["most_depended_on"]:
        lines.append(
            f"  {d['component']} {d['version']} ({d['licence'] or 'licence unknown'}): "
            f"{d['dependents']} dependents, {d['share']:.0%} of the stack"
        )
    lines.append("Closed or unknown licence:" if data["closed_or_unknown"] else "Closed: none")
    for d in data["closed_or_unknown"]:
        lines.append(f"  {d['component']} ({d['type']}): {d['why']}")
    lines.append(
        "Hosted outside the charter's jurisdictions:"
        if data["outside_jurisdictions"]
        else "Hosted outside the charter's jurisdictions: none"
    )
    for d in data["outside_jurisdictions"]:
        lines.append(
            f"  {d['component']}: {d['jurisdiction']} ({d['hosting']}); allowed: "
            f"{', '.join(d['allowed'])}"
        )
    lines.append("Licence obligations:")
    for fam, o in data["obligations"].items():
        names = ", ".join(o["components"][:6]) + ("…" if len(o["components"]) > 6 else "")
        lines.append(f"  {fam} ({len(o['components'])}: {names}): {o['what']}")
    changes = data["changes"]
    if changes is None:
        lines.append("Changes: no earlier BOM in this home (run `commune bom` to keep one)")
    else:
        lines.append(
            f"Changes since {changes['since']}: {len(changes['added'])} added, "
            f"{len(changes['removed'])} removed, {len(changes['changed'])} changed"
        )
        lines += _changed(changes)
    return "\n".join(lines)


def _changed(changes: dict[str, Any]) -> list[str]:
    lines = [
        f"  {c['component']}: "
        + "; ".join(f"{k} {v[0]} -> {v[1]}" for k, v in c.items() if k != "component")
        for c in changes["changed"]
    ]
    lines += [f"  + {name}" for name in changes["added"]]
    return lines + [f"  - {name}" for name in changes["removed"]]


def sovereignty_lines(data: dict[str, Any], lang: str) -> str:
    """The sovereignty map in French: the same figures as the English lines, the library's
    reasons and obligations through text/messages.py (--json keeps them in English)."""
    say, fr = localise, lang
    lines = [
        plural(fr, data["components"], "{n} composant", "{n} composants")
        + ". Ceux dont la pile dépend le plus\u00a0:"
    ]
    for d in data["most_depended_on"]:
        lines.append(
            f"  {d['component']} {d['version']} ({d['licence'] or 'licence inconnue'})\u00a0: "
            + plural(fr, d["dependents"], "{n} dépendant", "{n} dépendants")
            + f", {speech.percent(d['share'], fr, 0)} de la pile"
        )
    closed = data["closed_or_unknown"]
    lines.append("Licence fermée ou inconnue\u00a0:" if closed else "Fermés\u00a0: aucun")
    for d in closed:
        # Each reason on its own: a reason may hold ", " itself (a licence name that lists
        # several: "BSD-3-Clause, Apache-2.0"), and split there it was left in English.
        why = ", ".join(say(reason, fr) for reason in d["reasons"])
        lines.append(f"  {d['component']} ({component_kind(d['type'], 1, fr)})\u00a0: {why}")
    where = "Hébergés hors des juridictions de la charte"
    lines.append(f"{where}\u00a0:" if data["outside_jurisdictions"] else f"{where}\u00a0: aucun")
    for d in data["outside_jurisdictions"]:
        hosting = speech.as_pages_say(d["hosting"], fr) if d["hosting"] else d["hosting"]
        lines.append(
            f"  {d['component']}\u00a0: {juridiction(d['jurisdiction'])} ({hosting})\u00a0; "
            f"autorisées\u00a0: {', '.join(d['allowed'])}"
        )
    lines.append("Obligations des licences\u00a0:")
    for fam, o in data["obligations"].items():
        names = ", ".join(o["components"][:6]) + ("…" if len(o["components"]) > 6 else "")
        lines.append(
            f"  {FAMILIES.get(fam, fam)} ({len(o['components'])}\u00a0: {names})\u00a0: "
            + say(o["what"], fr)
        )
    changes = data["changes"]
    if changes is None:
        lines.append(
            "Changements\u00a0: aucune nomenclature antérieure dans ce répertoire du service "
            "(lancez "
            "`commune bom` pour en garder une)"
        )
    else:
        lines.append(
            f"Changements depuis {changes['since']}\u00a0: "
            + plural(fr, len(changes["added"]), "{n} ajouté", "{n} ajoutés")
            + ", "
            + plural(fr, len(changes["removed"]), "{n} retiré", "{n} retirés")
            + ", "
            + plural(fr, len(changes["changed"]), "{n} modifié", "{n} modifiés")
        )
        lines += _changed(changes)
    return "\n".join(lines)
