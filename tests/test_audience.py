"""What the people who ask are shown of the charter's reasons (charter/audience.py): the
commands and settings in them only to those who administer, on the web page, /api/ask, the
OpenAI routes and MCP; the record keeps them whole."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_person
from tests.test_web import browser

COMMAND = "commune model calibrate smollm2"
FR = ("Où mettre les emballages en plastique ?", "n'est pas encore étalonné")
EN_ = ("Where do I put plastic packaging?", "is not calibrated")


@pytest.fixture
def coop(home, corpus):  # type: ignore[no-untyped-def]
    """A charter that caps each request's energy, so that smollm2 (not yet calibrated) is
    refused with the command that would calibrate it; a reader and a cooperative admin."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "charter.toml").write_text(
        'version = "1"\n[sobriety]\nrequest_wh_cap = 2.0\n', encoding="utf-8"
    )
    with Commune(home) as c:
        c.add([corpus], collection="mairie", licence="etalab-2.0")
        keys = {
            "carol": make_person(c, "carol", "Ville C", "reader"),
            "alice": make_person(c, "alice", "Ville A", "cooperative-admin"),
        }
        yield c, create_app(c), keys


def whys(answer: dict) -> str:  # type: ignore[type-arg]
    return " | ".join([answer["notice"] or "", *(d["reason"] for d in answer["decisions"])])


def test_plain_drops_the_command_and_the_setting_and_keeps_the_rest():
    from commune.charter.audience import plain

    assert plain(
        "smollm2 n'est pas encore étalonné (son énergie est inconnue, et la charte plafonne "
        "chaque requête à 2 Wh) : `commune model calibrate smollm2` le mesure : réponse par "
        "extraction"
    ) == (
        "smollm2 n'est pas encore étalonné (son énergie est inconnue, et la charte plafonne "
        "chaque requête à 2 Wh) : réponse par extraction"
    )
    assert plain(
        "smollm2 is not calibrated (its energy is unknown, and the charter caps each request "
        "at 2 Wh): `commune model calibrate smollm2` measures it: answered by extraction"
    ) == (
        "smollm2 is not calibrated (its energy is unknown, and the charter caps each request "
        "at 2 Wh): answered by extraction"
    )
    assert plain(
        "Le modèle a atteint sa limite de 200 jetons ([generation] max_tokens) : réponse "
        "coupée après les phrases contrôlées."
    ) == (
        "Le modèle a atteint sa limite de 200 jetons : réponse coupée après les phrases contrôlées."
    )
    assert (
        plain(
            "The model did not finish within the 30 s limit ([limits] generation_seconds): "
            "extractive answer given instead."
        )
        == "The model did not finish within the 30 s limit: extractive answer given instead."
    )
    assert plain("x : énergie inconnue (non étalonné : lancez `commune model calibrate x`)") == (
        "x : énergie inconnue (non étalonné)"
    )
    assert plain("Demande refusée par la charte (règle « sobriety.member_month_wh_cap »)") == (
        "Demande refusée par la charte"
    )
    # As the charter says it in French: no-break spaces inside the guillemets.
    assert plain(
        "Demande refusée par la charte (règle «\u00a0sobriety.member_month_wh_cap\u00a0»)"
    ) == ("Demande refusée par la charte")
    # A rule the charter names in words says which published rule applied: it stays.
    kept = "Request refused by the charter (rule 'evaluation-of-people')"
    assert plain(kept) == kept


def test_the_web_page_shows_the_command_to_admins_only_in_french_and_english(coop):
    commune, app, _ = coop
    for (question, said), lang in ((FR, "fr"), (EN_, "en")):
        headers = {"Accept-Language": lang}
        for user, sees in (("carol", False), ("alice", True)):
            b = browser(app, user)
            b.get("/", headers=headers)
            page = b.post("/ask", {"question": question, "mode": "generate"}, headers=headers).page
            assert said in page, page
            assert (COMMAND in page) is sees, (user, lang)
            assert "max_tokens" not in page
    # What the charter recorded is whole: the library's answer, the decision record's.
    whole = commune.ask(FR[0], mode="generate")
    assert COMMAND in whole.notice and COMMAND in whys(whole.to_json())


def test_api_ask_and_its_stream_and_the_openai_routes(coop):
    _, app, keys = coop
    client = TestClient(app)
    for (question, said), lang in ((FR, "fr"), (EN_, "en")):
        for user, sees in (("carol", False), ("alice", True)):
            auth = {"Authorization": f"Bearer {keys[user]}", "Accept-Language": lang}
            body = {"question": question, "mode": "generate"}
            r = client.post("/api/ask", json=body, headers=auth)
            assert r.status_code == 200, r.text
            assert said in whys(r.json()) and (COMMAND in whys(r.json())) is sees
            streamed = client.post("/api/ask/stream", json=body, headers=auth).text
            assert said in streamed and (COMMAND in streamed) is sees
            r = client.post(
                "/v1/chat/completions",
                json={"model": "smollm2", "messages": [{"role": "user", "content": question}]},
                headers=auth,
            )
            assert r.status_code == 200, r.text
            assert (COMMAND in r.text) is sees and said in r.text
            assert (COMMAND in r.headers["x-commune-notice"]) is sees


def test_the_peers_notice_names_their_command_to_admins_only(coop):
    """Asked with "peers": true, or a federated search, with no peer registered: a reader
    was told "aucune coopérative pair n'est enregistrée ici (commune peer add)", a command
    of the host that only the operator runs; an admin reads it whole."""
    _, app, keys = coop
    client = TestClient(app)
    for lang, alone in (("fr", "enregistrée ici\u00a0: réponse"), ("en", "registered here: answ")):
        for user, sees in (("carol", False), ("alice", True)):
            auth = {"Authorization": f"Bearer {keys[user]}", "Accept-Language": lang}
            asked = {"question": FR[0] if lang == "fr" else EN_[0], "peers": True}
            r = client.post("/api/ask", json=asked, headers=auth)
            assert r.status_code == 200, r.text
            notice = r.json()["notice"]
            assert ("(commune peer add)" in notice) is sees and (alone in notice) is not sees
            r = client.post("/api/search/federated", json={"query": "piscine"}, headers=auth)
            assert r.status_code == 200, r.text
            [notice] = r.json()["notices"]
            assert ("(commune peer add)" in notice) is sees and (alone in notice) is not sees


def test_mcp_ask_shows_the_command_to_admins_only(coop, monkeypatch):
    from mcp import Client

    from commune.api.mcp import build_server
    from commune.govern.members import authenticate

    commune, _, keys = coop
    for (question, said), lang in ((FR, "fr_FR.UTF-8"), (EN_, "en_GB.UTF-8")):
        monkeypatch.setenv("LANG", lang)
        for user, sees in (("carol", False), ("alice", True)):
            with commune.engine.connect() as conn:
                actor = authenticate(conn, keys[user])
            server = build_server(commune, lambda ctx, a=actor: a)

            async def ask(server=server, question=question) -> dict:  # type: ignore[no-untyped-def,type-arg]
                async with Client(server) as client:
                    result = await client.call_tool(
                        "ask", {"question": question, "mode": "generate"}
                    )
                    assert not result.is_error, result.content
                    return result.structured_content  # type: ignore[return-value]

            answer = asyncio.run(ask())
            assert said in whys(answer) and (COMMAND in whys(answer)) is sees, (user, lang)


def test_plain_keeps_a_commune_named_in_parentheses(home, corpus):
    """The command aside ("(commune peer add)") is the CLI's: French names a town "commune",
    and a charter's message to its readers ("votre mairie (commune de domicile)") lost its
    parenthesis for every reader but the admins, the sentence left saying less than the
    charter wrote."""
    from commune.api.app import create_app
    from commune.charter.audience import plain
    from commune.core import Commune

    for kept in (
        "l'acte s'obtient à la mairie (commune de naissance)",
        "ask the town hall (commune de domicile) for it",
        "réponse des pairs (2 sur 3 ont répondu)",
        "dans la collection (commune nouvelle)",
        # French reads a few commands as verbs after the town, mid-aside: no command there.
        "l'acte s'obtient à la mairie (la commune retire les actes de plus de 75 ans)",
        "votre dossier va au syndicat (si votre commune serve de relais, à elle d'abord)",
    ):
        assert plain(kept) == kept
    # A command among the aside's steps, after a comma, a colon or "avec", is the operator's.
    for aside in (
        " (vérifiez le port de l'adresse, commune peer update b --url, ou demandez-lui)",
        " (dernière sauvegarde\u00a0: commune restore DOSSIER)",
        " (ajoutez des membres avec commune member add)",
    ):
        assert plain(f"aucun pair ici{aside}\u00a0: réponse") == "aucun pair ici\u00a0: réponse"
    assert plain("aucun pair ici (commune peer add) : réponse") == "aucun pair ici : réponse"
    assert plain("no peer here (`commune peer add`): answered") == "no peer here: answered"

    home.mkdir(parents=True)
    (home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "etat-civil"\nwords = ["acte de naissance",'
        ' "birth certificate"]\nmessage_fr = "Un acte de naissance se demande à la mairie '
        '(commune de naissance)."\nmessage_en = "Ask the town hall (commune de naissance) for '
        'a birth certificate."\n',
        encoding="utf-8",
    )
    with Commune(home) as c:
        c.add([corpus], collection="mairie", licence="etalab-2.0")
        carol = make_person(c, "carol", "Ville C", "reader")
        client = TestClient(create_app(c))
        for lang, question in (
            ("fr", "Où demander un acte de naissance ?"),
            ("en", "Where do I get a birth certificate?"),
        ):
            auth = {"Authorization": f"Bearer {carol}", "Accept-Language": lang}
            r = client.post("/api/ask", json={"question": question}, headers=auth)
            assert r.status_code == 200, r.text
            assert "(commune de naissance)" in whys(r.json()), whys(r.json())


def test_the_command_asides_plain_drops_are_the_clis_commands():
    """plain() drops "(commune peer add)" by the CLI's command names (charter/audience.py),
    not by the word "commune", a town in French: a command added to the CLI is added there."""
    from commune.charter.audience import CLI_COMMANDS
    from commune.cli import cli

    assert sorted(CLI_COMMANDS) == sorted(cli.commands)
