"""What the stack is made of: the CycloneDX 1.6 bill of materials and the sovereignty map."""

from __future__ import annotations

import json

import cyclonedx  # noqa: E402, F401  (the test extra: make test installs it)
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from commune.cli import cli  # noqa: E402
from commune.errors import CommuneError  # noqa: E402
from commune.stack.bom import dataset_expression, store, validate  # noqa: E402
from commune.stack.sovereignty import diff, obligation, sovereignty_map  # noqa: E402

ENDPOINTS = """
[models.gpu]
backend = "openai"
base_url = "https://gpu.cooperative.example/v1"
model = "mistral-small"
licence = "Apache-2.0"
openness = "open-weights"
jurisdiction = "FR"
active_params_b = 24
total_params_b = 24

[models.mystery]
backend = "openai"
base_url = "https://llm.elsewhere.example/v1"
model = "m"
jurisdiction = "US"
"""


@pytest.fixture
def deployed(home, corpus):  # type: ignore[no-untyped-def]
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(ENDPOINTS)
    c = Commune(home)
    c.add([corpus], collection="guides", licence="etalab-2.0")
    c.add([corpus / "pool.txt"], collection="piscine", licence="CC-BY-SA-4.0")
    yield c
    c.close()


def component(bom, ref):  # type: ignore[no-untyped-def]
    return next(c for c in bom["components"] if c["bom-ref"] == ref)


def test_the_bom_is_valid_cyclonedx_1_6_with_software_models_and_data(deployed):
    bom = deployed.bom()
    validate(json.dumps(bom))  # and build() validated it already
    assert bom["specVersion"] == "1.6" and bom["metadata"]["component"]["name"] == "commune"
    # Software: installed distributions with versions, SPDX licences and their graph.
    fastapi = component(bom, "pypi:fastapi")
    assert fastapi["version"] and fastapi["purl"].startswith("pkg:pypi/fastapi@")
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert "pypi:starlette" in deps["pypi:fastapi"]
    assert "pypi:fastapi" in deps["deployment"] and "pypi:sqlalchemy" in deps["deployment"]
    # Models: the embedder and every generator, with a model card.
    gpu = component(bom, "model:gpu")
    assert gpu["type"] == "machine-learning-model"
    props = {p["name"]: p["value"] for p in gpu["modelCard"]["properties"]}
    assert props["commune:params_b"] == "24" and props["commune:openness"] == "open-weights"
    # Its energy figure says how it was found (a bare figure read as a measurement).
    assert props["commune:wh_per_1k_tokens"] and props["commune:energy_method"].startswith(
        "ecologits 0.11"
    ), props
    assert "modelled" in props["commune:energy_method"]
    low, high = (float(w) for w in props["commune:wh_per_1k_range"].split("–"))
    assert low <= float(props["commune:wh_per_1k_tokens"]) <= high
    assert gpu["externalReferences"][0]["url"] == "https://gpu.cooperative.example/v1"
    use = component(bom, "model:use-multilingual-v3")
    assert use["licenses"][0]["license"]["id"] == "Apache-2.0" and use["hashes"][0]["content"]
    # Datasets: each collection, its licence mix, its document count, its export's hash.
    guides = component(bom, "data:guides")
    gprops = {p["name"]: p["value"] for p in guides["properties"]}
    assert guides["type"] == "data" and gprops["commune:documents"] == "6"
    assert gprops["commune:licence:etalab-2.0"] == "6" and len(guides["hashes"][0]["content"]) == 64
    assert guides["data"][0]["description"].startswith("6 documents of the commons; ")
    one = component(bom, "data:piscine")["data"][0]["description"]
    assert one.startswith("1 document of the commons; licences: CC-BY-SA-4.0 (1)"), one


def test_a_collection_licence_mix_is_one_expression():
    # Issue 23: a list mixing "A OR B" with "C" failed CycloneDX's check (one expression or a
    # list of plain licences, never both), and bom and sovereignty crashed.
    mix = {"GPL-2.0-or-later OR CC-BY-SA-3.0": 1, "CC-BY-4.0": 2, "unknown": 1, "MIT": 1}
    assert dataset_expression(mix) == "CC-BY-4.0 AND (GPL-2.0-or-later OR CC-BY-SA-3.0) AND MIT"
    assert dataset_expression({"CC-BY-4.0": 3}) == "CC-BY-4.0"
    assert dataset_expression({"unknown": 3}) is None


def test_an_invalid_bom_is_refused(deployed):
    bom = deployed.bom()
    bom["components"][0]["type"] = "spaceship"
    with pytest.raises(CommuneError, match="not valid CycloneDX 1.6"):
        validate(json.dumps(bom))


def test_the_map_flags_unknown_licences_and_foreign_hosting(deployed):
    bom = deployed.bom()
    m = sovereignty_map(bom, deployed.charter.sovereignty.jurisdictions, None)
    flagged = {d["component"]: d for d in m["closed_or_unknown"]}
    assert "no licence declared" in flagged["mystery"]["why"]
    assert "openness unknown" in flagged["mystery"]["why"] and "gpu" not in flagged
    outside = {d["component"]: d for d in m["outside_jurisdictions"]}
    assert outside["mystery"]["jurisdiction"] == "US" and "gpu" not in outside
    top = m["most_depended_on"]
    assert top[0]["dependents"] >= top[-1]["dependents"] > 0
    assert m["obligations"]["network-copyleft"]["components"] == ["commune"]
    assert "AGPL section 13" in m["obligations"]["network-copyleft"]["what"]


def test_licence_obligations_read_choices_and_combinations():
    assert obligation("MIT") == "notice"
    assert obligation("GPL-2.0-or-later OR MIT") == "notice"  # a re-user may take MIT
    assert obligation("MIT AND LGPL-3.0-only") == "weak-copyleft"
    assert obligation("AGPL-3.0-or-later") == "network-copyleft"
    assert obligation("GPL-2.0-only WITH Classpath-exception-2.0") == "weak-copyleft"
    assert obligation("CC0-1.0") == "none"


def test_the_map_s_reasons_are_each_said_in_french_and_a_licence_text_in_one_short_line():
    """protobuf's reason stayed English in French (split on the ", " of its own sentence) and
    tiktoken's line carried its whole MIT licence, with literal \\n (an exploratory test)."""
    from commune.cli.transparency import english_map, sovereignty_lines

    mit = "MIT License\n\nCopyright (c) 2022 OpenAI\n\nPermission is hereby granted, free of"
    bom = {
        "components": [
            {
                "type": "library",
                "name": "protobuf",
                "bom-ref": "a",
                "licenses": [{"license": {"name": "3-Clause BSD License"}}],
            },
            {
                "type": "library",
                "name": "pypdfium2",
                "bom-ref": "b",
                "licenses": [
                    {"license": {"name": "BSD-3-Clause, Apache-2.0, dependency licenses"}}
                ],
            },
            {
                "type": "library",
                "name": "tiktoken",
                "bom-ref": "c",
                "licenses": [{"license": {"name": mit}}],
            },
            {
                "type": "data",
                "name": "mairie",
                "bom-ref": "d",
                "licenses": [],
                "properties": [{"name": "commune:licence:unknown", "value": "1"}],
            },
            {"type": "machine-learning-model", "name": "mystery", "bom-ref": "e"},
        ]
    }
    m = sovereignty_map(bom, ("FR",), None)
    flagged = {d["component"]: d for d in m["closed_or_unknown"]}
    assert flagged["tiktoken"]["why"] == (
        "its metadata holds a licence's whole text ('MIT License'), not an SPDX expression"
    )
    assert flagged["mairie"]["why"] == "1 document without a licence"
    assert flagged["mystery"]["reasons"] == ["no licence declared", "openness unknown"]
    assert flagged["mystery"]["why"] == "no licence declared, openness unknown"
    nb = "\u00a0"
    french = sovereignty_lines(m, "fr").splitlines()
    for line in (
        f"  protobuf (logiciel){nb}: ses métadonnées déclarent '3-Clause BSD License', qui "
        "n'est pas une expression SPDX",
        f"  pypdfium2 (logiciel){nb}: ses métadonnées déclarent 'BSD-3-Clause, Apache-2.0, "
        "dependency licenses', qui n'est pas une expression SPDX",
        f"  tiktoken (logiciel){nb}: ses métadonnées contiennent le texte entier d'une licence "
        "('MIT License'), qui n'est pas une expression SPDX",
        f"  mairie (jeu de données){nb}: document sans licence{nb}: 1",
        f"  mystery (modèle){nb}: aucune licence déclarée, ouverture inconnue",
    ):
        assert line in french, "\n".join(french)
    english = english_map(m)
    assert "\\n" not in english and "Permission is hereby granted" not in english
    assert "  tiktoken (software): its metadata holds a licence's whole text" in english


def test_the_diff_between_two_boms(deployed, tmp_path):
    before = deployed.bom()
    extra = tmp_path / "extra.txt"
    extra.write_text("Le marché a lieu le samedi matin sur la place de la mairie.")
    deployed.add([extra], collection="marche", licence="etalab-2.0")
    after = deployed.bom()
    changes = diff(before, after)
    assert changes["added"] == ["marche"] and changes["removed"] == []
    assert any(c["component"] == "guides" for c in changes["changed"]) is False
    before["components"] = [c for c in before["components"] if c["bom-ref"] != "pypi:numpy"]
    fastapi = component(before, "pypi:fastapi")
    fastapi["version"] = "0.0.1"
    changes = diff(before, after)
    assert "numpy" in changes["added"]
    assert {
        "component": "fastapi",
        "version": ["0.0.1", component(after, "pypi:fastapi")["version"]],
    } in changes["changed"]


def test_the_cli_writes_keeps_and_maps(deployed, home, tmp_path):
    # A collection mixing a choice, a plain licence, a combination and no licence (issue 23).
    for name, licence in (
        ("choice.md", "GPL-2.0-or-later OR CC-BY-SA-3.0"),
        ("plain.md", "CC-BY-4.0"),
        ("both.md", "MIT AND CC-BY-4.0"),
        ("none.md", None),
    ):
        (tmp_path / name).write_text(f"# {name}\n\nLe jardin {name} ouvre le dimanche.\n")
        deployed.add([tmp_path / name], collection="melange", licence=licence)
    run = CliRunner()
    # A folder that does not exist: refused before anything is written, where a copy was
    # kept in the home all the same and became the next map's "changes since" (an
    # exploratory test).
    nowhere = tmp_path / "nodir" / "bom.json"
    r = run.invoke(cli, ["--home", str(home), "bom", "--out", str(nowhere)])
    assert r.exit_code == 2 and r.stderr == (
        f"error: cannot write {nowhere}: the folder {nowhere.parent} does not exist (create "
        "it, or give --out a file in a folder that exists)\n"
    ), r.output
    assert not (home / "bom").exists() and not nowhere.parent.exists()
    r = run.invoke(cli, ["--home", str(home), "bom", "--out", str(nowhere)], env={"LANG": "fr"})
    assert r.stderr.startswith(f"erreur\u00a0: impossible d'écrire {nowhere}\u00a0: le dossier ")
    out = tmp_path / "bom.json"
    r = run.invoke(cli, ["--home", str(home), "bom", "--out", str(out)])
    assert r.exit_code == 0 and "CycloneDX 1.6, valid" in r.output, r.output
    validate(out.read_text())
    melange = component(json.loads(out.read_text()), "data:melange")
    assert melange["licenses"] == [
        {"expression": "CC-BY-4.0 AND (GPL-2.0-or-later OR CC-BY-SA-3.0) AND (MIT AND CC-BY-4.0)"}
    ]
    assert len(list((home / "bom").glob("bom-*.json"))) == 1
    r = run.invoke(cli, ["--home", str(home), "sovereignty"])
    assert r.exit_code == 0, r.output
    assert "Most depended on:" in r.output and "mystery (model)" in r.output
    assert "mystery: US" in r.output and "Changes since" in r.output
    data = json.loads(run.invoke(cli, ["--home", str(home), "sovereignty", "--json"]).output)
    assert data["changes"]["added"] == [] and data["changes"]["removed"] == []


def test_the_transparency_page_serves_the_kept_bill_and_its_map(deployed):
    from commune.api.app import create_app

    client = TestClient(create_app(deployed))
    assert client.get("/transparency/bom.json").status_code == 404
    store(deployed.settings.home, deployed.bom())
    bom = client.get("/transparency/bom.json").json()
    assert bom["specVersion"] == "1.6"
    m = client.get("/transparency/sovereignty.json").json()
    assert m["changes"] is None and m["outside_jurisdictions"][0]["component"] == "mystery"
    assert "/transparency/bom.json" in client.get("/transparency").text


def test_the_public_bill_names_no_collection_the_public_may_not_read(deployed, tmp_path):
    """Found by an exploratory test: the keyless /transparency/bom.json listed a member's
    private collection with its document count and licence mix, and counted documents
    waiting for a curator."""
    from commune.api.app import create_app
    from commune.govern.members import add_member

    with deployed.engine.begin() as conn:
        add_member(conn, "Ville A", "town")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "budget.md").write_text("# Budget\n\nLe budget confidentiel de la piscine.")
    deployed.add(
        [secret], collection="delib-a", licence="etalab-2.0", member="Ville A", visibility="private"
    )
    deployed.set_visibility("guides", "public")
    (tmp_path / "held.md").write_text("# En attente\n\nUne contribution sans licence.")
    deployed.add([tmp_path / "held.md"], collection="guides")  # no licence: held
    store(deployed.settings.home, deployed.bom())
    client = TestClient(create_app(deployed))
    data = {
        c["name"]: c
        for c in client.get("/transparency/bom.json").json()["components"]
        if c["bom-ref"].startswith("data:")
    }
    assert set(data) == {"guides"}  # neither the private one nor the shared "piscine"
    count = next(
        p["value"] for p in data["guides"]["properties"] if p["name"].endswith(":documents")
    )
    assert count == str(len(deployed.documents("guides")) - 1)  # the held one is no part
    assert "delib-a" not in json.dumps(client.get("/transparency/sovereignty.json").json())
    full = json.loads(json.dumps(deployed.bom()))  # the operator's own bill names them all
    assert {"data:delib-a", "data:guides", "data:piscine"} <= {
        c["bom-ref"] for c in full["components"]
    }
