"""The CLI's own help — each command's description, its one-line summary in a group's list,
each option's and argument's help, and click's "Show this message and exit." — in the
reader's language (issue 24: French by default, English when the locale says so,
text/messages.py :func:`from_environment`).

The English texts stay where they are, in the commands' docstrings and ``help=`` strings;
the French lives in a catalogue keyed by them (``locale/fr/LC_MESSAGES/help.po``: msgid the
English as click cleans it, msgstr the French), refreshed by ``scripts/i18n.sh``. It is
applied while the help page is formatted, on copies of the command and its parameters:
click keeps a command's help option once made, and every command object lives as long as
the process, so changing them in place would carry one invocation's French into the next
one's English (tests run many in one process). ``tests/test_french.py`` fails when a help
text has no French, so a new command cannot ship an English help page to French readers.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
from functools import cache
from pathlib import Path

import click

from commune.text import typography
from commune.text.messages import from_environment, localise

CATALOGUE = Path(__file__).resolve().parent / "locale" / "fr" / "LC_MESSAGES" / "help.po"

# The help option's text, always kept English on the cached option (whatever language
# click's own catalogue spoke when it was made: cli/clicktext.py) and translated here.
HELP_OPTION = "Show this message and exit."


def cleaned(text: str) -> str:
    """A help text as click prints it, and as the catalogue keys it: dedented, cut at the
    first form feed (what follows ``\\f`` is for the code's readers, not the help page)."""
    return inspect.cleandoc(text).partition("\f")[0]


@cache
def french() -> dict[str, str]:
    """English help text → its French, from the catalogue (untranslated entries left out),
    with French typography: a no-break space before « : ; ? ! » and inside « », as on the
    pages (text/typography.py says which space and why; the .po keeps ordinary spaces)."""
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="fr")
    return {
        m.id: typography.french(m.string)
        for m in catalogue
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
    }


def translate(text: str | None, language: str) -> str | None:
    """``text`` in ``language``: the catalogue's French for "fr" (the English when it has
    none yet, rather than nothing), the text itself otherwise."""
    if text is None or language != "fr":
        return text
    key = cleaned(text)
    return french().get(key, key)


def reader() -> str:
    """The language the help page is written in, from the locale, as every CLI line."""
    return from_environment(os.environ)


# The placeholders click shows for what to type (an option's type, an argument's name), in
# French: "--collection TEXTE", "commune add [OPTIONS] CHEMINS...", "Argument manquant
# 'CHEMINS...'". Every word the CLI's placeholders use is here: tests/test_french.py fails
# on a new one without its French. A range's bounds are said beside its help ("[x>=1]"), so
# "INTEGER RANGE" is an integer.
METAVARS = {
    "INTEGER RANGE": "ENTIER",
    "FLOAT RANGE": "NOMBRE",
    "ADDRESS": "ADRESSE",
    "ARGS": "ARGUMENTS",
    "COLLECTION": "COLLECTION",
    "COMMAND": "COMMANDE",
    "CONTRIBUTOR": "CONTRIBUTEUR",
    "DATE": "DATE",
    "DEST": "DESTINATION",
    "DIRECTORY": "RÉPERTOIRE",
    "DOCUMENT_ID": "ID_DOCUMENT",
    "FILE": "FICHIER",
    "FILENAME": "FICHIER",
    "FLOAT": "NOMBRE",
    "GLOB": "MOTIF",
    "INTEGER": "ENTIER",
    "KEY_ID": "ID_CLÉ",
    "MONTH": "MOIS",
    "NAME": "NOM",
    "OPTIONS": "OPTIONS",
    "PATH": "CHEMIN",
    "PATHS": "CHEMINS",
    "QUERY": "REQUÊTE",
    "QUESTION": "QUESTION",
    "REVISION_ID": "ID_RÉVISION",
    "ROLE": "RÔLE",
    "SOURCE": "SOURCE",
    "SUITE": "SÉRIE",
    "TEXT": "TEXTE",
    "URL": "URL",
    "USER": "UTILISATEUR",
}
# A placeholder's words: capitals, digits and underscores ("DOCUMENT_ID"), or a range's two.
_PLACEHOLDER = re.compile(r"\b(?:INTEGER|FLOAT) RANGE\b|\b[A-Z][A-Z0-9_]*\b")


def placeholder_words(metavar: str) -> list[str]:
    """The words of a placeholder that :data:`METAVARS` translates (a choice's values, in
    small letters, are typed as they stand)."""
    return _PLACEHOLDER.findall(metavar)


def metavar(text: str, language: str) -> str:
    """A placeholder as ``language`` reads it: in French, or ``text`` itself (click's English).
    Applied twice (a French page's usage line is made from its French copy), it gives the
    same: no French word of :data:`METAVARS` is an English one it translates otherwise."""
    if language != "fr":
        return text
    return _PLACEHOLDER.sub(lambda m: METAVARS.get(m.group(0), m.group(0)), text)


# click's number types, which its French message names in English ("'abc' n'est pas un nombre
# valide (integer)"): the type is filled in after the catalogue has translated the sentence.
_NUMBER_TYPES = {
    "integer": "entier",
    "integer range": "entier",
    "float": "nombre décimal",
    "float range": "nombre décimal",
}
_NUMBER_TYPE = re.compile(r"\((integer range|float range|integer|float)\)\.$")


def _in_french(e: click.BadParameter, ctx: click.Context) -> click.BadParameter:
    """A wrong or missing value said in French: an argument named by its French placeholder
    (click names it by its English one, 'PATHS...', when the error is shown), in click's
    quotes as its other French messages have them; a number's type, and the system's reason
    a file could not be opened, in French (a new error then, since click's message is
    final)."""
    if isinstance(e.param, click.Argument) and e.param_hint is None:
        e.param_hint = f"'{metavar(e.param.make_metavar(ctx), 'fr')}'"
    said = _NUMBER_TYPE.sub(lambda m: f"({_NUMBER_TYPES[m.group(1)]}).", e.message)
    # A file click could not open, in the system's words: "'docs': Is a directory".
    said = localise(said, "fr")
    if said == e.message or type(e) is not click.BadParameter:
        return e
    return click.BadParameter(said, ctx=e.ctx, param=e.param, param_hint=e.param_hint)


def _translated_param(param: click.Parameter, language: str, ctx: click.Context) -> click.Parameter:
    """A copy of ``param`` whose help and placeholder read ``language``; the original is
    left as it is. A flag shows no placeholder."""
    text = getattr(param, "help", None)
    flag = getattr(param, "is_flag", False)
    if not text and flag:
        return param
    twin = copy.copy(param)
    if text:
        twin.help = translate(text, language)
    if not flag:
        twin.metavar = metavar(param.make_metavar(ctx), language)
    return twin


class Formatter(click.HelpFormatter):
    """click's help formatter, with French typography in French: a no-break space before the
    colon of a heading, as click's catalogue has for "Usage:"."""

    def write_heading(self, heading: str) -> None:
        if reader() == "en":
            super().write_heading(heading)
            return
        self.write(f"{'':>{self.current_indent}}{heading}\u00a0:\n")


class Context(click.Context):
    """click's context, formatting help pages with :class:`Formatter`."""

    formatter_class = Formatter


class Command(click.Command):
    """A command whose help page and summary follow the reader's language."""

    context_class = Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            # click made and cached it in the language of its first use; keep the English
            # key, which the page's copy translates, so no invocation inherits another's.
            option.help = HELP_OPTION
        return option

    def in_language(self, ctx: click.Context, language: str) -> Command:
        """A shallow copy of this command whose texts read ``language``: the copy formats
        the page, so the command itself (kept by click for the process) never changes."""
        twin = copy.copy(self)
        twin.help = translate(self.help, language)
        twin.short_help = translate(self.short_help, language)
        twin.epilog = translate(self.epilog, language)
        # The help option joins the other parameters, translated; the copy makes none.
        twin.params = [_translated_param(p, language, ctx) for p in self.get_params(ctx)]
        twin.add_help_option = False
        return twin

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """The usage line's placeholders in the reader's language, on the help page and in
        a usage error's first line alike."""
        language = reader()
        return [metavar(piece, language) for piece in super().collect_usage_pieces(ctx)]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.BadParameter as e:
            if reader() != "fr":
                raise
            raise _in_french(e, ctx) from None

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        language = reader()
        if language == "en":
            super().format_help(ctx, formatter)
            return
        # The copy is a Command too: call click's formatting on it, not this method again.
        super(Command, self.in_language(ctx, language)).format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        language = reader()
        if language == "en":
            return super().get_short_help_str(limit)
        twin = copy.copy(self)
        twin.help = translate(self.help, language)
        twin.short_help = translate(self.short_help, language)
        # click makes the summary by splitting the help on whitespace, the no-break spaces
        # too, and joining it with ordinary ones: "Lister les collections : le nombre" in
        # `commune --help`'s list. Spaced again, as the page it summarises.
        return typography.french(super(Command, twin).get_short_help_str(limit))


class Group(Command, click.Group):
    """A group whose help page, and its commands' and subgroups' pages, follow the reader's
    language: the commands it makes are :class:`Command` and its subgroups this class."""

    command_class = Command


# A subgroup is a plain translated group, not the top group's class (cli/group.py), whose
# error handling belongs to the whole invocation once.
Group.group_class = Group


def texts(command: click.Command, ctx: click.Context | None = None) -> list[str]:
    """Every help text of ``command`` and, for a group, of the commands under it: the
    catalogue's msgids (``scripts/i18n.sh``) and what the test checks has a French."""
    ctx = ctx or click.Context(command, info_name=command.name)
    found: list[str] = []
    params = command.get_params(ctx)
    for text in (command.help, command.short_help, command.epilog):
        if text and cleaned(text):
            found.append(cleaned(text))
    for param in params:
        text = getattr(param, "help", None)
        if text and cleaned(text):
            found.append(cleaned(text))
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found.extend(texts(sub, click.Context(sub, info_name=name, parent=ctx)))
    return list(dict.fromkeys(found))
