"""MCP: the official SDK's own client against `commune mcp` (stdio) and /mcp (streamable
HTTP under `commune serve`), under members' keys."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import make_key, serve

# A session's first request, as an MCP client sends it over HTTP.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


@pytest.fixture
def coop(commune, corpus, tmp_path):  # type: ignore[no-untyped-def]
    """A shared collection, and one private to Ville A; keys for a user of each member."""
    from commune.govern.members import add_member

    with commune.engine.begin() as conn:
        add_member(conn, "Ville A", "town")
        add_member(conn, "Ville B", "town")
        add_member(conn, "Ville C", "town", requests_per_day=3)
    commune.add([corpus / "pool.txt"], collection="shared", licence="etalab-2.0")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "budget.txt").write_text(
        "Le budget confidentiel de la piscine municipale est de 41 000 euros pour 2027."
    )
    commune.add([secret], collection="privee-a", licence="etalab-2.0", member="Ville A")
    return commune, make_key(commune, "ann", "Ville A"), make_key(commune, "bob", "Ville B")


def text_of(result) -> str:  # type: ignore[no-untyped-def]
    assert not result.is_error, result.content
    return result.content[0].text


def data_of(result):  # type: ignore[no-untyped-def]
    """A tool's result as objects (its structuredContent), as a host reads it."""
    assert not result.is_error, result.content
    return result.structured_content


async def session_checks(client, private_visible: bool) -> dict:  # type: ignore[no-untyped-def]
    tools = {t.name for t in (await client.list_tools()).tools}
    assert tools == {"search", "ask", "get_document", "list_collections"}
    collections = data_of(await client.call_tool("list_collections", {}))["collections"]
    names = {c["name"] for c in collections}
    assert ("privee-a" in names) is private_visible and "shared" in names
    hits = data_of(await client.call_tool("search", {"query": "budget piscine", "k": 5}))["hits"]
    assert any("41 000" in h["text"] for h in hits) is private_visible
    # k is bounded as on /api/search: a billion returned every readable passage at once.
    many = await client.call_tool("search", {"query": "budget piscine", "k": 10**9})
    assert many.is_error
    answer = data_of(
        await client.call_tool("ask", {"question": "When are swimming lessons for children?"})
    )
    assert answer["found"] and answer["sources"] and answer["energy"]["wh"] > 0
    assert [d["step"] for d in answer["decisions"]][0] == "refuse"
    return {"hits": hits}


def test_mcp_over_stdio_under_a_members_key(coop, home):
    commune, ann, bob = coop
    private_id = next(d["id"] for d in commune.documents("privee-a"))

    async def run(key: str, visible: bool) -> None:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "commune.cli", "--home", str(home), "mcp"],
            # The SDK passes on only a few variables: no LANG (so French, issue 24), and the
            # source tree the tests run is named again.
            env={"COMMUNE_API_KEY": key, "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
        )
        async with Client(params, cache=None) as client:
            await session_checks(client, visible)
            doc = await client.call_tool("get_document", {"document_id": private_id})
            if visible:
                assert "41 000" in text_of(doc)
                res = await client.read_resource(f"commune://documents/{private_id}")
                assert "41 000" in res.contents[0].text
            else:
                # The agent's error in its language: French, as no locale says English (after
                # the SDK's own "Error executing tool get_document: "), naming no command
                # of the CLI, which an agent does not have.
                assert doc.is_error, doc.content
                said = doc.content[0].text
                assert said.endswith(f": aucun document {private_id} (vérifiez son numéro)"), said

    asyncio.run(run(ann, True))
    asyncio.run(run(bob, False))
    with commune.engine.connect() as conn:
        routes = conn.exec_driver_sql(
            "select route, count(*) from usage where route like 'mcp/%' group by route"
        ).all()
    assert {r for r, _ in routes} >= {"mcp/search", "mcp/ask", "mcp/list_collections"}


def test_stdio_refuses_a_missing_or_invalid_key(home, commune):
    import subprocess

    commune.engine  # noqa: B018 -- the home exists: the refusal is about the key
    for env in ({}, {"COMMUNE_API_KEY": "cmn_not-a-key"}):
        r = subprocess.run(
            [sys.executable, "-m", "commune.cli", "--home", str(home), "mcp"],
            env={k: v for k, v in __import__("os").environ.items() if k != "COMMUNE_API_KEY"} | env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert r.returncode == 2 and r.stderr.startswith("error:"), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_stdio_takes_a_key_pasted_with_spaces_around_it(coop, home):
    """A key pasted into a desktop configuration with a space or a newline after it was
    refused as unknown over stdio ("clé d'API inconnue"), while /mcp strips a bearer token's."""
    commune, ann, _ = coop

    async def run() -> list[str]:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "commune.cli", "--home", str(home), "mcp"],
            env={"COMMUNE_API_KEY": f" {ann} \n", "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
        )
        async with Client(params, cache=None) as client:
            said = data_of(await client.call_tool("list_collections", {}))
            return [c["name"] for c in said["collections"]]

    assert "privee-a" in asyncio.run(run())  # Ville A's own: the key is ann's


def test_stdio_without_a_home_names_it_and_creates_nothing(tmp_path, monkeypatch):
    """Issue 24: a desktop client starts `commune mcp` in a directory of its own; the default
    home there was created empty, and the agent was told its key was wrong."""
    from click.testing import CliRunner

    from commune.cli import cli

    cwd = tmp_path / "desktop-client"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("COMMUNE_API_KEY", "cmn_a-good-key-elsewhere")
    for args in (["mcp"], ["mcp", "--print-config"]):
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 2, r.output
        line = r.stderr.strip()
        assert line.startswith(f"error: no Commune home at {cwd / 'commune-data'}"), line
        assert "--home" in line and "COMMUNE_HOME" in line and "\n" not in line
        assert list(cwd.iterdir()) == []  # no database left behind


def test_stdio_with_a_wrong_key_says_what_to_put_in_the_variable(made_home, monkeypatch):
    """A malformed key over stdio was told to send an HTTP header ("Authorization: Bearer
    KEY"): the key comes from COMMUNE_API_KEY there (an exploratory test)."""
    from click.testing import CliRunner

    from commune.cli import cli

    for key, en, fr in (
        ("bad", "malformed API key", "clé d'API mal formée"),
        ("cmn_ab_cd", "unknown API key", "clé d'API inconnue"),
    ):
        monkeypatch.setenv("COMMUNE_API_KEY", key)
        r = CliRunner().invoke(cli, ["--home", str(made_home), "mcp"])
        assert r.exit_code == 2 and r.stderr == (
            f"error: {en} (set COMMUNE_API_KEY to the whole key that `commune key create USER` "
            "printed)\n"
        ), r.output
        r = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, ["--home", str(made_home), "mcp"])
        assert r.exit_code == 2 and r.stderr == (
            f"erreur\u00a0: {fr} (mettez dans COMMUNE_API_KEY la clé entière qu'a affichée "
            "«\u00a0commune key create UTILISATEUR\u00a0»)\n"
        ), r.output
        assert "Authorization" not in r.output


def test_the_printed_desktop_config_starts_a_working_server(commune, home, tmp_path):
    """`commune mcp --print-config` gives absolute paths; the server started exactly as a
    desktop client would (its command, args, env, in another directory) reaches the home: a
    key valid only there is accepted. (The SDK's client over stdio: the test above.)"""
    import os
    import subprocess

    from click.testing import CliRunner

    from commune.cli import cli

    ann = make_key(commune, "ann", "Ville A")
    r = CliRunner().invoke(cli, ["--home", str(home), "mcp", "--print-config"])
    assert r.exit_code == 0, r.output
    server = json.loads(r.stdout)["mcpServers"]["commune"]
    assert server["args"][-3:] == ["--home", str(home.resolve()), "mcp"]
    # The English of the shell that printed it is carried: a desktop client passes the
    # server no locale, and its agent was told every error in French.
    assert server["command"].startswith("/") and server["env"] == {
        "COMMUNE_API_KEY": "cmn_...",
        "LANG": "en_US.UTF-8",
    }
    assert "commune key create" in r.stderr
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "mcp", "--print-config"]
    )
    assert json.loads(french.stdout)["mcpServers"]["commune"]["env"] == {
        "COMMUNE_API_KEY": "cmn_..."  # French is the server's default
    }
    alone = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
        cli, ["--home", str(home), "mcp", "--print-config", "--no-auth"]
    )
    assert json.loads(alone.stdout)["mcpServers"]["commune"]["env"] == {"LANG": "en_GB.UTF-8"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Started as the desktop client would: the key is checked against the home at start
    # (a wrong home refuses it, exit 2); then the server reads stdin, here empty, and ends.
    started = subprocess.run(
        [server["command"], *server["args"]],
        env=os.environ | {"COMMUNE_API_KEY": ann},
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert started.returncode == 0, started.stderr
    assert list(elsewhere.iterdir()) == []


def test_mcp_over_http_keys_visibility_and_quotas(coop):
    import httpx2

    from commune.api.app import create_app

    commune, ann, bob = coop
    cleo = make_key(commune, "cleo", "Ville C")  # her member answers 3 requests a day
    with serve(create_app(commune)) as base:

        @contextlib.asynccontextmanager
        async def client(key: str, language: str | None = None):  # type: ignore[no-untyped-def]
            headers = {"Authorization": f"Bearer {key}"}
            if language:
                headers["Accept-Language"] = language
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                transport = streamable_http_client(f"{base}/mcp", http_client=http)
                async with Client(transport, cache=None) as c:
                    yield c

        async def run() -> None:
            async with client(ann) as c:
                await session_checks(c, True)
            # A question of a few words is answered in the agent's language, French when it
            # says nothing (as on /api/ask).
            for language, expected in ((None, "fr"), ("en-GB,en;q=0.9", "en")):
                async with client(ann, language) as c:
                    said = await c.call_tool("ask", {"question": "piscine municipale"})
                    assert data_of(said)["language"] == expected, language
            async with client(bob) as c:
                await session_checks(c, False)
            async with client(cleo) as c:
                await session_checks(c, False)  # three requests: her member's quota
                over = await c.call_tool("search", {"query": "piscine"})
                # A tool's error in the agent's language: French unless it asks for English.
                assert over.is_error, over.content
                assert "a épuisé son quota de requêtes par jour (limite 3" in over.content[0].text
            async with client(cleo, "en-GB,en;q=0.9") as c:
                over = await c.call_tool("search", {"query": "piscine"})
                assert over.is_error and "quota of 3 requests per day" in over.content[0].text

        asyncio.run(run())
        for key in (None, "cmn_wrong"):
            r = httpx2.post(
                f"{base}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Authorization": f"Bearer {key}"} if key else {},
            )
            assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_mcp_over_http_says_a_body_not_sent_as_json_in_json_rpc(coop):
    """`curl -d` sends a form's Content-Type: /mcp answered a bare "Invalid Content-Type
    header", English text, neither JSON-RPC nor the API's error body."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, _ = coop
    ping = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'
    with serve(create_app(commune)) as base:
        for kind, language, said in (
            ("application/x-www-form-urlencoded", None, "pas comme du JSON (envoyez l'en-tête"),
            (None, "en", "sent without a Content-Type, not as JSON (send the header"),
            # JSON's own type for an API, which the SDK does not read either.
            ("application/vnd.api+json", None, "comme application/vnd.api+json, pas comme"),
        ):
            headers = {
                "Authorization": f"Bearer {ann}",
                "Accept": "application/json, text/event-stream",
            }
            if kind:
                headers["Content-Type"] = kind
            if language:
                headers["Accept-Language"] = language
            r = httpx2.post(f"{base}/mcp", content=ping, headers=headers)
            assert r.status_code == 400, r.text
            body = r.json()
            assert body["code"] == "invalid_request" and said in body["detail"], body
            assert body["jsonrpc"] == "2.0" and said in body["error"]["message"]
        headers["Content-Type"] = "application/json"
        opening = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "curl", "version": "8"},
            },
        }
        served = httpx2.post(f"{base}/mcp", json=opening, headers=headers)
        assert served.status_code == 200 and "mcp-session-id" in served.headers


def test_mcp_refuses_ids_past_the_databases_in_one_line(coop, monkeypatch):
    # 2**63 reached the database driver and overflowed there; "²" is a digit to str.isdigit.
    from mcp.shared.exceptions import MCPError

    from commune.api.mcp import build_server
    from commune.govern.policy import OPERATOR

    commune, _, _ = coop
    server = build_server(commune, lambda ctx: OPERATOR)

    async def run() -> None:
        async with Client(server) as c:
            r = await c.call_tool("get_document", {"document_id": 2**63})
            # One line in the agent's language: over stdio (and here) the server's locale.
            said = r.content[0].text
            assert r.is_error and said.endswith("document_id: must be at most " + str(2**63 - 1))
            assert "\n" not in said and "Traceback" not in said
            monkeypatch.setenv("LANG", "fr_FR.UTF-8")
            said = (await c.call_tool("get_document", {"document_id": 0})).content[0].text
            assert said.endswith("document_id\u00a0: doit être au moins 1"), said
            for uri in ("commune://documents/99999999999999999999", "commune://documents/%C2%B2"):
                with pytest.raises(MCPError) as refused:
                    await c.read_resource(uri)
                assert "document" in str(refused.value)

    asyncio.run(run())


def test_mcp_over_http_under_no_auth_serves_the_operator(commune, corpus):
    # `serve --no-auth` served the API as the operator but refused /mcp with 401.
    import httpx2

    from commune.api.app import create_app

    commune.add([corpus / "pool.txt"], collection="shared", licence="etalab-2.0")
    with serve(create_app(commune, require_auth=False)) as base:

        async def run() -> None:
            async with httpx2.AsyncClient(timeout=60) as http:
                transport = streamable_http_client(f"{base}/mcp", http_client=http)
                async with Client(transport, cache=None) as c:
                    names = data_of(await c.call_tool("list_collections", {}))["collections"]
                    assert "shared" in {n["name"] for n in names}

        asyncio.run(run())


def _refusal(group: BaseException) -> str:
    """The MCPError inside the SDK's exception groups, as the agent reads it."""
    from mcp.shared.exceptions import MCPError

    while isinstance(group, BaseExceptionGroup):
        group = group.exceptions[0]
    assert isinstance(group, MCPError), repr(group)
    return str(group)


def test_a_refusal_at_the_door_reaches_the_agent_with_its_reason(coop):
    """A revoked or unknown key, or a body over [limits] max_body_kb, was answered with
    Commune's {"detail", "code"}: the SDK's client reads a refused request's body only when it
    is a JSON-RPC error, and told the agent "Server returned an error response"."""
    import httpx2

    from commune.api.app import create_app
    from commune.govern.members import list_keys, revoke_key

    commune, ann, _ = coop
    gone = make_key(commune, "gail", "Ville A")
    with commune.engine.begin() as conn:
        revoke_key(conn, max(k["id"] for k in list_keys(conn) if k["user"] == "gail"))
    with serve(create_app(commune)) as base:

        async def refused(key: str, arguments: dict, language: str = "fr") -> str:
            headers = {"Authorization": f"Bearer {key}", "Accept-Language": language}
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                with pytest.raises(BaseException) as raised:
                    transport = streamable_http_client(f"{base}/mcp", http_client=http)
                    async with Client(transport, cache=None) as c:
                        await c.call_tool("search", arguments)
            return _refusal(raised.value)

        async def run() -> None:
            assert "cette clé d'API a été révoquée" in await refused(gone, {"query": "x"})
            assert "unknown API key" in await refused("cmn_0000_" + "x" * 32, {}, "en")
            huge = await refused(ann, {"query": "piscine " * 150_000})
            assert huge.startswith("le corps de la requête dépasse 1 Mo ([limits] max_body_kb)")

        asyncio.run(run())


def test_an_agent_of_a_sessionless_protocol_is_not_cut_off_after_32_calls(coop):
    """The SDK's client (protocol 2026-07-28) sends every request without a session id, and
    each was counted as a new session: the 33rd call in ten minutes was refused with "too many
    MCP sessions". A tool's wrong argument is said in one line, in the agent's language."""
    import httpx2

    from commune.api.app import create_app
    from commune.api.mcp import SESSIONS_PER_KEY

    commune, ann, _ = coop
    with serve(create_app(commune)) as base:

        async def run() -> None:
            headers = {"Authorization": f"Bearer {ann}", "Accept-Language": "en"}
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                transport = streamable_http_client(f"{base}/mcp", http_client=http)
                async with Client(transport, cache=None) as c:
                    for _ in range(SESSIONS_PER_KEY + 3):
                        text_of(await c.call_tool("list_collections", {}))
                    wrong = await c.call_tool("get_document", {"document_id": "abc"})
                    assert wrong.is_error
                    assert wrong.content[0].text == (
                        "Error executing tool get_document: document_id: an integer is expected"
                    )

        asyncio.run(run())


def test_a_failure_of_ours_reaches_the_agent_named_with_its_incident(coop, monkeypatch, caplog):
    """A busy database (another process writing past the 30 s wait) told the agent only
    "Error executing tool search", or "Error creating resource from template …" for a
    document, in English: neither what happened nor whether to retry. Now as the API's 500:
    the fault named, or an incident number, in the agent's language; the traceback in the
    operator's log under that number."""
    import sqlite3

    from mcp.shared.exceptions import MCPError
    from sqlalchemy.exc import OperationalError

    from commune.account.metering import Metering
    from commune.api.mcp import actor_from_key, build_server
    from commune.core import Commune

    commune, ann, _ = coop

    def locked(*args, **kwargs):  # type: ignore[no-untyped-def]
        cause = sqlite3.OperationalError("database is locked")
        raise OperationalError("INSERT INTO usage", {}, cause)

    def on_fire(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire at /srv/secret")

    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    async def run() -> list[str]:
        said = []
        async with Client(server) as c:
            for tool, arguments in (
                ("search", {"query": "piscine"}),
                ("ask", {"question": "Quand ont lieu les cours de natation ?"}),
                ("get_document", {"document_id": 1}),
                ("list_collections", {}),
            ):
                r = await c.call_tool(tool, arguments)
                assert r.is_error, r.content
                said.append(r.content[0].text)
            with pytest.raises(MCPError) as refused:
                await c.read_resource("commune://documents/1")
            said.append(str(refused.value))
        return said

    with monkeypatch.context() as m, caplog.at_level("ERROR", logger="commune.api"):
        m.setattr(Metering, "record_usage", locked)
        m.setenv("LANG", "fr_FR.UTF-8")  # over stdio (and here) the server's locale
        french = asyncio.run(run())
        m.setenv("LANG", "en_GB.UTF-8")
        english = asyncio.run(run())
    for line in french:
        assert "la base du serveur est occupée" in line and "(incident " in line, line
    for line in english:
        assert "the server's database is busy" in line and "(incident " in line, line
    for line in french + english:
        number = line.split("(incident ")[1].split(")")[0]
        assert any(number in r.getMessage() and r.exc_info for r in caplog.records), number
        assert "INSERT" not in line and "\n" not in line
    monkeypatch.setattr(Commune, "search", on_fire)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")

    async def crash() -> str:
        async with Client(server) as c:
            r = await c.call_tool("search", {"query": "piscine"})
            assert r.is_error
            return r.content[0].text

    said = asyncio.run(crash())
    assert "erreur interne (incident " in said and "/srv/secret" not in said, said


def test_an_agent_is_not_handed_what_the_charter_keeps_out_of_answers(coop, tmp_path, monkeypatch):
    """`ask` leaves out of answers a document whose rights holder opted out of text and data
    mining, and one whose licence forbids the member's declared (commercial) use; its charter
    refuses some questions. An agent's `search` handed it all the same, and `get_document` the
    whole text, so that the agent wrote the answer the charter refused by asking `search`
    instead of `ask`. Now each is withheld with its reason, in the agent's language, as the
    peers' searches are."""
    from mcp.shared.exceptions import MCPError

    from commune.api.mcp import actor_from_key, build_server
    from commune.govern.members import add_member

    commune, ann, _ = coop
    with commune.engine.begin() as conn:
        add_member(conn, "Société D", "other", declared_use="commercial")
    dan = make_key(commune, "dan", "Société D")
    reserved, nc = tmp_path / "reserved", tmp_path / "nc"
    for d in (reserved, nc):
        d.mkdir()
    (reserved / "horaires.txt").write_text(
        "Les horaires d'été de la piscine municipale commencent le premier juillet."
    )
    (nc / "tarifs.txt").write_text(
        "Le tarif de la piscine municipale est de trois euros pour les adultes."
    )
    commune.add([reserved], collection="shared", licence="etalab-2.0", tdm_reserved=True)
    commune.add([nc], collection="shared", licence="CC-BY-NC-4.0")
    ids = {d["title"][:20]: d["id"] for d in commune.documents("shared")}
    reserved_id = next(i for t, i in ids.items() if t.startswith("Les horaires"))
    nc_id = next(i for t, i in ids.items() if t.startswith("Le tarif"))
    (commune.settings.home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "candidats"\nwords = ["évaluer un '
        'candidat"]\nmessage_fr = "Pas d\'évaluation de candidats."\nmessage_en = "No '
        'evaluation of candidates."\n'
    )

    async def run(key: str) -> dict:
        server = build_server(commune, lambda ctx: actor_from_key(commune, key))
        seen: dict = {}
        async with Client(server) as c:
            found = data_of(await c.call_tool("search", {"query": "piscine"}))
            seen["hits"] = {h["document_id"] for h in found["hits"]}
            seen["withheld"] = {w["document_id"]: w["reason"] for w in found["withheld"]}
            refused = await c.call_tool("search", {"query": "comment évaluer ce candidat"})
            seen["refused"] = data_of(refused)
            for n in (reserved_id, nc_id):
                r = await c.call_tool("get_document", {"document_id": n})
                seen[n] = r.content[0].text if r.is_error else "given"
                try:
                    await c.read_resource(f"commune://documents/{n}")
                    seen[f"resource {n}"] = "given"
                except MCPError as exc:
                    seen[f"resource {n}"] = str(exc)
        return seen

    town = asyncio.run(run(ann))  # a non-commercial member: only the opt-out is withheld
    assert reserved_id not in town["hits"] and nc_id in town["hits"], town
    assert town["withheld"] == {
        reserved_id: "its rights holder reserved text and data mining (TDM opt-out)"
    }
    assert town[reserved_id].endswith(
        f"document {reserved_id} is not given to agents: its rights holder opted out of text "
        "and data mining (a person may read it on the cooperative's site)"
    ), town[reserved_id]
    assert town[f"resource {reserved_id}"].startswith(f"document {reserved_id} is not given")
    assert town[nc_id] == "given" and town[f"resource {nc_id}"] == "given"
    assert (
        town["refused"]["hits"] == []
        and "No evaluation of candidates." in (town["refused"]["refused"])
    )

    company = asyncio.run(run(dan))  # its declared commercial use: the NC licence too
    assert not {reserved_id, nc_id} & company["hits"]
    assert "forbids commercial use" in company["withheld"][nc_id]
    assert company[nc_id].endswith(
        "its licence CC-BY-NC-4.0 forbids commercial use, which your member declared"
    )
    with commune.engine.connect() as conn:
        routes = dict(
            conn.exec_driver_sql(
                "select mode, count(*) from usage where route = 'mcp/search' group by mode"
            ).all()
        )
    assert routes.get("refused") == 2  # a refused search is a request too, in the ledger
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # over stdio (and here) the server's locale
    french = asyncio.run(run(dan))
    assert french["withheld"][nc_id] == (
        "sa licence CC-BY-NC-4.0 interdit l'usage commercial, que votre membre a déclaré"
    )
    assert french[reserved_id].endswith(
        f"le document {reserved_id} n'est pas remis aux agents\u00a0: son ayant droit s'est "
        "opposé à la fouille de textes et de données (une personne peut le lire sur le site de "
        "la coopérative)"
    ), french[reserved_id]
    assert "Pas d'évaluation de candidats." in french["refused"]["refused"]


def test_an_agents_search_the_charter_refuses_is_refused_before_its_quota(coop):
    """An agent's search the charter refuses was admitted against the quota first (unlike
    `ask` and the peers' search): over its quota the agent was told "quota" instead of the
    charter's reason. Refused first now, it is a row of the ledger as a refused question is,
    and holds no place in the quota."""
    from commune.api.mcp import actor_from_key, build_server

    commune, _, _ = coop
    cleo = make_key(commune, "cleo", "Ville C")  # her member answers 3 requests a day
    (commune.settings.home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "candidats"\nwords = ["évaluer un '
        'candidat"]\nmessage_fr = "Pas d\'évaluation de candidats."\nmessage_en = "No '
        'evaluation of candidates."\n'
    )
    refused = {"query": "comment évaluer un candidat"}

    async def run() -> dict:  # type: ignore[type-arg]
        server = build_server(commune, lambda ctx: actor_from_key(commune, cleo))
        seen: dict = {}  # type: ignore[type-arg]
        async with Client(server) as c:
            for n in range(3):
                seen[n] = data_of(await c.call_tool("search", {"query": "piscine"}))["hits"]
            over = await c.call_tool("search", {"query": "piscine"})
            seen["over"] = over.is_error and over.content[0].text
            said = await c.call_tool("search", refused)
            seen["refused"] = said.content[0].text if said.is_error else data_of(said)
        return seen

    seen = asyncio.run(run())
    assert seen[2] and "quota of 3 requests per day" in seen["over"], seen
    assert isinstance(seen["refused"], dict), seen["refused"]  # not the quota's error
    assert seen["refused"]["hits"] == [] and seen["refused"]["withheld"] == []
    assert "No evaluation of candidates." in seen["refused"]["refused"]
    with commune.engine.connect() as conn:
        modes = conn.exec_driver_sql(
            "select mode from usage where route = 'mcp/search' order by id"
        ).scalars()
        assert list(modes) == ["search"] * 3 + ["refused"]
        assert conn.exec_driver_sql("select count(*) from quota_holds").scalar() == 0


def test_an_agents_refused_search_names_no_collection_it_never_looked_up(coop):
    """The charter refuses an agent's search before its collection is looked up: the name
    the agent sent (one it may not read, one that is not there, one too long for the
    ledger's column on PostgreSQL) is no collection of the ledger's row, as it was before
    the refusal skipped the quota; the peers' refused searches name none either."""
    from commune.govern.members import authenticate

    commune, _, bob = coop
    (commune.settings.home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "candidats"\nwords = ["évaluer un '
        'candidat"]\nmessage_fr = "Pas d\'évaluation de candidats."\nmessage_en = "No '
        'evaluation of candidates."\n'
    )
    with commune.engine.connect() as conn:
        actor = authenticate(conn, bob)
    for named in ("privee-a", "nulle-part", "x" * 300):
        found = commune.search_for_agent(
            "comment évaluer un candidat", collection=named, actor=actor, record="mcp/search"
        )
        assert found["hits"] == [] and "candidats" in found["refused"]
    with commune.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "select mode, collection from usage where route = 'mcp/search'"
        ).all()
    assert [tuple(r) for r in rows] == [("refused", None)] * 3


def test_an_agents_refused_search_frees_no_place_another_request_holds(coop):
    """The refused search was never admitted, so its ledger row frees no hold (held=False):
    written as an admitted one's, it freed the place of the agent's request still at work,
    which a third then took past the quota. test_an_agents_search_the_charter_refuses_is_
    refused_before_its_quota counts no hold left, which it reads alike either way."""
    from commune.govern.members import authenticate

    commune, _, _ = coop
    cleo = make_key(commune, "cleo", "Ville C")  # her member answers 3 requests a day
    (commune.settings.home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "candidats"\nwords = ["évaluer un '
        'candidat"]\nmessage_fr = "Pas d\'évaluation de candidats."\nmessage_en = "No '
        'evaluation of candidates."\n'
    )
    with commune.engine.connect() as conn:
        actor = authenticate(conn, cleo)
    commune.metering.admit(actor)  # her other request, admitted and still at work
    found = commune.search_for_agent(
        "comment évaluer un candidat", actor=actor, record="mcp/search"
    )
    assert "candidats" in found["refused"]
    with commune.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from quota_holds").scalar() == 1


def test_an_agent_whose_members_use_the_charter_excludes_is_handed_no_document(coop, monkeypatch):
    """A charter rule on a declared use (``uses = ["commercial"]``) refuses every question
    and every search of that member's agents, yet `get_document` and the resource handed
    them each document whole: the agent read the commons the charter keeps from it, one id
    after the other, instead of searching."""
    from mcp.shared.exceptions import MCPError

    from commune.api.mcp import actor_from_key, build_server
    from commune.govern.members import add_member

    commune, ann, _ = coop
    with commune.engine.begin() as conn:
        add_member(conn, "Société D", "other", declared_use="commercial")
    dan = make_key(commune, "dan", "Société D")
    (commune.settings.home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "service-public"\nuses = ["commercial"]\n'
        'message_fr = "La charte réserve l\'assistant aux usages non commerciaux."\n'
        'message_en = "The charter keeps the assistant to non-commercial uses."\n'
    )
    doc_id = commune.documents("shared")[0]["id"]

    async def run(key: str) -> dict:  # type: ignore[type-arg]
        server = build_server(commune, lambda ctx: actor_from_key(commune, key))
        seen: dict = {}  # type: ignore[type-arg]
        async with Client(server) as c:
            found = await c.call_tool("search", {"query": "piscine"})
            seen["search"] = data_of(found).get("refused")
            r = await c.call_tool("get_document", {"document_id": doc_id})
            seen["document"] = r.content[0].text if r.is_error else "given"
            try:
                await c.read_resource(f"commune://documents/{doc_id}")
                seen["resource"] = "given"
            except MCPError as exc:
                seen["resource"] = str(exc)
        return seen

    town = asyncio.run(run(ann))  # a use the charter leaves alone
    assert town == {"search": None, "document": "given", "resource": "given"}, town
    company = asyncio.run(run(dan))
    assert "non-commercial uses" in company["search"]
    for face in ("document", "resource"):
        assert f"document {doc_id} is not given to agents" in company[face], company
        assert "The charter keeps the assistant to non-commercial uses." in company[face]
        assert "your member's declared use (commercial)" in company[face]
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # over stdio (and here) the server's locale
    french = asyncio.run(run(dan))
    for face in ("document", "resource"):
        assert (
            f"le document {doc_id} n'est pas remis aux agents\u00a0: La charte réserve "
            "l'assistant aux usages non commerciaux." in french[face]
        ), french
        assert "(une personne peut le lire sur le site de la coopérative)" in french[face]


def test_an_agent_whose_members_use_the_charter_excludes_lists_nothing_in_one_page(
    coop, tmp_path, monkeypatch
):
    """The charter refuses a declared use every document: `resources/list` gave that
    member's agent empty pages, each naming the next, over the whole commons (a commons of
    10,000 documents, 100 requests off its quota) to list nothing. It gives one empty page
    now, with no cursor."""
    import commune.api.mcp as mcp_module
    from commune.api.mcp import actor_from_key, build_server
    from commune.govern.members import add_member

    commune, ann, _ = coop
    with commune.engine.begin() as conn:
        add_member(conn, "Société D", "other", declared_use="commercial")
    dan = make_key(commune, "dan", "Société D")
    more = tmp_path / "more"
    more.mkdir()
    (more / "horaires.txt").write_text("Les horaires d'été de la piscine municipale.")
    commune.add([more], collection="shared", licence="etalab-2.0")
    (commune.settings.home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "service-public"\nuses = ["commercial"]\n'
        'message_fr = "La charte réserve l\'assistant aux usages non commerciaux."\n'
        'message_en = "The charter keeps the assistant to non-commercial uses."\n'
    )
    # Three documents, two shared: one a page, Ann's three pages and Dan's two.
    monkeypatch.setattr(mcp_module, "DOCUMENTS_PER_PAGE", 1)

    async def listed(key: str) -> list[tuple[int, str | None]]:
        server = build_server(commune, lambda ctx: actor_from_key(commune, key))
        pages: list[tuple[int, str | None]] = []
        async with Client(server, cache=None) as c:
            cursor = None
            while not pages or cursor is not None:
                page = await c.list_resources(cursor=cursor)
                cursor = page.next_cursor
                pages.append((len(page.resources), cursor))
        return pages

    assert [n for n, _ in asyncio.run(listed(ann))] == [1, 1, 1]  # a use the charter allows
    assert asyncio.run(listed(dan)) == [(0, None)]
    with commune.engine.connect() as conn:
        listings = conn.exec_driver_sql(
            "select count(*) from usage where route = 'mcp/resources'"
        ).scalar()
    assert listings == 3 + 1  # Ann's three pages, Dan's one


def test_the_tools_schemas_say_what_each_argument_takes(commune, monkeypatch):
    """`ask`'s mode was any string to its schema (the tool alone refused a fourth value), and
    no argument said what it was: an agent reads the schemas, nothing else, before it calls.
    The server's version was empty."""
    import commune as package
    from commune.api.mcp import build_server
    from commune.govern.policy import OPERATOR

    server = build_server(commune, lambda ctx: OPERATOR)

    async def run() -> tuple[dict, str, str]:  # type: ignore[type-arg]
        async with Client(server) as c:
            assert c.server_info is not None and c.server_info.version == package.__version__
            schemas = {t.name: t.input_schema for t in (await c.list_tools()).tools}
            wrong = await c.call_tool("ask", {"question": "piscine", "mode": "génératif"})
            assert wrong.is_error
            monkeypatch.setenv("LANG", "fr_FR.UTF-8")
            mauvais = await c.call_tool("ask", {"question": "piscine", "mode": "génératif"})
            return schemas, wrong.content[0].text, mauvais.content[0].text

    schemas, wrong, mauvais = asyncio.run(run())
    assert schemas["ask"]["properties"]["mode"]["enum"] == ["auto", "extractive", "generate"]
    for tool, schema in schemas.items():
        for name, argument in schema["properties"].items():
            assert argument.get("description"), (tool, name)
    assert wrong == (
        "Error executing tool ask: mode: must be 'auto', 'extractive' or 'generate'"
    ), wrong
    assert mauvais.endswith("mode\u00a0: doit être 'auto', 'extractive' ou 'generate'"), mauvais


def test_an_empty_collection_is_every_one_the_agent_may_read(coop):
    """A model filling in a tool's optional arguments often sends "" for "no value": it was
    told "no collection named ''" and its search or question went unanswered."""
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    async def run() -> tuple[dict, dict]:  # type: ignore[type-arg]
        async with Client(server) as c:
            found = await c.call_tool("search", {"query": "budget piscine", "collection": ""})
            said = await c.call_tool(
                "ask", {"question": "Quel est le budget de la piscine ?", "collection": " "}
            )
            return data_of(found), data_of(said)

    found, said = asyncio.run(run())
    assert {h["collection"] for h in found["hits"]} == {"privee-a", "shared"}
    assert said["found"] and "41 000" in said["text"]


def test_a_long_document_comes_in_parts_an_agent_can_read(commune, tmp_path):
    """A 100-page document's text (about 80,000 tokens) came whole in one result, past what
    hosts take (Claude Code, past 25,000 tokens, hands the model a file reference instead):
    the agent read none of it. It comes in parts now, each saying where the next begins."""
    from commune.api.mcp import TEXT_PART_CHARS, build_server
    from commune.govern.policy import OPERATOR

    long = tmp_path / "long"
    long.mkdir()
    text = " ".join(
        f"Article {n}. Le conseil municipal délibère sur la question numéro {n} du registre."
        for n in range(1300)
    )
    (long / "registre.txt").write_text(text)
    commune.add([long], collection="shared", licence="etalab-2.0")
    doc_id = commune.documents("shared")[0]["id"]
    whole = commune.document(doc_id)["text"]
    assert len(whole) > 2 * TEXT_PART_CHARS
    server = build_server(commune, lambda ctx: OPERATOR)

    async def run() -> tuple[list[dict], dict, dict]:  # type: ignore[type-arg]
        parts, offset = [], 0
        async with Client(server) as c:
            while offset is not None:
                said = await c.call_tool("get_document", {"document_id": doc_id, "offset": offset})
                parts.append(data_of(said))
                offset = parts[-1]["next_offset"]
            small = await c.call_tool(
                "get_document", {"document_id": doc_id, "offset": 10, "max_chars": 5}
            )
            past = await c.call_tool(
                "get_document", {"document_id": doc_id, "offset": len(whole) + 7}
            )
            return parts, data_of(small), data_of(past)

    parts, small, past = asyncio.run(run())
    assert len(parts) == -(-len(whole) // TEXT_PART_CHARS) > 2
    assert all(p["text_chars"] == len(whole) for p in parts)
    assert all(len(p["text"]) <= TEXT_PART_CHARS for p in parts)
    assert "".join(p["text"] for p in parts) == whole
    assert small["text"] == whole[10:15] and small["next_offset"] == 15
    assert past["text"] == "" and past["next_offset"] is None


def test_an_mcp_sessions_owner_is_kept_while_a_stream_holds_it_open():
    """The SDK keeps a session as long as a request (a standing GET stream) is open, and for
    its idle time after the last one ends. Counted from when requests began, the owner's
    record was forgotten under a stream open for over ten minutes, and any key holding the id
    was served again. Times are given, not read from the clock."""
    from commune.api.mcp import SessionOwners

    owners = SessionOwners(600)
    owners.opened("s", "ann", now=0)
    owners.begin("s")  # ann's GET stream, open for an hour
    owners.opened("other", "bob", now=3600)  # a later session: prunes what is gone
    assert not owners.allows("s", "bob") and owners.allows("s", "ann")
    owners.end("s", now=3600)  # the stream ends: the SDK's idle time starts now
    owners.opened("third", "bob", now=3600 + 1000)
    assert not owners.allows("s", "bob")  # within twice the idle time: still ann's
    owners.opened("fourth", "bob", now=3600 + 1300)
    assert owners.allows("s", "bob")  # long gone: the SDK finds it unknown (answered 404)


def test_an_mcp_session_serves_only_the_key_that_opened_it(coop, caplog):
    """The SDK ties a session to its opener only through scope["user"], which Commune did not
    set: Bob, holding Ann's session id, could end her session or read its stream. And the SDK
    logged every session id (a secret, with a key) at INFO."""
    import logging

    import httpx2

    from commune.api.app import create_app
    from commune.govern.members import create_key

    commune, ann, bob = coop
    caplog.set_level(logging.INFO)
    with serve(create_app(commune)) as base:
        url = f"{base}/mcp"
        accept = {
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        }

        def as_(key: str, session: str | None = None, language: str = "fr") -> dict[str, str]:
            headers = {**accept, "Authorization": f"Bearer {key}", "Accept-Language": language}
            return {**headers, "mcp-session-id": session} if session else headers

        opened = httpx2.post(url, json=INITIALIZE, headers=as_(ann), timeout=60)
        assert opened.status_code == 200, opened.text
        session = opened.headers["mcp-session-id"]
        # Bob can neither end it nor listen to it: one line, in his language.
        for method, language, said in (
            ("DELETE", "fr", "aucune session MCP de cet identifiant pour cette clé"),
            ("GET", "en", "no MCP session with this id for this key: open a new one"),
        ):
            r = httpx2.request(method, url, headers=as_(bob, session, language), timeout=60)
            assert r.status_code == 404 and r.json()["detail"].startswith(said), r.text
        # Nor can Ann's own second key (her other agent's): a session is its key's, not its
        # person's (api/mcp.SessionOwners says why).
        with commune.engine.begin() as conn:
            laptop = create_key(conn, "ann", "laptop")[1]
        r = httpx2.get(url, headers=as_(laptop, session, "en"), timeout=60)
        assert r.status_code == 404, r.text
        # Ann still can, with the key that opened it: her session lives on, and she ends it.
        done = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        r = httpx2.post(url, json=done, headers=as_(ann, session), timeout=60)
        assert r.status_code == 202, r.text
        assert httpx2.delete(url, headers=as_(ann, session), timeout=60).status_code == 200
    assert session not in caplog.text


def test_tools_give_objects_and_a_text_to_read_not_json_in_a_string(coop, monkeypatch):
    """Each tool's result was its JSON inside a text content: a host got a string to decode
    again, and one that shows text showed JSON. Now the objects come as structuredContent,
    checked against each tool's output schema, and the text is written to be read, with the
    ids and offsets an agent needs for its next call."""
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))
    private_id = next(d["id"] for d in commune.documents("privee-a"))

    async def run() -> dict:  # type: ignore[type-arg]
        seen: dict = {}  # type: ignore[type-arg]
        async with Client(server) as c:
            seen["schemas"] = {t.name: t.output_schema for t in (await c.list_tools()).tools}
            for name, arguments in (
                ("search", {"query": "budget piscine", "k": 3}),
                ("ask", {"question": "Quel est le budget de la piscine ?"}),
                ("get_document", {"document_id": private_id, "max_chars": 20}),
                ("list_collections", {}),
            ):
                seen[name] = await c.call_tool(name, arguments)
        return seen

    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # over stdio (and here) the server's locale
    seen = asyncio.run(run())
    for name in ("search", "ask", "get_document", "list_collections"):
        schema = seen["schemas"][name]
        assert schema and schema["type"] == "object", (name, schema)
        text = text_of(seen[name])
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)  # not JSON: text to read
    search = data_of(seen["search"])
    hit = next(h for h in search["hits"] if h["document_id"] == private_id)
    assert "41 000" in hit["text"] and hit["collection"] == "privee-a"
    assert search["withheld"] == []
    said = text_of(seen["search"])
    assert f"document {private_id}" in said and "41 000" in said and "privee-a" in said
    answer = data_of(seen["ask"])
    assert answer["found"] and "41 000" in answer["text"] and answer["energy"]["wh"] > 0
    assert answer["sources"][0]["document_id"] == private_id
    said = text_of(seen["ask"])
    assert said.startswith(answer["text"]) and f"(document {private_id})" in said
    assert "Sources\u00a0:" in said
    part = data_of(seen["get_document"])
    assert part["id"] == private_id and part["next_offset"] == 20 and len(part["text"]) == 20
    assert part["text_chars"] > 20 and part["licence"] == "etalab-2.0"
    said = text_of(seen["get_document"])
    assert part["text"] in said and "offset=20" in said and "get_document" in said
    collections = data_of(seen["list_collections"])["collections"]
    assert {c["name"] for c in collections} == {"shared", "privee-a"}
    assert all(c["documents"] >= 1 for c in collections)
    assert "privee-a (" in text_of(seen["list_collections"])
    # In French words and plurals: « privee-a (private) : 1 document(s) » read as English and
    # as a form to fill in.
    said = text_of(seen["list_collections"]).splitlines()
    words = {"private": "privée", "shared": "partagée", "public": "publique"}
    for c in collections:
        n = c["documents"]
        line = f"{c['name']} ({words[c['visibility']]})\u00a0: {n} document{'s' * (n > 1)}"
        assert line in said, said
    hits = len(search["hits"])
    assert text_of(seen["search"]).startswith(f"{hits} passage{'s' * (hits > 1)}\u00a0:\n")


def test_an_answers_text_names_a_peers_source_by_its_peer_not_a_stand_in_id():
    """A peer cooperative's source has a negative stand-in id here (answering/federation.py),
    which get_document refuses: the answer's text sent the agent to "(document -1)". It
    names the peer now; this home's sources keep their number."""
    from commune.api.mcp_results import answer_text

    peer = {
        "n": 1,
        "document_id": -1,
        "title": "Horaires",
        "licence": "CC-BY-4.0",
        "attribution": "« Horaires », CC-BY-4.0 — horaires.txt — via ville-b",
        "origin": {"peer": "ville-b", "document_id": 12},
    }
    bare = {**peer, "n": 2, "document_id": -2, "attribution": None}
    own = {**peer, "n": 3, "document_id": 7, "attribution": None, "origin": None}
    said = answer_text(
        {"text": "…", "sources": [peer, bare, own], "energy": {"summary": "1 mWh"}}, "en"
    )
    lines = said.splitlines()
    assert "(document -" not in said, said
    assert "[1] « Horaires », CC-BY-4.0 — horaires.txt — via ville-b" in lines
    assert "[2] Horaires, CC-BY-4.0 (via ville-b)" in lines
    assert "[3] Horaires, CC-BY-4.0 (document 7)" in lines


def test_an_answers_text_is_in_the_agents_language_whatever_the_questions(coop, monkeypatch):
    """The text of `ask` put its labels in the agent's language and the energy's summary in
    the answer's: an English agent asking in French read "Energy: 1,66 mWh, … estimée (temps
    CPU x 12 W par cœur, …)". The summary is the agent's too; the object keeps the answer's."""
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    async def run():  # type: ignore[no-untyped-def]
        async with Client(server) as c:
            return await c.call_tool("ask", {"question": "Quel est le budget de la piscine ?"})

    monkeypatch.setenv("LANG", "en_GB.UTF-8")  # over stdio (and here) the server's locale
    said = asyncio.run(run())
    answer, text = data_of(said), text_of(said)
    assert answer["language"] == "fr" and "estimée" in answer["energy"]["summary"]
    energy = text.splitlines()[-1]
    assert energy.startswith("Energy: ") and "estimated" in energy, energy
    assert "estimée" not in energy and "temps CPU" not in energy, energy


def test_resources_list_gives_the_documents_the_keys_agent_may_read_a_page_at_a_time(
    coop, tmp_path, monkeypatch
):
    """`resources/list` gave nothing: an agent learnt of documents only by searching. Now it
    lists those its key's person may be handed, as `get_document` decides (never another
    member's private ones, nor those the charter or their licence keeps from agents), a page
    at a time behind the protocol's cursor."""
    from mcp.shared.exceptions import MCPError

    import commune.api.mcp as mcp_module
    from commune.api.mcp import actor_from_key, build_server
    from commune.govern.members import add_member

    commune, ann, bob = coop
    with commune.engine.begin() as conn:
        add_member(conn, "Société D", "other", declared_use="commercial")
    dan = make_key(commune, "dan", "Société D")
    reserved, nc = tmp_path / "reserved", tmp_path / "nc"
    for d in (reserved, nc):
        d.mkdir()
    (reserved / "horaires.txt").write_text("Les horaires d'été de la piscine municipale.")
    (nc / "tarifs.txt").write_text("Le tarif de la piscine municipale est de trois euros.")
    commune.add([reserved], collection="shared", licence="etalab-2.0", tdm_reserved=True)
    commune.add([nc], collection="shared", licence="CC-BY-NC-4.0")
    ids = {d["title"][:10]: d["id"] for d in commune.documents()}
    private = next(i for t, i in ids.items() if t.startswith("Le budget"))
    reserved_id = next(i for t, i in ids.items() if t.startswith("Les horair"))
    nc_id = next(i for t, i in ids.items() if t.startswith("Le tarif"))
    pool = next(i for t, i in ids.items() if i not in (private, reserved_id, nc_id))
    monkeypatch.setattr(mcp_module, "DOCUMENTS_PER_PAGE", 2)  # four documents: two pages

    async def listed(key: str) -> tuple[list[int], int]:
        server = build_server(commune, lambda ctx: actor_from_key(commune, key))
        uris, pages, cursor = [], 0, None
        async with Client(server, cache=None) as c:
            while pages == 0 or cursor is not None:
                page = await c.list_resources(cursor=cursor)
                uris += [str(r.uri) for r in page.resources]
                cursor, pages = page.next_cursor, pages + 1
            with pytest.raises(MCPError) as wrong:
                await c.list_resources(cursor="page-two")
            assert "nextCursor" in str(wrong.value) and "\n" not in str(wrong.value)
            for uri in uris:  # each one listed is one the agent may read
                assert (await c.read_resource(uri)).contents[0].text
        return [int(u.rsplit("/", 1)[1]) for u in uris], pages

    assert asyncio.run(listed(ann)) == ([pool, private, nc_id], 2)  # her member's own too
    assert asyncio.run(listed(bob)) == ([pool, nc_id], 2)  # not Ville A's private document
    assert asyncio.run(listed(dan)) == ([pool], 2)  # its commercial use: not the NC one
    with commune.engine.connect() as conn:
        listings = conn.exec_driver_sql(
            "select count(*) from usage where route = 'mcp/resources'"
        ).scalar()
    assert listings == 3 * 2  # a request like any other: two pages each (a wrong cursor: none)


def test_a_document_leaving_the_listing_between_two_pages_moves_none_of_the_others(
    coop, tmp_path, monkeypatch
):
    """The cursor was a count of the documents before the next page: a document retired
    between two pages moved every later one back a place, and the first of the next page was
    never listed. The cursor is now the id the next page starts after."""
    import commune.api.mcp as mcp_module
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    more = tmp_path / "more"
    more.mkdir()
    (more / "horaires.txt").write_text("Les horaires d'été de la piscine municipale.")
    (more / "tarifs.txt").write_text("Le tarif de la piscine municipale est de trois euros.")
    commune.add([more], collection="shared", licence="etalab-2.0")
    ids = [d["id"] for d in commune.documents()]
    assert len(ids) == 4
    monkeypatch.setattr(mcp_module, "DOCUMENTS_PER_PAGE", 2)
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    async def run() -> tuple[list[str], list[str]]:
        async with Client(server, cache=None) as c:
            first = await c.list_resources()
            assert first.next_cursor is not None
            commune.retire(ids[0], "remplacé")  # the first page's first document leaves
            second = await c.list_resources(cursor=first.next_cursor)
            assert second.next_cursor is None
            return [str(r.uri) for r in first.resources], [str(r.uri) for r in second.resources]

    first, second = asyncio.run(run())
    uri = "commune://documents/{}".format
    assert first == [uri(ids[0]), uri(ids[1])]
    assert second == [uri(ids[2]), uri(ids[3])], second  # the third was left out


def test_resources_list_gives_a_curator_only_what_is_published(commune, corpus, tmp_path):
    """A curator's (and the operator's) list of documents holds what waits for curation and
    what was retired, which no agent may read: `resources/list` lists neither, only what
    `get_document` gives."""
    from commune.api.mcp import build_server
    from commune.govern.policy import OPERATOR

    commune.add([corpus / "pool.txt"], collection="shared", licence="etalab-2.0")
    retired, waiting = tmp_path / "retired", tmp_path / "waiting"
    for d in (retired, waiting):
        d.mkdir()
    (retired / "ancien.txt").write_text("L'ancien règlement de la piscine municipale.")
    (waiting / "nouveau.txt").write_text("Le nouveau règlement de la piscine municipale.")
    commune.add([retired], collection="shared", licence="etalab-2.0")
    old_id = max(d["id"] for d in commune.documents())
    commune.retire(old_id, "remplacé")
    commune.set_curation_rules("shared", 1, "curator")
    commune.add([waiting], collection="shared", licence="etalab-2.0")  # held for an approval
    listed = {d["id"]: d["status"] for d in commune.documents()}  # the operator's list
    assert len(listed) == 3 and listed[old_id] != "published", listed
    assert any(d["published_revision_id"] is None for d in commune.documents())
    server = build_server(commune, lambda ctx: OPERATOR)

    async def run() -> list[str]:
        async with Client(server, cache=None) as c:
            return [str(r.uri) for r in (await c.list_resources()).resources]

    pool = min(listed)  # the only one published: the first added
    assert asyncio.run(run()) == [f"commune://documents/{pool}"]


def test_a_resource_refused_is_not_said_to_be_the_servers_fault(coop, tmp_path):
    """A document the charter keeps from agents, or a read past the member's quota, came as
    JSON-RPC's "internal error" (-32603), the code of a server's fault, which a host shows as
    the server failing and may retry: the request is refused, as resources/list says it."""
    from mcp.shared.exceptions import MCPError
    from mcp_types import INTERNAL_ERROR, INVALID_REQUEST

    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    reserved = tmp_path / "reserved"
    reserved.mkdir()
    (reserved / "horaires.txt").write_text("Les horaires d'été de la piscine municipale.")
    commune.add([reserved], collection="shared", licence="etalab-2.0", tdm_reserved=True)
    reserved_id = max(d["id"] for d in commune.documents())
    pool_id = min(d["id"] for d in commune.documents())
    cleo = make_key(commune, "cleo", "Ville C")  # three requests a day

    async def refused(key: str, document_id: int, reads: int) -> MCPError:
        server = build_server(commune, lambda ctx: actor_from_key(commune, key))
        async with Client(server, cache=None) as c:
            for _ in range(reads - 1):
                await c.read_resource(f"commune://documents/{document_id}")
            with pytest.raises(MCPError) as wrong:
                await c.read_resource(f"commune://documents/{document_id}")
        return wrong.value

    tdm = asyncio.run(refused(ann, reserved_id, 1))
    quota = asyncio.run(refused(cleo, pool_id, 4))
    assert "is not given to agents" in str(tdm) and "quota" in str(quota), (tdm, quota)
    for error in (tdm, quota):
        assert error.error.code == INVALID_REQUEST != INTERNAL_ERROR, error.error


def test_a_long_documents_resource_comes_in_parts_each_naming_the_next(commune, tmp_path):
    """`commune://documents/{id}` gave a document's text whole: a 100-page manual in one
    message, past what a host attaches or its model reads, while `get_document` gave it in
    parts. The resource gives a part too, from the offset its URI names, and its last line
    names the next part's URI (and the get_document call for it)."""
    import re

    from mcp.shared.exceptions import MCPError

    from commune.api.mcp import TEXT_PART_CHARS, build_server
    from commune.govern.policy import OPERATOR

    long = tmp_path / "long"
    long.mkdir()
    (long / "registre.txt").write_text(
        " ".join(f"Article {n}. Le conseil délibère sur la question {n}." for n in range(2000))
    )
    commune.add([long], collection="shared", licence="etalab-2.0")
    doc_id = commune.documents("shared")[0]["id"]
    whole = commune.document(doc_id)["text"]
    assert len(whole) > 2 * TEXT_PART_CHARS
    server = build_server(commune, lambda ctx: OPERATOR)

    async def run() -> tuple[list[str], str]:  # type: ignore[type-arg]
        texts, uri = [], f"commune://documents/{doc_id}"
        async with Client(server) as c:
            while uri:
                texts.append((await c.read_resource(uri)).contents[0].text)
                following = re.search(r"the rest in (\S+),", texts[-1].splitlines()[-1])
                uri = following.group(1) if following else ""
            with pytest.raises(MCPError) as wrong:
                await c.read_resource(f"commune://documents/{doc_id}?offset=-3")
        return texts, str(wrong.value)

    texts, wrong = asyncio.run(run())
    assert len(texts) == -(-len(whole) // TEXT_PART_CHARS) > 2
    bodies = []
    for n, text in enumerate(texts):
        head, body = text.split("\n\n", 1)
        assert f"(document {doc_id}, shared, etalab-2.0)" in head, head
        if n < len(texts) - 1:  # each but the last names the next part, both ways
            body, last = body.rsplit("\n\n", 1)
            after = (n + 1) * TEXT_PART_CHARS
            assert last.endswith(f"or with get_document, document_id={doc_id}, offset={after}]")
        bodies.append(body)
    assert "".join(bodies) == whole and all(len(b) <= TEXT_PART_CHARS for b in bodies)
    assert wrong == "offset must be a number of characters, 0 or more, got '-3'", wrong


def test_search_takes_no_more_passages_than_a_host_passes_its_model(commune, monkeypatch):
    """`search` took k up to 100, as /api/search: some 40,000 tokens of passages, past what
    hosts hand their model (Claude Code, past 25,000 tokens, a file reference instead). Its
    schema now says 20 at most, and more is refused in one line, not cut down unsaid."""
    from commune.api.mcp import SEARCH_HITS, build_server
    from commune.govern.policy import OPERATOR

    server = build_server(commune, lambda ctx: OPERATOR)

    async def run() -> tuple[dict, list[str]]:  # type: ignore[type-arg]
        async with Client(server) as c:
            schema = next(t for t in (await c.list_tools()).tools if t.name == "search")
            assert not (await c.call_tool("search", {"query": "piscine", "k": 20})).is_error
            said = [(await c.call_tool("search", {"query": "piscine", "k": 21})).content[0].text]
            monkeypatch.setenv("LANG", "fr_FR.UTF-8")
            said.append(
                (await c.call_tool("search", {"query": "piscine", "k": 100})).content[0].text
            )
            return schema.input_schema["properties"]["k"], said

    k, said = asyncio.run(run())
    assert SEARCH_HITS == 20 and k["maximum"] == 20 and "at most 20" in k["description"]
    assert said[0] == "Error executing tool search: k: must be at most 20", said
    assert said[1].endswith("k\u00a0: doit être au plus 20"), said


def test_the_sdks_own_errors_reach_the_agent_in_its_language(coop, monkeypatch, caplog):
    """The SDK's words were English whatever the agent's language: "Error executing tool …"
    before each of Commune's French messages, "Unknown tool: serach" (naming no tool there
    is), a bare "Error executing tool list_collections" for a result its output schema
    refused, and "Unknown resource: URI". Each is one line in the agent's language now,
    saying what to do."""
    from mcp.shared.exceptions import MCPError

    from commune.api.mcp import actor_from_key, build_server
    from commune.core import Commune

    commune, ann, _ = coop
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    async def run() -> list[str]:
        async with Client(server) as c:
            said = []
            for tool, arguments in (
                ("serach", {"query": "piscine"}),
                ("get_document", {"document_id": 99}),
                ("search", {}),
                ("list_collections", {}),
            ):
                r = await c.call_tool(tool, arguments)
                assert r.is_error, r.content
                said.append(r.content[0].text)
            with pytest.raises(MCPError) as unknown:
                await c.read_resource("commune://docs/1")
            return [*said, str(unknown.value)]

    with monkeypatch.context() as m:  # a result that does not match the tool's own schema
        m.setattr(
            Commune,
            "collections",
            lambda self, actor: [{"name": "x", "visibility": "shared", "documents": "many"}],
        )
        m.setenv("LANG", "fr_FR.UTF-8")  # over stdio (and here) the server's locale
        french = asyncio.run(run())
        m.setenv("LANG", "en_GB.UTF-8")
        english = asyncio.run(run())
    tools = "ask, get_document, list_collections, search"
    assert french[:3] == [
        f"outil inconnu\u00a0: 'serach' (les outils\u00a0: {tools})",
        "Erreur de l'outil get_document\u00a0: aucun document 99 (vérifiez son numéro)",
        "Erreur de l'outil search\u00a0: query\u00a0: champ requis",
    ], french
    assert english[:3] == [
        f"unknown tool: 'serach' (the tools: {tools})",
        "Error executing tool get_document: no document 99 (check its number)",
        "Error executing tool search: query: required",
    ], english
    assert french[3].startswith(
        "Erreur de l'outil list_collections\u00a0: erreur interne (incident "
    )
    assert english[3].startswith("Error executing tool list_collections: internal error (incident ")
    for line in french + english:
        assert "\n" not in line and "Error executing tool list_collections\n" not in line
    assert french[4] == (
        "ressource inconnue\u00a0: commune://docs/1 (les documents sont "
        "commune://documents/{id}, que liste resources/list)"
    )
    assert english[4].startswith("unknown resource: commune://docs/1 (documents are commune")
    number = english[3].split("(incident ")[1].split(")")[0]
    assert any(number in r.getMessage() and r.exc_info for r in caplog.records), number


def test_an_agent_reads_a_documents_dates_in_iso_8601_as_the_api_gives_them(coop):
    """get_document's dates came as Python writes them ("2026-12-07 03:57:55.424384"),
    where the HTTP API gives the same document's in ISO 8601 ("2026-12-07T03:57:55.424384"):
    an agent holding both read two values, and a parser expecting ISO 8601's T missed it."""
    from datetime import datetime, timedelta

    from fastapi.testclient import TestClient

    from commune.api.app import create_app
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    doc_id = next(d["id"] for d in commune.documents("privee-a"))
    with TestClient(create_app(commune), headers={"Authorization": f"Bearer {ann}"}) as api:
        r = api.get("/api/documents", params={"collection": "privee-a"})
        assert r.status_code == 200, r.text
        listed = next(d for d in r.json() if d["id"] == doc_id)
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    async def run() -> dict:  # type: ignore[type-arg]
        async with Client(server) as c:
            return data_of(await c.call_tool("get_document", {"document_id": doc_id}))

    part = asyncio.run(run())
    for name in ("added_at", "updated_at"):
        assert part[name] == listed[name] and "T" in part[name], (part[name], listed[name])
        # In UTC, said so ("…Z"), as the API's (tests/test_api.py: their zone).
        assert datetime.fromisoformat(part[name]).utcoffset() == timedelta(0), part[name]


def test_a_prompt_asked_for_is_refused_in_one_line_naming_the_tools(commune, monkeypatch, caplog):
    """Commune offers no MCP prompts, and a host that asked for one (prompts/get: a name from
    its own configuration, say) was told "Internal server error" under the protocol of
    2026-07-28, and "Unknown prompt: x" in English with JSON-RPC code 0 under the
    handshake's, a traceback in the operator's log for each. Now a refusal of the request's
    parameters, in the agent's language, naming what the server offers instead."""
    from mcp.shared.exceptions import MCPError
    from mcp_types import INVALID_PARAMS

    from commune.api.mcp import build_server
    from commune.govern.policy import OPERATOR

    server = build_server(commune, lambda ctx: OPERATOR)

    async def refused(mode: str) -> MCPError:
        async with Client(server, mode=mode) as c:
            assert (await c.list_prompts()).prompts == []
            with pytest.raises(MCPError) as wrong:
                await c.get_prompt("resume")
        return wrong.value

    tools = "ask, get_document, list_collections, search"
    with caplog.at_level("ERROR"):
        for mode in ("legacy", "auto"):
            monkeypatch.setenv("LANG", "en_GB.UTF-8")  # over stdio (and here) the server's locale
            english = asyncio.run(refused(mode))
            monkeypatch.setenv("LANG", "fr_FR.UTF-8")
            french = asyncio.run(refused(mode))
            for error in (english, french):
                assert error.error.code == INVALID_PARAMS, (mode, error.error)
            assert str(english) == (
                f"no prompt named 'resume': this server offers none; call its tools ({tools})"
            ), (mode, str(english))
            assert str(french) == (
                "aucun prompt nommé 'resume'\u00a0: ce serveur n'en offre aucun\u00a0; appelez "
                f"ses outils ({tools})"
            ), (mode, str(french))
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


def test_a_session_the_server_no_longer_holds_is_told_how_to_go_on(coop):
    """A client of the handshake's protocols holds a session id; after the server restarted
    (or the session was idle 10 minutes), each of its calls was refused with the SDK's
    "Session not found", in English whatever the agent's language, saying nothing of why or
    what to do. It is told as another key's session is (the two cannot be told apart), in
    its language: open a new session, and why this one is gone."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, _ = coop

    async def call(c: Client) -> str:  # type: ignore[type-arg]
        with pytest.raises(BaseException) as raised:
            await c.call_tool("list_collections", {})
        return _refusal(raised.value)

    async def run() -> list[str]:
        with contextlib.ExitStack() as servers:
            # Its clients' streams cut after a second, as `commune serve` cuts them on SIGTERM.
            base = servers.enter_context(serve(create_app(commune), timeout_graceful_shutdown=1))
            port = int(base.rsplit(":", 1)[1])
            async with contextlib.AsyncExitStack() as clients:
                agents = []
                for language in ("fr", "en"):
                    headers = {"Authorization": f"Bearer {ann}", "Accept-Language": language}
                    http = await clients.enter_async_context(
                        httpx2.AsyncClient(headers=headers, timeout=60)
                    )
                    transport = streamable_http_client(f"{base}/mcp", http_client=http)
                    c = Client(transport, cache=None, mode="legacy")
                    agents.append(await clients.enter_async_context(c))
                    text_of(await agents[-1].call_tool("list_collections", {}))
                await asyncio.to_thread(servers.close)  # the server stops …
                restarted = serve(create_app(commune), port)  # … and starts again
                await asyncio.to_thread(servers.enter_context, restarted)
                return [await call(c) for c in agents]

    french, english = asyncio.run(run())
    assert french == (
        "aucune session MCP de cet identifiant pour cette clé\u00a0: ouvrez-en une nouvelle "
        "(sans mcp-session-id\u00a0; une session prend fin après 10 minutes d'inactivité, et "
        "quand le serveur redémarre)"
    ), french
    assert english == (
        "no MCP session with this id for this key: open a new one (send no mcp-session-id; "
        "a session ends after 10 minutes idle, and when the server restarts)"
    ), english


def test_a_refusal_quotes_a_long_value_cut_not_whole(coop, monkeypatch):
    """An agent's collection of 200,000 characters (a model that put a document where the
    name goes) was refused with the whole of it quoted back: "no collection named 'xxx…"
    200,089 characters long, some 50,000 tokens, past what a host hands its model (Claude
    Code keeps a result over 25,000 on disk). So were a tool's name, a listing's cursor and a
    resource's URI. Each refusal quotes the value's beginning now, in one short line."""
    from mcp.shared.exceptions import MCPError

    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))
    long = "x" * 200_000

    async def run() -> list[str]:
        said = []
        async with Client(server, cache=None) as c:
            for tool, arguments in (
                ("search", {"query": "piscine", "collection": long}),
                ("ask", {"question": "piscine ?", "collection": long}),
                (long, {}),
            ):
                r = await c.call_tool(tool, arguments)
                assert r.is_error
                said.append(r.content[0].text)
            for listing in (
                c.list_resources(cursor=long),
                c.read_resource(f"commune://documents/{long}"),
                c.read_resource(f"commune://documents/1?offset={long}"),
                c.read_resource(f"commune://{long}"),
            ):
                with pytest.raises(MCPError) as wrong:
                    await listing
                said.append(str(wrong.value))
        return said

    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # over stdio (and here) the server's locale
    said = asyncio.run(run())
    cut = "'" + "x" * 60 + "…'"
    assert said[0] == (
        f"Erreur de l'outil search\u00a0: aucune collection nommée {cut} (collections "
        "connues\u00a0: privee-a, shared)"
    ), said[0][:300]
    assert said[1].startswith(f"Erreur de l'outil ask\u00a0: aucune collection nommée {cut} ")
    assert said[2].startswith(f"outil inconnu\u00a0: {cut} (les outils\u00a0: ask, ")
    assert said[3] == f"le curseur doit être le nextCursor d'une liste précédente, reçu {cut}"
    for line in said:
        assert len(line) < 300 and "x…" in line and "x" * 61 not in line, line[:300]


def test_a_part_asked_for_past_a_documents_end_says_so(coop, monkeypatch):
    """get_document (or the resource) from an offset past the text's end gave the document's
    heading and nothing else: a host that hands its model only the text told it the document
    was empty, with no word of its length nor of where to read from. The empty part says
    both now."""
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    doc_id = next(d["id"] for d in commune.documents("privee-a"))
    length = len(commune.document(doc_id)["text"])
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    async def run() -> list[str]:
        async with Client(server, cache=None) as c:
            tool = await c.call_tool("get_document", {"document_id": doc_id, "offset": 10**6})
            assert data_of(tool)["text"] == "" and data_of(tool)["next_offset"] is None
            read = await c.read_resource(f"commune://documents/{doc_id}?offset={10**6}")
            return [text_of(tool), read.contents[0].text]

    monkeypatch.setenv("LANG", "en_GB.UTF-8")  # over stdio (and here) the server's locale
    english = asyncio.run(run())
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    french = asyncio.run(run())
    for said in english:
        assert said.splitlines()[-1] == (
            f"[the text has {length} characters, all before this offset: read it from offset 0]"
        ), said
    for said in french:
        assert said.splitlines()[-1] == (
            f"[le texte compte {length} caractères, tous avant cet offset\u00a0: lisez-le "
            "depuis l'offset 0]"
        ), said


def test_a_session_id_sent_with_a_protocol_without_sessions_changes_nothing(coop):
    """A 2026-07-28 request is served whole by itself: the SDK reads no mcp-session-id in it.
    One that carried an id all the same (a client that kept it from an earlier handshake, a
    proxy adding it) and asked for a method the server does not know was told "no MCP
    session with this id for this key", where the SDK answers JSON-RPC -32601 "Method not
    found"; and with another key's session id it was refused, where an id of no session was
    served, which told whether another key's session had that id."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, bob = coop
    with serve(create_app(commune)) as base:
        url = f"{base}/mcp"
        accept = {"Accept": "application/json, text/event-stream"}
        opened = httpx2.post(
            url,
            json=INITIALIZE,
            headers={**accept, "Authorization": f"Bearer {ann}"},
            timeout=60,
        )
        assert opened.status_code == 200, opened.text
        anns = opened.headers["mcp-session-id"]

        def modern(method: str, session: str) -> httpx2.Response:
            meta = {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {},
            }
            body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {"_meta": meta}}
            headers = {
                **accept,
                "Authorization": f"Bearer {bob}",
                "MCP-Protocol-Version": "2026-07-28",
                "Mcp-Method": method,
                "mcp-session-id": session,
            }
            return httpx2.post(url, json=body, headers=headers, timeout=60)

        for session in (anns, "0" * 32):
            unknown = modern("nonexistent/method", session)
            assert unknown.status_code == 404, unknown.text
            assert unknown.json()["id"] == 7, unknown.text
            assert unknown.json()["error"]["code"] == -32601, unknown.text
            listed = modern("tools/list", session)
            assert listed.status_code == 200, listed.text
            assert "get_document" in listed.text, listed.text


def test_a_long_value_is_cut_between_letters_not_inside_one(coop, monkeypatch):
    """A refusal quotes a long value's first 60 code points: "é" written as e and its accent
    at the cut was quoted as "e", a family's emoji (three people joined) as a man alone, a
    flag as a lone letter: each a name the agent never sent. The cut falls before the
    letter it would have split."""
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))
    start = "e" * 59
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    sent = {
        "accent": start + "e\u0301tang",
        "family": start + family + " de Paris",
        "flag": start + "\U0001f1eb\U0001f1f7 2026",
        "skin tone": start + "\U0001f44d\U0001f3fd ok",
        "two flags": start[:-1] + "\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea",
    }

    async def run() -> dict[str, str]:
        said = {}
        async with Client(server, cache=None) as c:
            for name, collection in sent.items():
                r = await c.call_tool("search", {"query": "piscine", "collection": collection})
                assert r.is_error
                said[name] = r.content[0].text
        return said

    monkeypatch.setenv("LANG", "en_GB.UTF-8")  # over stdio (and here) the server's locale
    said = asyncio.run(run())
    quoted = {
        name: text.split("no collection named ", 1)[1].split(" (known", 1)[0]
        for name, text in said.items()
    }
    assert quoted == {
        # A name is read composed (NFC) since 365625ff: e and its accent are one letter, é,
        # whole within the sixty.
        "accent": f"'{start}\u00e9…'",
        "family": f"'{start}…'",
        "flag": f"'{start}…'",
        "skin tone": f"'{start}…'",
        "two flags": f"'{start[:-1]}\U0001f1eb\U0001f1f7…'",  # the first flag whole
    }, said


def test_an_argument_a_tool_does_not_take_is_refused_naming_those_it_takes(coop, monkeypatch):
    """The SDK dropped an argument a tool does not take: a misspelt `colection` searched
    every collection the key reads, and the agent took the hits for those of the one it
    named. Refused now, before any work, in one line in the agent's language, naming the
    argument and those the tool takes; the schemas say no other is taken."""
    from commune.api.mcp import actor_from_key, build_server

    commune, ann, _ = coop
    server = build_server(commune, lambda ctx: actor_from_key(commune, ann))

    def rows() -> int:
        with commune.engine.connect() as conn:
            return conn.exec_driver_sql("select count(*) from usage").scalar()

    before = rows()

    async def run() -> tuple[list[str], dict]:  # type: ignore[type-arg]
        async with Client(server) as c:
            said = []
            for tool, arguments in (
                ("search", {"query": "budget piscine", "colection": "shared"}),
                ("ask", {"question": "piscine", "colection": "shared", "modes": "auto"}),
                ("list_collections", {"collection": "shared"}),
            ):
                r = await c.call_tool(tool, arguments)
                assert r.is_error, r.content
                said.append(r.content[0].text)
            schemas = {t.name: t.input_schema for t in (await c.list_tools()).tools}
            return said, schemas

    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # over stdio (and here) the server's locale
    french, schemas = asyncio.run(run())
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    english, _ = asyncio.run(run())
    assert french == [
        "Erreur de l'outil search\u00a0: argument inconnu\u00a0: 'colection' (ses "
        "arguments\u00a0: collection, k, query)",
        "Erreur de l'outil ask\u00a0: arguments inconnus\u00a0: 'colection', 'modes' (ses "
        "arguments\u00a0: collection, mode, question)",
        "Erreur de l'outil list_collections\u00a0: argument inconnu\u00a0: 'collection' (il "
        "n'en prend aucun)",
    ], french
    assert english == [
        "Error executing tool search: unknown argument: 'colection' (its arguments: "
        "collection, k, query)",
        "Error executing tool ask: unknown arguments: 'colection', 'modes' (its arguments: "
        "collection, mode, question)",
        "Error executing tool list_collections: unknown argument: 'collection' (it takes none)",
    ], english
    assert all(s["additionalProperties"] is False for s in schemas.values()), schemas
    assert rows() == before  # nothing searched, nothing billed


def test_the_sdks_refusals_at_the_door_are_said_in_the_agents_language(coop):
    """The SDK's transport refused a request with its own English whatever the caller's
    language: "Bad Request: Missing session ID" for a GET without a session, "Not
    Acceptable: Client must accept both application/json and text/event-stream" for a POST
    whose Accept left one out. Each is Commune's line now, in the caller's language, saying
    what to send; the body is still JSON-RPC's error, the status the SDK's."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, _ = coop
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with serve(create_app(commune)) as base:

        def said(language: str) -> list[tuple[int, str, str]]:
            key = {"Authorization": f"Bearer {ann}", "Accept-Language": language}
            replies = [
                httpx2.get(f"{base}/mcp", headers={**key, "Accept": "text/event-stream"}),
                httpx2.post(
                    f"{base}/mcp", json=ping, headers={**key, "Accept": "application/json"}
                ),
                httpx2.get(f"{base}/mcp", headers={**key, "Accept": "application/json"}),
            ]
            for r in replies:
                assert r.json()["jsonrpc"] == "2.0", r.text
            return [
                (r.status_code, r.json()["detail"], r.json()["error"]["message"]) for r in replies
            ]

        french, english = said("fr"), said("en")
    assert [s for s, _, _ in french] == [s for s, _, _ in english] == [400, 406, 406]
    for _, detail, message in french + english:
        assert detail == message, (detail, message)
    assert [d for _, d, _ in english] == [
        "this request needs the mcp-session-id the server gave when the session opened: send "
        "it, or open a session (a POST of initialize, without mcp-session-id)",
        "send Accept: application/json, text/event-stream (an MCP client takes both)",
        "send Accept: text/event-stream (a GET opens the session's stream of events)",
    ], english
    assert [d for _, d, _ in french] == [
        "cette requête demande le mcp-session-id que le serveur a donné à l'ouverture de la "
        "session\u00a0: envoyez-le, ou ouvrez une session (un POST d'initialize, sans "
        "mcp-session-id)",
        "envoyez Accept: application/json, text/event-stream (un client MCP prend les deux)",
        "envoyez Accept: text/event-stream (un GET ouvre le flux d'événements de la session)",
    ], french


def test_a_body_that_is_not_one_json_rpc_message_is_said_in_the_agents_language(coop):
    """A POST to /mcp whose body was not JSON, or JSON but not one JSON-RPC message (a list,
    an object without "jsonrpc"), was answered in the SDK's English: "Parse error: key must
    be a string at line 1 column 2", or "Validation error: 8 validation errors for
    union[...]" over many lines with pydantic's links, though the SDK's other refusals at
    the door were said in the caller's language. Each says now, in one line in the caller's
    language, what to send, under either protocol; the status and JSON-RPC code the SDK's."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, _ = coop
    bodies = (
        b"{nope",
        b"",
        b'{"a": 1, "id": 3}',
        b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]',
    )
    with serve(create_app(commune)) as base:

        def said(language: str, protocol: dict[str, str]) -> list[tuple[int, int, str]]:
            headers = {
                "Authorization": f"Bearer {ann}",
                "Accept-Language": language,
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
                **protocol,
            }
            replies = [httpx2.post(f"{base}/mcp", content=b, headers=headers) for b in bodies]
            for r in replies:
                assert r.json()["detail"] == r.json()["error"]["message"], r.text
            return [(r.status_code, r.json()["error"]["code"], r.json()["detail"]) for r in replies]

        sessionless = {"MCP-Protocol-Version": "2026-07-28"}
        english, french = said("en", {}), said("fr", {})
        assert said("en", sessionless)[:2] == english[:2]
        assert [d for _, _, d in said("fr", sessionless)] == [d for _, _, d in french]
    assert [(s, c) for s, c, _ in french] == [(s, c) for s, c, _ in english]
    assert [s for s, _, _ in english] == [400] * 4
    assert [c for _, c, _ in english][:2] == [-32700, -32700]  # JSON-RPC's parse error
    not_json = (
        'the body is not JSON: send one JSON-RPC message, {"jsonrpc": "2.0", "id": 1, "method": …}'
    )
    not_one = (
        'the body is not one JSON-RPC message: send one object, {"jsonrpc": "2.0", "id": 1, '
        '"method": …, "params": {…}}, not a list'
    )
    assert [d for _, _, d in english] == [not_json, not_json, not_one, not_one], english
    assert [d for _, _, d in french] == [
        "le corps de la requête n'est pas du JSON\u00a0: envoyez un message JSON-RPC, "
        '{"jsonrpc": "2.0", "id": 1, "method": …}',
    ] * 2 + [
        "le corps de la requête n'est pas un message JSON-RPC\u00a0: envoyez un seul objet, "
        '{"jsonrpc": "2.0", "id": 1, "method": …, "params": {…}}, non une liste',
    ] * 2, french


def test_a_method_the_server_does_not_serve_is_said_in_the_agents_language(coop):
    """A host asks a server for what MCP offers beyond tools (completions) to see whether it
    has them. The SDK answered "Method not found", in English whatever the agent's
    Accept-Language and without a word of what the server serves, with a session (the
    handshake's protocols) as without one (2026-07-28). It is one line in the agent's
    language now, naming the methods there are; the JSON-RPC code is still -32601."""
    import httpx2
    from mcp.shared.exceptions import MCPError

    from commune.api.app import create_app

    commune, ann, _ = coop
    # Each protocol's own: the one without sessions (auto) has no initialize and no ping,
    # and opens with server/discover (found reviewing cdcc7a4b: it was told "unknown method:
    # 'ping' (this server answers initialize, ping, …)").
    listed = "tools/list, tools/call, resources/list, resources/templates/list, resources/read, "
    served = {
        "auto": f"server/discover, {listed}prompts/list, prompts/get",
        "legacy": f"initialize, ping, {listed}prompts/list, prompts/get",
    }
    with serve(create_app(commune)) as base:

        async def said(language: str, mode: str) -> str:
            headers = {"Authorization": f"Bearer {ann}", "Accept-Language": language}
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                transport = streamable_http_client(f"{base}/mcp", http_client=http)
                async with Client(transport, cache=None, mode=mode) as c:
                    with pytest.raises(MCPError) as refused:
                        await c.complete(
                            {"type": "ref/prompt", "name": "x"}, {"name": "a", "value": "b"}
                        )
                    assert refused.value.error.code == -32601
                    return str(refused.value)

        for mode in ("auto", "legacy"):  # without a session, then with one
            assert asyncio.run(said("fr", mode)) == (
                "méthode inconnue\u00a0: 'completion/complete' (ce serveur répond à "
                f"{served[mode]})"
            ), mode
            assert asyncio.run(said("en", mode)) == (
                f"unknown method: 'completion/complete' (this server answers {served[mode]})"
            ), mode
        # What is said served is: each method named answers under its protocol, and a ping
        # without a session is said unknown, not listed.
        envelope = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        headers = {
            "Authorization": f"Bearer {ann}",
            "Accept-Language": "en",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2026-07-28",
        }
        replies = {
            method: httpx2.post(
                f"{base}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": envelope}},
                headers={**headers, "Mcp-Method": method},
                timeout=60,
            ).json()
            for method in ("ping", *served["auto"].split(", "))
        }
    for method, reply in replies.items():
        assert (reply.get("error", {}).get("code") == -32601) is (method == "ping"), reply
    assert replies["ping"]["error"]["message"] == (
        f"unknown method: 'ping' (this server answers {served['auto']})"
    )


def test_a_malformed_request_of_either_protocol_is_said_in_the_agents_language(coop):
    """A request the SDK could not take was refused in its own English whatever the caller's
    Accept-Language: "Invalid request parameters" (pydantic's reason dropped) for a tools/call
    without its name, in a session's stream as without a session; and, under the protocol
    without sessions (2026-07-28), "params._meta must be an object carrying the required
    'io.modelcontextprotocol/protocolVersion' and …", "mcp-method header does not match the
    request body's method", "Unsupported protocol version", and a GET or a DELETE refused
    with a bare 405 (an Accept without JSON, a bare 406). Each is one line in the caller's
    language now, saying what to send; the status, the JSON-RPC code, the request's id and
    the versions -32022 names for a client to fall back on are the SDK's."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, _ = coop
    accept = "application/json, text/event-stream"
    envelope = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    nameless = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"_meta": envelope}}
    listing = {"jsonrpc": "2.0", "id": 6, "method": "tools/list", "params": {"_meta": envelope}}
    modern = {"MCP-Protocol-Version": "2026-07-28"}
    later = {"_meta": {**envelope, "io.modelcontextprotocol/protocolVersion": "2027-01-01"}}
    with serve(create_app(commune)) as base:
        url = f"{base}/mcp"

        def said(language: str) -> list[tuple[int, int, object, str]]:
            key = {"Authorization": f"Bearer {ann}", "Accept-Language": language}
            sent = {**key, "Accept": accept}
            opened = httpx2.post(url, json=INITIALIZE, headers=sent, timeout=60)
            assert opened.status_code == 200, opened.text
            session = {"mcp-session-id": opened.headers["mcp-session-id"]}
            replies = [
                # in a session: the error comes in its stream (200)
                httpx2.post(url, json=nameless, headers={**sent, **session}, timeout=60),
                httpx2.post(
                    url, json=nameless, headers={**sent, **modern, "Mcp-Method": "tools/call"}
                ),
                httpx2.post(
                    url,
                    json={"jsonrpc": "2.0", "id": 7, "method": "tools/list"},
                    headers={**sent, **modern, "Mcp-Method": "tools/list"},
                ),
                httpx2.post(url, json=listing, headers={**sent, **modern, "Mcp-Method": "ping"}),
                httpx2.post(
                    url,
                    json={**listing, "params": later},
                    headers={
                        **sent,
                        "MCP-Protocol-Version": "2027-01-01",
                        "Mcp-Method": "tools/list",
                    },
                ),
                httpx2.get(url, headers={**sent, **modern}),
                httpx2.delete(url, headers={**sent, **modern}),
                httpx2.post(url, json=listing, headers={**key, **modern, "Accept": "text/html"}),
            ]
            lines = []
            for r in replies:
                if r.headers["content-type"].startswith("text/event-stream"):
                    data = next(line for line in r.text.splitlines() if line.startswith("data:"))
                    reply = json.loads(data.removeprefix("data:"))
                else:
                    reply = r.json()
                    # Commune's own at the door carry the line as detail too
                    assert (
                        reply.get("detail", reply["error"]["message"]) == reply["error"]["message"]
                    )
                lines.append((r.status_code, reply["error"]["code"], reply["id"], reply["error"]))
            assert replies[5].headers["allow"] == "POST"
            return lines

        french, english = said("fr"), said("en")
    assert (
        [(s, c, i) for s, c, i, _ in french]
        == [(s, c, i) for s, c, i, _ in english]
        == [
            (200, -32602, 5),
            (400, -32602, 5),
            (400, -32602, 7),
            (400, -32020, 6),
            (400, -32022, 6),
            (405, -32600, None),
            (405, -32600, None),
            (406, -32600, None),
        ]
    )
    for _, _, _, error in french + english:  # the versions a client falls back on
        if error["code"] == -32022:
            assert error["data"]["supported"] == ["2026-07-28"], error
    no_session = (
        "under MCP-Protocol-Version 2026-07-28 there is no session: no stream to open (GET), "
        "none to end (DELETE); send each request as a POST"
    )
    assert [e["message"] for *_, e in english] == [
        "invalid params of 'tools/call': params.name: required",
        "invalid params of 'tools/call': params.name: required",
        "under MCP-Protocol-Version 2026-07-28 each request carries its envelope in "
        "params._meta: io.modelcontextprotocol/protocolVersion (2026-07-28) and "
        "io.modelcontextprotocol/clientCapabilities",
        "the mcp-method header does not say what the body says: send it once, with the body's "
        "value",
        "MCP-Protocol-Version '2027-01-01' is not one this server speaks: send 2026-07-28 (and "
        "the same version in each request's params._meta), or leave it out and open a session "
        "with initialize",
        no_session,
        no_session,
        "send Accept: application/json, text/event-stream (an MCP client takes both)",
    ], english
    no_session = (
        "sous MCP-Protocol-Version 2026-07-28, il n'y a pas de session\u00a0: aucun flux à "
        "ouvrir (GET), aucun à fermer (DELETE)\u00a0; envoyez chaque requête en POST"
    )
    assert [e["message"] for *_, e in french] == [
        "paramètres de 'tools/call' non valides\u00a0: params.name\u00a0: champ requis",
        "paramètres de 'tools/call' non valides\u00a0: params.name\u00a0: champ requis",
        "sous MCP-Protocol-Version 2026-07-28, chaque requête porte son enveloppe dans "
        "params._meta\u00a0: io.modelcontextprotocol/protocolVersion (2026-07-28) et "
        "io.modelcontextprotocol/clientCapabilities",
        "l'en-tête mcp-method ne dit pas ce que dit le corps de la requête\u00a0: envoyez-le "
        "une seule fois, avec la valeur du corps",
        "MCP-Protocol-Version '2027-01-01' n'est pas une version que parle ce serveur\u00a0: "
        "envoyez 2026-07-28 (et la même version dans le params._meta de chaque requête), ou "
        "retirez-le et ouvrez une session avec initialize",
        no_session,
        no_session,
        "envoyez Accept: application/json, text/event-stream (un client MCP prend les deux)",
    ], french


def test_a_client_proposing_a_later_protocol_takes_the_one_the_refusal_names(coop, monkeypatch):
    """The SDK's client proposes its latest protocol without a session and, refused with
    -32022, retries with a version the refusal's data names as supported. Commune says that
    refusal in its own words at the door (cdcc7a4b): without the SDK's data kept, the client
    read no version there and fell back silently to a session (initialize), as it does for a
    server of the older protocols only."""
    import httpx2
    import mcp.client._probe as probe

    from commune.api.app import create_app

    monkeypatch.setattr(probe, "LATEST_MODERN_VERSION", "2099-01-01")  # a client of later
    commune, ann, _ = coop
    with serve(create_app(commune)) as base:

        async def run() -> tuple[bool, bool, set[str]]:
            headers = {"Authorization": f"Bearer {ann}", "Accept-Language": "fr"}
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                transport = streamable_http_client(f"{base}/mcp", http_client=http)
                async with Client(transport, cache=None, mode="auto") as c:
                    tools = {t.name for t in (await c.list_tools()).tools}
                    session = c.session
                    return (
                        session.discover_result is not None,
                        session.initialize_result is not None,
                        tools,
                    )

        discovered, initialized, tools = asyncio.run(run())
    assert (discovered, initialized) == (True, False)
    assert "search" in tools


def test_a_protocol_version_the_server_does_not_speak_is_said_so_in_the_agents_language(coop):
    """Found reviewing cdcc7a4b: a GET under a version the server does not speak was told
    "under MCP-Protocol-Version 2099-01-01 there is no session" (as if that version had no
    sessions), and one whose value does not read as a date (a quote in it, a space) stayed in
    English for a French agent: the catalogue's patterns did not match it."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, _ = coop
    key = {
        "Authorization": f"Bearer {ann}",
        "Accept-Language": "fr",
        "Accept": "application/json, text/event-stream",
    }
    notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    with serve(create_app(commune)) as base:
        url = f"{base}/mcp"
        replies = [
            httpx2.get(url, headers={**key, "MCP-Protocol-Version": version}, timeout=60)
            for version in ("2099-01-01", "l'an 3000")
        ] + [
            httpx2.post(
                url,
                json=notification,
                headers={**key, "MCP-Protocol-Version": "l'an 3000"},
                timeout=60,
            )
        ]
    messages = [r.json()["error"]["message"] for r in replies]
    assert [r.status_code for r in replies] == [405, 405, 400]
    assert replies[0].headers["allow"] == "POST"
    assert messages == [
        "MCP-Protocol-Version '2099-01-01' n'est pas une version que parle ce serveur\u00a0: "
        "envoyez 2026-07-28 (et la même version dans le params._meta de chaque requête), ou "
        "retirez-le et ouvrez une session avec initialize",
        *[
            "MCP-Protocol-Version \"l'an 3000\" n'est pas une version que parle ce "
            "serveur\u00a0: envoyez 2026-07-28 (et la même version dans le params._meta de "
            "chaque requête), ou retirez-le et ouvrez une session avec initialize"
        ]
        * 2,
    ], messages
    assert replies[2].json()["error"]["data"]["supported"] == ["2026-07-28"]


def test_an_agent_given_another_address_than_mcp_is_told_where_it_is(coop):
    """An agent's host given the server's address (``http://host:8000``), the old transport's
    ``/sse`` or ``/v1/mcp`` was refused without a JSON-RPC error, the one body the SDK reads:
    the agent was told "Server returned an error response" or "Not Found", in English, and
    nothing of /mcp, where /v1's clients are told their base URL. A program's request there
    keeps its own answer."""
    import httpx2

    from commune.api.app import create_app

    commune, ann, _ = coop
    with serve(create_app(commune)) as base:

        async def refused(path: str, language: str) -> str:
            headers = {"Authorization": f"Bearer {ann}", "Accept-Language": language}
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                with pytest.raises(BaseException) as raised:
                    transport = streamable_http_client(f"{base}{path}", http_client=http)
                    async with Client(transport, cache=None) as c:
                        await c.list_tools()
            return _refusal(raised.value)

        async def run() -> None:
            for path in ("", "/sse", "/v1/mcp"):
                said = await refused(path, "fr")
                assert said == (
                    f"aucun serveur MCP à l'adresse {path or '/'}\u00a0: celui de Commune est à "
                    "l'adresse /mcp, par le transport \u00ab\u00a0streamable HTTP\u00a0\u00bb "
                    f"(donnez à votre client l'adresse {base}/mcp)"
                ), said
            said = await refused("/sse", "en")
            assert said == (
                "no MCP server at /sse: Commune's is at /mcp, over streamable HTTP (give your "
                f"client the address {base}/mcp)"
            ), said

        asyncio.run(run())
        # The old transport's first request, a GET for events, is told the same.
        events = httpx2.get(f"{base}/sse", headers={"Accept": "text/event-stream"})
        assert events.status_code == 404
        assert events.json()["error"]["message"].startswith("aucun serveur MCP à l'adresse /sse")
        # Not an MCP client: the API's own answers, unchanged.
        page = httpx2.post(f"{base}/", json={}, headers={"Accept": "application/json"})
        assert page.status_code == 405 and "jsonrpc" not in page.json()
        assert page.json()["detail"].startswith("POST n'est pas accepté à l'adresse /")
        openai = httpx2.post(f"{base}/chat/completions", json={}, headers={"Accept-Language": "en"})
        assert "the OpenAI-compatible API is at /v1/chat/completions" in openai.json()["detail"]


def test_an_openai_route_is_an_openai_clients_whatever_it_accepts(coop, monkeypatch):
    """A streaming client of the OpenAI API without /v1 in its base URL, accepting server-sent
    events beside JSON, was told of MCP ("aucun serveur MCP à l'adresse /chat/completions")
    instead of its base URL; and a server without the mcp package, no /mcp, told an MCP
    client that MCP was at /mcp, where it was told "nothing at /mcp" next."""
    from fastapi.testclient import TestClient

    import commune.api.app as app_module
    from commune.api.app import create_app

    commune, ann, _ = coop
    both = {"Authorization": f"Bearer {ann}", "Accept": "application/json, text/event-stream"}
    client = TestClient(create_app(commune))
    for lang, said in (
        ("fr", "l'API compatible OpenAI est à l'adresse /v1/chat/completions"),
        ("en", "the OpenAI-compatible API is at /v1/chat/completions"),
    ):
        r = client.post(
            "/chat/completions", json={"stream": True}, headers={**both, "Accept-Language": lang}
        )
        assert r.status_code == 404, r.text
        assert said in r.json()["error"]["message"] and "jsonrpc" not in r.json(), r.text
    monkeypatch.setattr(app_module, "_mcp", lambda commune, require_auth: ([], None))
    client = TestClient(create_app(commune))
    r = client.post("/", json={}, headers={**both, "Accept-Language": "en"})
    assert r.status_code == 405 and "MCP" not in r.text, r.text
    assert r.json()["detail"].startswith("POST is not accepted at /"), r.text
