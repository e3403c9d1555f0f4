"""What a reader produces: a title and blocks of text, each under its headings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


def listing(text: str) -> str:
    """A listing's text as a block holds it: its lines without trailing spaces or blank
    lines around them, and a blank line inside kept as one space, so that the listing
    stays one block where a passage is split into blocks (at its blank lines)."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(line or " " for line in lines)


def under(header: str | None, text: str) -> str:
    """A table cell's ``text`` with its column's ``header``, "Prix du repas : 1,50 €", as every
    reader writes a row of a table with a header; the text alone without one, or under a
    header of the same words."""
    return f"{header} : {text}" if header and header != text else text


# The words a table's header names its columns with, as a town hall's or an association's
# tables say them (French, then English): "Jour | Horaires", "Service | Téléphone". Values
# hardly begin with one, so that a first row of them is a header whatever stands under it:
# "Horaires" over "Fermé" and "9h-12h" is one, where "Commune | Saint-Exemple" over
# "Téléphone | 01 23 45 67 89" is a card's first label and its value.
COLUMN_WORDS = frozenset(
    """
    jour jours date dates horaire horaires heure heures ouverture ouvertures fermeture
    matin matinée après-midi midi soir soirée semaine mois année période durée délai délais
    tarif tarifs prix montant montants coût coûts total cotisation cotisations taux
    téléphone tél portable fax adresse adresses courriel mail e-mail contact contacts
    lieu lieux nom noms prénom prénoms fonction fonctions rôle service services
    responsable responsables interlocuteur intitulé libellé désignation description
    détail détails observation observations remarque remarques commentaire commentaires
    précisions valeur valeurs quantité nombre effectif âge catégorie catégories type
    référence pièces justificatifs documents conditions modalités activité activités
    day days hours hour time times opening price prices rate rates fee fees cost costs
    amount amounts phone telephone address email contact name names role description
    details notes comments value values duration period quantity number category
    morning afternoon evening
    """.split()
)


def names_column(text: str) -> bool:
    """Whether a table's cell reads as a column's name: one of COLUMN_WORDS, alone or first
    of a few words ("Horaires d'ouverture", "Prix du repas", "Tarif 2025", "Montant (€)")."""
    words = re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text.casefold())
    return 0 < len(words) <= 3 and words[0] in COLUMN_WORDS


# A year may stand in a column's header ("Tarif 2025"), no other number.
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def names_columns(cells: list[str], below: Iterable[list[str]] = ()) -> bool:
    """Whether a table's first row, its ``cells`` in order, names its columns, as a table
    that marks no header (Word's plain grid, a table a program made, a CMS's without <th>)
    shows one: its first cell a label (no number in it but a year: "Jour", "Quotient
    familial"), each other a column's name (names_column: "Horaires", "Prix du repas").

    ``below``: the rows under it, their cells in the same columns. Under a first cell that
    names no column ("Lundi", "Adultes"), a column whose cells below are words of a column's
    name too ("Après-midi", "Tarif réduit") is a column of such values, and the first row
    its first: "Lundi | Matin" over "Jeudi | Après-midi", a mayor's hours, had been a header,
    and its rows read "Lundi : Jeudi | Matin : Après-midi"."""
    first = _YEAR.sub("", cells[0]) if cells else ""
    if not (
        len(cells) > 1
        and len(first) <= 60  # empty over a column of labels, as a grid's corner is
        and not any(c.isdigit() or c == "@" for c in first)
        and all(names_column(text) for text in cells[1:])
    ):
        return False
    if not first.strip() or names_column(first):  # "Jour | Période" over "Lundi | Matin"
        return True
    return not any(names_column(text) for row in below for text in row[1 : len(cells)])


# A list item's marker, as readers write one before its text ("- ", "3. ") and a text may
# hold one written by hand ("1) Remplir", "• Photo"): a reader adds none before it, since two
# would read as one marker and a sentence starting "1.".
MARKER = r"(?:[-–•*]|\d{1,3}[.)])"  # alone, for patterns that allow one (answering/instructions)
MARKED = re.compile(rf"^{MARKER}\s+(?=\S)")


@dataclass(frozen=True)
class Block:
    # Prose is one line; a listing (code, a command, a file) keeps its lines (see listing()):
    # the chunker, the answers' candidates and the document page tell them apart so, and a
    # command alone after a shell prompt by its text (answering/answer.is_listing).
    text: str
    headings: tuple[str, ...] = ()
    anchor: str | None = None
    page: int | None = None


@dataclass
class Parsed:
    title: str
    media_type: str
    blocks: list[Block] = field(default_factory=list)
    tdm_reserved: bool = False  # the document itself declares a TDM reservation (TDMRep)
    # What the document says of itself, where its format says it (a DILA fiche does):
    source: str | None = None  # its canonical http(s) address
    date: str | None = None  # when it was last modified, as an ISO 8601 date
    licence: str | None = None  # the SPDX licence it is published under
    # What of the file could not be read, said to the person adding it (a PDF's scanned
    # pages): one line, "NAME: what (what to do)".
    missing: str | None = None
