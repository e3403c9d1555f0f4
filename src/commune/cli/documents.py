"""Documents in the commons: add them, list them and their collections, follow a document's
history, retire one, set a collection's visibility, export and import open datasets."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import click

from commune.cli import speech
from commune.cli.commons import unchanged_text
from commune.cli.group import acting, cli, commune_of, dumps, error_line, one_line, said
from commune.govern.policy import RETIRE_CATEGORIES, VISIBILITIES
from commune.text.messages import from_environment, localise
from commune.text.numbers import colon, number, plural
from commune.text.say import say

if TYPE_CHECKING:
    from commune.core import Commune
    from commune.ingest.pipeline import FileOutcome, IngestSummary


@cli.command(
    epilog="Example:\n\ncommune add deliberations/ --collection mairie --licence etalab-2.0",
)
@click.argument("paths", nargs=-1, required=True)
@click.option("--collection", help="Collection to add to (default: 'default').")
@click.option(
    "--licence",
    help="SPDX licence expression, e.g. CC-BY-SA-4.0 or etalab-2.0; your own licence as "
    "LicenseRef-NAME (its text is needed once: --licence-text). Left out, a file added "
    "before unchanged keeps its licence; a changed one waits for a reviewer to set one.",
)
@click.option(
    "--licence-text",
    "licence_text_file",
    type=click.Path(exists=True, dir_okay=False),
    help="File holding the text of the LicenseRef-… licence given, recorded with it the "
    "first time it is used.",
)
@click.option("--contributor", help="Who contributes these documents.")
@click.option("--publisher", help="Who published them (author or organisation).")
@click.option(
    "--source",
    help="Source URI. For a directory or several files, the base URI: each file's source "
    "is BASE/relative/path (BASE/file-name for files named), percent-encoded in an http(s), "
    "ftp or file URI and put before its query.",
)
@click.option("--member", help="Member that owns a new collection (then private by default).")
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    help="Visibility of a new collection (default: private with --member, else shared).",
)
@click.option(
    "--tdm-reserved",
    is_flag=True,
    help="The rights holder reserved text and data mining: keep out of answers.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Pass over the files found in the directories given whose path within the "
    "directory, name or folder matches this pattern, whatever the case: '*.pdf' for a "
    "manual that also comes as HTML, 'drafts'; or the file or folder it names by its path "
    "from here or absolute ('archives/drafts'), refused if outside the directories. "
    "Repeatable. Documents added before stay (commune retire ID).",
)
@click.option("--as", "as_user", help="Contribute as this user (recorded as its contributor).")
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS",
    help="Parse and embed on this Ray cluster (host:port of `ray start --head`); needs "
    "commune-coop[ray] on every node. The database is written from here.",
)
@click.pass_context
def add(
    ctx: click.Context,
    paths: tuple[str, ...],
    collection: str | None,
    licence: str | None,
    licence_text_file: str | None,
    contributor: str | None,
    publisher: str | None,
    source: str | None,
    member: str | None,
    visibility: str | None,
    tdm_reserved: bool,
    exclude: tuple[str, ...],
    as_user: str | None,
    ray_address: str | None,
) -> None:
    """Add files or directories (txt, md, html, pdf, odt, ods, docx, man pages; gzipped too)
    to the commons.

    A document is published on arrival when its licence is known and its
    collection needs no approval; otherwise it waits for a reviewer
    (`commune review list`), and the summary says why.

    Unchanged files are skipped; a changed file becomes a new revision of its
    document. Exits with status 1 if any file failed (the others are kept), and
    with status 2, nothing written, if the folders given hold no file it reads.
    """
    commune = commune_of(ctx)
    bar: dict[str, Any] = {}
    licence_text = None
    if licence_text_file is not None:
        try:
            licence_text = Path(licence_text_file).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:  # its own words are Python's, in English
            byte = f"0x{exc.object[exc.start]:02x}"
            raise click.UsageError(
                said(
                    f"--licence-text {licence_text_file}\u00a0: pas du texte UTF-8 (octet "
                    f"{byte} à la position {exc.start})\u00a0: enregistrez-le en UTF-8",
                    f"--licence-text {licence_text_file}: not UTF-8 text (byte {byte} at "
                    f"offset {exc.start}): save it as UTF-8",
                )
            ) from None
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise click.UsageError(
                said(
                    f"--licence-text {localise(f'{licence_text_file}: {why}', 'fr')}",
                    f"--licence-text {licence_text_file}: {why}",
                )
            ) from None

    language = from_environment(os.environ)

    seen = {"done": 0, "total": 0, "stored": 0}

    def progress(outcome: FileOutcome, done: int, total: int) -> None:
        seen.update(done=done, total=total)
        seen["stored"] += outcome.status in ("added", "updated")
        if outcome.status == "unchanged" and outcome.document_id is not None:
            # Unchanged is not published, as the upload says it (ingest/upload.py): the file
            # of a document a curator refused or retired was counted « inchangé » and nothing
            # more, the commons citing it no longer.
            held, refused = commune.library.standing(outcome.document_id)
            if held is not None:
                # Still waiting for a reviewer, said as the upload's result says it (the held
                # line of a file just received): « 1 inchangé » alone read as published.
                outcome = replace(outcome, held=held)
            if refused is not None:
                click.echo(
                    f"{say(language, 'à noter', 'note')}{colon(language)} "
                    f"{one_line(outcome.path)}{colon(language)} {localise(refused, language)}",
                    err=True,
                )
        said_outcome(outcome, language)
        if "bar" not in bar:
            bar["bar"] = click.progressbar(
                length=total,
                label=say(language, "lecture", "ingesting"),
                file=cast(TextIO, _Stderr()),
            )
            bar["bar"].__enter__()
        bar["bar"].update(1)

    try:
        summary = commune.add(
            list(paths),
            collection=collection,
            licence=licence,
            contributor=contributor,
            publisher=publisher,
            source=source,
            progress=progress,
            member=member,
            visibility=visibility,
            actor=acting(ctx, as_user),
            tdm_reserved=tdm_reserved,
            ray_address=ray_address,
            licence_text=licence_text,
            exclude=exclude,
            notice=lambda line: click.echo(localise(line, language), err=True),
        )
    except KeyboardInterrupt:
        # Ctrl-C said only "Aborted!": an operator stopping a long add did not know that
        # what was stored stays, nor that the same command finishes it.
        if "bar" in bar:
            bar["bar"].__exit__(None, None, None)
        click.echo(interrupted(seen["done"], seen["total"], seen["stored"], language), err=True)
        sys.exit(130)
    if "bar" in bar:
        bar["bar"].__exit__(None, None, None)
    # An add killed during its index merge left it unfinished: the same command, finding
    # every file unchanged, finishes it.
    if summary.added or summary.updated or commune.unsettled():
        settle(commune, language)
    if summary.unmatched:
        from commune.ingest.pipeline import unmatched_exclusions

        click.echo(
            f"{say(language, 'à noter', 'note')}{colon(language)} "
            f"{localise(unmatched_exclusions(summary.unmatched), language)}",
            err=True,
        )
    click.echo(added_line(summary, language))
    if summary.failed:
        sys.exit(1)


class _Stderr:
    """``sys.stderr`` as it is at each write, not as it was when the bar began: an add on Ray
    points ``sys.stderr`` elsewhere while it is connected, fd 2 going to Ray's own file
    (ingest/distributed._stderr_to_file), and a bar begun before (the first files unchanged,
    in an add run again to finish) stood still on the terminal, its steps in that file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()

    def fileno(self) -> int:
        return sys.stderr.fileno()


def interrupted(done: int, total: int, stored: int, language: str) -> str:
    """What Ctrl-C during ``commune add`` leaves, and how to finish. Stopped before its first
    file was read (the models load first, for seconds), it said "interrompu après 0
    fichier(s) sur 0", as if the folder held none."""
    if not total:
        return say(
            language,
            "interrompu avant le premier fichier\u00a0: rien n'a été ajouté\u00a0; relancez la "
            "même commande pour ajouter les fichiers",
            "interrupted before the first file: nothing was added; run the same command again "
            "to add the files",
        )
    if language == "fr":
        files = plural(language, total, "{n} fichier", "{n} fichiers")
        kept = plural(
            language,
            stored,
            "{n} document ajouté ou mis à jour, gardé",
            "{n} documents ajoutés ou mis à jour, gardés",
        )
        return (
            f"interrompu après {number(done, 0, language)} sur {files}\u00a0: {kept}\u00a0; "
            "relancez la même commande pour finir"
        )
    kept = plural(language, stored, "{n} document", "{n} documents")
    files = plural(language, total, "{n} file", "{n} files")
    return (
        f"interrupted after {number(done, 0, language)} of {files}: {kept} added or updated, "
        "kept; run the same command again to finish"
    )


def said_outcome(outcome: FileOutcome, language: str) -> None:
    """A file that failed, or waits for a reviewer, said on its own line with why."""
    if outcome.error:
        click.echo(error_line(named(outcome.path, outcome.error)), err=True)
    if outcome.note:
        click.echo(
            f"{say(language, 'à noter', 'note')}{colon(language)} "
            f"{localise(one_line(named(outcome.path, outcome.note)), language)}",
            err=True,
        )
    if outcome.held:
        held = say(language, "en attente de curation\u00a0:", "held for curation:")
        why = speech.as_pages_say(outcome.held, language)
        click.echo(f"{held} {one_line(outcome.path)}{colon(language)} {why}", err=True)


def named(path: str, error: str) -> str:
    """``error`` naming its file by ``path``, as the walk found it, where the reader named
    it by its name alone: a folder's index.txt in a/ and in b/ both failed as "index.txt",
    and which of them to fix was anyone's guess."""
    name = Path(path).name
    if path != name and error.startswith(f"{name}:"):
        return path + error[len(name) :]
    return error


def settle(commune: Commune, language: str) -> None:
    """Index what a one-shot command changed before it exits (Commune.settle), saying when
    that means a merge, which takes minutes at a million passages, and when it failed."""

    def merging(passages: int) -> None:
        what = plural(language, passages, "{n} passage", "{n} passages")
        click.echo(
            say(language, f"fusion de l'index ({what})…", f"merging the index ({what})…"), err=True
        )

    def failed(error: Exception) -> None:
        # The error's first line: a database's runs on with its SQL and a link.
        why = (str(error).splitlines() or [""])[0] or type(error).__name__
        click.echo(
            say(
                language,
                f"la fusion de l'index a échoué ({why})\u00a0: les documents restent "
                "cherchables, la prochaine fusion les prendra",
                f"the index merge failed ({why}): the documents stay searchable, and the next "
                "merge takes them in",
            ),
            err=True,
        )

    click.echo(say(language, "indexation…", "indexing…"), err=True)
    if commune.settle(merging, failed) is None:
        click.echo(
            say(
                language,
                "l'index n'a pas pu être mis à jour\u00a0: la prochaine recherche s'en chargera",
                "the index could not be updated: the next search will",
            ),
            err=True,
        )


def _aside(*parts: str | int) -> str:
    """The parts that are said (a count of 0 says nothing), as one parenthesised aside."""
    said = [str(p) for p in parts if p]
    return f" ({', '.join(said)})" if said else ""


def _archives(archives: list[str], language: str) -> str:
    """The archives a folder held, named with what to do: counted among "files of another
    type", a zip of a town hall's documents was passed over with no word of unpacking it,
    which a zip named on its own gets (readers.read_file)."""
    if not archives:
        return ""
    french = language == "fr"
    n = len(archives)
    shown = [one_line(a) for a in archives[:3]]
    if n > 3:
        shown.append(
            plural(language, n - 3, "{n} autre", "{n} autres") if french else f"{n - 3} more"
        )
    names = (
        shown[0]
        if len(shown) == 1
        else ", ".join(shown[:-1]) + (" et " if french else " and ") + shown[-1]
    )
    if french:
        todo = (
            "décompressez-la, puis ajoutez le dossier obtenu"
            if n == 1
            else "décompressez-les, puis ajoutez les dossiers obtenus"
        )
        counted = plural(language, n, "{n} archive ignorée", "{n} archives ignorées")
        return f"{counted}, {names}\u00a0: {todo}"
    todo = (
        "unpack it, then add the folder it makes"
        if n == 1
        else "unpack them, then add the folders they make"
    )
    return f"{plural(language, n, '{n} archive', '{n} archives')} skipped, {names}: {todo}"


def added_line(summary: IngestSummary, language: str) -> str:
    """What ``commune add`` did, in the reader's language, with its plural forms."""
    s = summary
    if language == "fr":
        skipped = _aside(
            _archives(s.archives, language),
            s.skipped
            and plural(
                language,
                s.skipped,
                "{n} fichier d'un autre type ignoré",
                "{n} fichiers d'autres types ignorés",
            ),
            s.excluded
            and plural(language, s.excluded, "{n} exclu par --exclude", "{n} exclus par --exclude"),
            s.links
            and plural(
                language,
                s.links,
                "{n} lien ignoré, son fichier étant lu",
                "{n} liens ignorés, leurs fichiers étant lus",
            ),
            s.folder_links
            and plural(
                language,
                s.folder_links,
                "{n} lien vers un dossier non suivi\u00a0: ajoutez ce dossier par son chemin",
                "{n} liens vers des dossiers non suivis\u00a0: ajoutez ces dossiers par leur "
                "chemin",
            ),
        )
        return (
            f"documents\u00a0: {plural(language, s.added, '{n} ajouté', '{n} ajoutés')}, "
            f"{s.updated} mis à jour, "
            f"{plural(language, s.unchanged, '{n} inchangé', '{n} inchangés')}, "
            f"{s.failed} en échec{skipped}\u00a0; "
            f"{plural(language, s.chunks, '{n} passage', '{n} passages')} en "
            f"{number(s.seconds, 1, language)}\u00a0s"
        )
    skipped = _aside(
        _archives(s.archives, language),
        s.skipped
        and plural(language, s.skipped, "{n} file of another type", "{n} files of other types")
        + " skipped",
        s.excluded and f"{s.excluded} excluded by --exclude",
        s.links
        and plural(
            language,
            s.links,
            "{n} link skipped, as its file is read",
            "{n} links skipped, as their files are read",
        ),
        s.folder_links
        and plural(
            language,
            s.folder_links,
            "{n} link to a folder not followed: add that folder by its path",
            "{n} links to folders not followed: add those folders by their path",
        ),
    )
    return (
        f"documents: {s.added} added, {s.updated} updated, {s.unchanged} unchanged, "
        f"{s.failed} failed{skipped}; "
        f"{plural(language, s.chunks, '{n} chunk', '{n} chunks')} in {s.seconds:.1f}s"
    )


@cli.command()
@click.option("--collection", help="Only this collection.")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many documents to list at most.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@click.pass_context
def documents(ctx: click.Context, collection: str | None, limit: int, as_json: bool) -> None:
    """List documents in the commons."""
    docs = commune_of(ctx).documents(collection=collection, limit=limit)
    if as_json:
        click.echo(dumps(docs))
        return
    if not docs:  # nothing at all printed read as a command that did not run
        click.echo(
            said(
                "aucun document\u00a0: ajoutez-en avec commune add CHEMIN --licence LICENCE",
                "no documents: add some with commune add PATH --licence LICENCE",
            )
        )
        return
    # The word padded to its plural's width: "1 passage" one letter short shifted the licence
    # and title columns of that line alone.
    width = len(said("passages", "chunks"))
    for d in docs:
        chunks = said("passage", "chunk") if d["chunks"] == 1 else said("passages", "chunks")
        # What is not cited says so: a retired document, or one with no published revision
        # (waiting for curation, or rejected), is listed like the others and would pass for
        # one that answers.
        if d["status"] == "retired":
            state = said("  (retiré)", "  (retired)")
        elif d["published_revision_id"] is None:
            state = said("  (non publié)", "  (not published)")
        else:
            state = ""
        click.echo(
            f"{d['id']:>5}  {d['collection']:<12} {d['language']}  {d['chunks']:>4} "
            f"{chunks:<{width}}  {d['licence'] or '-':<30} {d['title']}{state}"
        )


@cli.command()
@click.option("--as", "as_user", help="List as this user: the collections it may read.")
@click.pass_context
def collections(ctx: click.Context, as_user: str | None) -> None:
    """List collections: how many documents each publishes, who reads it, its owner."""
    # Who reads each one was nowhere on the command line: after `commune visibility`, the
    # operator (or a member admin, with --as) could not see what it had changed.
    lang = speech.language()
    found = commune_of(ctx).collections(actor=acting(ctx, as_user))
    if not found:  # nothing at all printed read as a command that did not run (documents)
        # The one an add that names none makes: commune.toml's default_collection.
        default = commune_of(ctx).settings.default_collection
        click.echo(
            said(
                "aucune collection\u00a0: commune add CHEMIN --licence LICENCE en fait une "
                f"({default}, ou --collection NOM)",
                "no collections: commune add PATH --licence LICENCE makes one "
                f"({default}, or --collection NAME)",
            )
        )
    for c in found:
        owner = c["owner"] or said("la coopérative", "the cooperative")
        click.echo(
            f"{c['name']}\t{c['documents']}\t{speech.as_pages_say(c['visibility'], lang)}\t{owner}"
        )


@cli.command()
@click.argument("document_id", type=int)
@click.pass_context
def history(ctx: click.Context, document_id: int) -> None:
    """A document's revisions, their status and licence, with diffs."""
    lang = speech.language()
    for n, r in enumerate(commune_of(ctx).history(document_id)):
        when = f"{r['created_at']:%Y-%m-%d %H:%M}"
        click.echo(
            say(
                lang,
                f"révision {r['number']} (id {r['id']})\u00a0: "
                f"{speech.as_pages_say(r['status'], lang)}, licence {r['licence'] or '-'}, "
                f"{when}, par {r['contributor'] or '-'}",
                f"revision {r['number']} (id {r['id']}): {r['status']}, licence "
                f"{r['licence'] or '-'}, {when}, by {r['contributor'] or '-'}",
            )
        )
        for line in r["diff"][2:]:
            click.echo(f"    {line}")
        if n and not r["diff"]:
            # A revision whose text did not change printed nothing under its line, as if it
            # were the one before again: what did change, as `review show` says it.
            click.echo(f"    {unchanged_text(r['changed'], lang)}")


@cli.command(
    epilog='Example:\n\ncommune retire 42 --reason "a resident\'s address" '
    "--category personal-data",
)
@click.argument("document_id", type=int)
@click.option("--reason", required=True, help="Why, in one line: the audit log keeps it.")
@click.option(
    "--category",
    type=click.Choice(RETIRE_CATEGORIES),
    default="other",
    show_default=True,
    help="Why, in a word the open export carries to the commons that imported it (the "
    "reason stays here): personal-data, rights (a rights holder's claim), error, outdated. "
    "A takedown (personal-data, rights) also holds other members' copies of the file for "
    "their reviewers.",
)
@click.option(
    "--keep-copies",
    is_flag=True,
    help="Retire this document alone: the others holding the same file stay published (a "
    "duplicate that commune check names; not with personal-data or rights).",
)
@click.option("--as", "as_user", help="Retire as this user (curator or above).")
@click.pass_context
def retire(
    ctx: click.Context,
    document_id: int,
    reason: str,
    category: str,
    keep_copies: bool,
    as_user: str | None,
) -> None:
    """Retire a document: it is no longer retrieved; its history stays, but for personal
    data, whose texts and files are erased."""
    copies = commune_of(ctx).retire(
        document_id,
        reason=reason,
        actor=acting(ctx, as_user),
        category=category,
        copies=not keep_copies,
    )
    click.echo(said(f"document {document_id} retiré", f"document {document_id} retired"))
    if copies:  # the same file elsewhere: a takedown that left them would miss them
        listed = ", ".join(str(c) for c in copies)
        click.echo(
            said(
                f"retirés avec lui, le même fichier\u00a0: documents {listed}",
                f"retired with it, the same file: documents {listed}",
            )
        )


@cli.command(
    epilog='Example:\n\ncommune reinstate 42 --reason "retired by mistake: not this one"',
)
@click.argument("document_id", type=int)
@click.option("--reason", required=True, help="Why, in one line: the audit log keeps it.")
@click.option("--as", "as_user", help="Reinstate as this user (curator or above).")
@click.pass_context
def reinstate(ctx: click.Context, document_id: int, reason: str, as_user: str | None) -> None:
    """Bring back a document retired by mistake, with the copies of its file retired with
    it that you may retire; not one retired for personal data, whose texts are erased."""
    copies = commune_of(ctx).reinstate(document_id, reason=reason, actor=acting(ctx, as_user))
    click.echo(said(f"document {document_id} rétabli", f"document {document_id} reinstated"))
    if copies:
        listed = ", ".join(str(c) for c in copies)
        click.echo(
            said(
                f"rétablis avec lui, le même fichier\u00a0: documents {listed}",
                f"reinstated with it, the same file: documents {listed}",
            )
        )


@cli.command()
@click.argument("collection")
@click.argument("visibility", type=click.Choice(VISIBILITIES))
@click.option("--member", help="Owner of the collection (required to make it private).")
@click.option(
    "--transfer",
    is_flag=True,
    help="Hand an owned collection over to --member (audited); without it, a collection "
    "that has an owner keeps it.",
)
@click.option(
    "--as",
    "as_user",
    help="Act as this user: a member admin sets private or shared on their member's "
    "collections; public needs a cooperative admin.",
)
@click.pass_context
def visibility(
    ctx: click.Context,
    collection: str,
    visibility: str,
    member: str | None,
    transfer: bool,
    as_user: str | None,
) -> None:
    """Make a collection private to its member, shared with the cooperative, or public."""
    commune_of(ctx).set_visibility(
        collection,
        visibility=visibility,
        member=member,
        transfer=transfer,
        actor=acting(ctx, as_user),
    )
    lang = speech.language()
    click.echo(
        say(
            lang,
            f"{collection}\u00a0: {speech.as_pages_say(visibility, lang)}"
            + (f" (propriétaire {member})" if member else ""),
            f"{collection}: {visibility}" + (f" (owner {member})" if member else ""),
        )
    )


@cli.command("export", epilog="Example:\n\ncommune export mairie --out export-mairie/")
@click.argument("collection")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write the dataset to: new or empty, or an earlier export of the same "
    "collection, which it replaces.",
)
@click.option("--description", help="A description for the dataset's metadata.")
@click.pass_context
def export_cmd(ctx: click.Context, collection: str, out: str, description: str | None) -> None:
    """Export a collection as an open dataset: files + Croissant and DCAT-AP metadata."""
    result = commune_of(ctx).export_collection(
        collection=collection, out=Path(out), description=description
    )
    lang = speech.language()
    listed = "croissant.json, dcat.jsonld, documents.jsonl, files/"
    files = f"({listed}, retired.jsonl)" if result.retired else f"({listed})"
    # An export of retirements alone (the collection's last document retired) said "exported
    # 0 documents", read as an export that failed or wrote nothing: it carries the
    # retirements to the homes that imported the collection, which take the documents down.
    if speech.french(lang):
        note = (
            f"\u00a0; {plural(lang, result.reconstructed, '{n} refait', '{n} refaits')} à "
            "partir du texte (originaux non conservés)"
            if result.reconstructed
            else ""
        )
        retired = plural(lang, result.retired, "{n} retrait", "{n} retraits")
        if result.documents or not result.retired:
            exported = plural(
                lang, result.documents, "{n} document exporté", "{n} documents exportés"
            )
            if result.retired:
                exported += f" et {retired}"
        else:
            exported = (
                f"aucun document publié exporté, seulement {retired} (pour les instances qui "
                "ont importé la collection),"
            )
        click.echo(f"{exported} vers {out} {files}{note}")
    else:
        note = (
            f"; {result.reconstructed} rebuilt from text (originals not kept)"
            if result.reconstructed
            else ""
        )
        retired = plural(lang, result.retired, "{n} retirement", "{n} retirements")
        if result.documents or not result.retired:
            exported = "exported " + plural(lang, result.documents, "{n} document", "{n} documents")
            if result.retired:
                exported += f" and {retired}"
        else:
            exported = (
                f"exported no published document, only {retired} (for the homes that "
                "imported the collection),"
            )
        click.echo(f"{exported} to {out} {files}{note}")
    label = say(lang, "avertissement\u00a0:", "warning:")
    for warning in result.warnings:
        click.echo(f"{label} {localise(warning, lang)}", err=True)


@cli.command(
    "import",
    epilog="Example:\n\ncommune import export-mairie/ --collection mairie-voisine",
)
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--collection", required=True, help="Collection to import into.")
@click.pass_context
def import_cmd(ctx: click.Context, directory: str, collection: str) -> None:
    """Import a dataset exported by `commune export` (checked before anything is added)."""
    commune = commune_of(ctx)
    lang = speech.language()
    # Each document held for a reviewer (this home's rules: approvals asked, a retired
    # document, terms not in the table) or failed is said with why, as `commune add` says it:
    # the counts alone read "1 added" for a document nobody can read yet.
    counts = commune.import_dataset(
        directory=Path(directory),
        collection=collection,
        progress=lambda outcome, done, total: said_outcome(outcome, lang),
    )
    changed = counts.get("added") or counts.get("updated") or counts.get("retired")
    if changed or commune.unsettled():  # as `commune add`: a killed import's merge
        settle(commune, lang)
    click.echo(", ".join(imported(k, v, lang) for k, v in counts.items()))
    if counts["failed"]:
        sys.exit(1)


# What `commune import` counts (commons/opendata.py), in French: (one, many).
IMPORTED = {
    "added": ("{n} ajouté", "{n} ajoutés"),
    "updated": ("{n} mis à jour", "{n} mis à jour"),
    "unchanged": ("{n} inchangé", "{n} inchangés"),
    "failed": ("{n} en échec", "{n} en échec"),
    "earlier revisions": ("{n} révision antérieure", "{n} révisions antérieures"),
    # The documents the dataset's publisher retired, retired here too (commons/opendata.py).
    "retired": ("{n} retiré", "{n} retirés"),
    # Of those retired: counted apart, "1 retired, 1 held" read as two documents.
    "held for review": ("dont {n} en attente de curation", "dont {n} en attente de curation"),
    # Documents whose text a dataset's publisher retired here (commons/opendata.REFUSED).
    "refused, retired by their publisher": (
        "{n} refusé, retiré par son éditeur",
        "{n} refusés, retirés par leur éditeur",
    ),
}


def imported(key: str, n: int, lang: str) -> str:
    if not speech.french(lang) or key not in IMPORTED:
        return f"of which {n} {key}" if key == "held for review" else f"{n} {key}"
    return plural(lang, n, *IMPORTED[key])
