"""The cooperative: keys, isolation between members on every route, quotas, energy, ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from commune.api.app import create_app
from commune.govern.members import authenticate, create_key, revoke_key
from tests.conftest import EN, make_key


@pytest.fixture
def coop(commune, tmp_path):  # type: ignore[no-untyped-def]
    """Two towns with private collections, one shared and one public collection."""
    docs = {
        "a-private": (
            "budget-a.md",
            "# Budget A\n\nLe budget secret de la ville A prévoit une "
            "piscine olympique à Alphaville.",
        ),
        "b-private": (
            "budget-b.md",
            "# Budget B\n\nLe budget secret de la ville B prévoit une "
            "patinoire municipale à Betaville.",
        ),
        "coop": (
            "charte.md",
            "# Charte\n\nLa charte de la coopérative repose sur la "
            "souveraineté, la sobriété et l'utilité.",
        ),
        "open": ("horaires.md", "# Horaires\n\nLa médiathèque intercommunale ouvre le samedi."),
    }
    keys = {
        "a": make_key(commune, "anne", "Ville A", "reader"),
        "a-admin": make_key(commune, "arthur", "Ville A", "member-admin"),
        "b": make_key(commune, "bruno", "Ville B", "reader"),
        "coop-admin": make_key(commune, "clara", "Ville B", "cooperative-admin"),
    }
    for coll, (name, text) in docs.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        member = {"a-private": "Ville A", "b-private": "Ville B"}.get(coll)
        vis = {"coop": "shared", "open": "public"}.get(coll)
        commune.add([path], collection=coll, member=member, visibility=vis, licence="etalab-2.0")
    app = create_app(commune)

    def client(who: str | None) -> TestClient:
        headers = {"Authorization": f"Bearer {keys[who]}"} if who else {}
        return TestClient(app, headers=headers | EN)

    return client


def texts(body) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(body, ensure_ascii=False)


# -- authentication ---------------------------------------------------------------------------


def test_every_api_route_needs_a_key_except_health_and_the_page(coop):
    anon = coop(None)
    assert anon.get("/healthz").status_code == 200
    assert anon.get("/").status_code == 200
    for method, path, body in [
        ("post", "/api/search", {"query": "budget"}),
        ("post", "/api/ask", {"question": "budget ?"}),
        ("post", "/api/ask/stream", {"question": "budget ?"}),
        ("get", "/api/documents", None),
        ("get", "/api/collections", None),
        ("get", "/api/usage", None),
        ("get", "/v1/models", None),
        (
            "post",
            "/v1/chat/completions",
            {"model": "extractive", "messages": [{"role": "user", "content": "x"}]},
        ),
        ("post", "/v1/embeddings", {"model": "use-multilingual-v3", "input": "x"}),
    ]:
        r = anon.request(method, path, json=body)
        assert r.status_code == 401, path
        assert "authentication required" in r.text and r.headers["WWW-Authenticate"] == "Bearer"


def test_keys_are_shown_once_stored_hashed_revocable_and_expire(commune):
    secret = make_key(commune, "dora", "Ville D")
    with commune.engine.connect() as conn:
        stored = conn.exec_driver_sql("select prefix, digest from api_keys").all()
        assert all(secret not in (p, d) for p, d in stored)
        assert authenticate(conn, secret).user == "dora"
        with pytest.raises(Exception, match="unknown API key"):
            authenticate(conn, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        with pytest.raises(Exception, match="malformed API key"):
            authenticate(conn, "hello")
    with commune.engine.begin() as conn:
        kid, short = create_key(conn, "dora", expires_days=1)
    with commune.engine.connect() as conn:
        assert authenticate(conn, short).user == "dora"
        later = datetime.now(UTC) + timedelta(days=2)
        with pytest.raises(Exception, match="expired"):
            authenticate(conn, short, at=later)
    with commune.engine.begin() as conn:
        revoke_key(conn, kid)
    with commune.engine.connect() as conn, pytest.raises(Exception, match="revoked"):
        authenticate(conn, short)


# -- isolation on every route -----------------------------------------------------------------


def test_search_never_shows_another_members_private_documents(coop):
    a, b = coop("a"), coop("b")
    for q in ("budget secret piscine patinoire", "Betaville", "Alphaville"):
        ra = a.post("/api/search", json={"query": q, "k": 20}).json()
        rb = b.post("/api/search", json={"query": q, "k": 20}).json()
        assert "Betaville" not in texts(ra) and "Alphaville" not in texts(rb)
    assert "Alphaville" in texts(a.post("/api/search", json={"query": "Alphaville"}).json())
    r = a.post("/api/search", json={"query": "budget", "collection": "b-private"})
    assert r.status_code == 404 and "b-private" not in r.json()["detail"].split("known")[1]


def test_hits_show_nothing_computed_over_other_members_documents(coop):
    # `coverage` weighed the query's words by their frequency in the whole commons: a member
    # could tell whether "Betaville" occurs in another member's private documents.
    for hit in coop("a").post("/api/search", json={"query": "Betaville médiathèque"}).json():
        assert "coverage" not in hit and "unknown_terms" not in hit


def test_shared_and_public_collections_are_seen_by_all_members(coop):
    for who in ("a", "b"):
        hits = coop(who).post("/api/search", json={"query": "charte coopérative"}).json()
        assert any("souveraineté" in h["text"] for h in hits)
        hits = coop(who).post("/api/search", json={"query": "médiathèque samedi"}).json()
        assert any("samedi" in h["text"] for h in hits)


def test_ask_and_stream_never_cite_another_members_private_documents(coop):
    a = coop("a")
    body = a.post("/api/ask", json={"question": "Que prévoit le budget secret de Betaville ?"})
    answer = body.json()
    assert "patinoire" not in answer["text"] and "budget-b" not in texts(answer["sources"])
    stream = a.post("/api/ask/stream", json={"question": "patinoire municipale Betaville"})
    assert "patinoire municipale à" not in stream.text and "budget-b" not in stream.text
    r = a.post("/api/ask", json={"question": "budget", "collection": "b-private"})
    assert r.status_code == 404


def test_listings_show_only_what_the_member_may_read(coop):
    names = {c["name"] for c in coop("a").get("/api/collections").json()}
    assert names == {"a-private", "coop", "open"}
    docs = coop("a").get("/api/documents").json()
    assert {d["collection"] for d in docs} == {"a-private", "coop", "open"}
    assert coop("a").get("/api/documents", params={"collection": "b-private"}).status_code == 404
    # a cooperative admin administers the cooperative, not other members' private documents
    admin = {c["name"] for c in coop("coop-admin").get("/api/collections").json()}
    assert admin == {"b-private", "coop", "open"}


def test_a_collection_changes_owner_only_with_an_explicit_transfer(coop, commune, home):
    # Issue 23: `visibility a-private … --member X` handed the collection to X in passing.
    from click.testing import CliRunner

    from commune.cli import cli

    make_key(commune, "cora", "Ville A", "curator")

    def names(user: str) -> set[str]:
        return {c["name"] for c in commune.collections(actor=commune.actor(user))}

    run = CliRunner()
    r = run.invoke(
        cli, ["--home", str(home), "visibility", "a-private", "private", "--member", "Ville B"]
    )
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "belongs to Ville A" in r.output and "--transfer" in r.output
    assert "a-private" in names("cora") and "a-private" not in names("bruno")
    assert not [e for e in commune.audit_entries() if e["action"] == "transfer"]
    # Its visibility alone changes without --member, and the owner stays.
    commune.set_visibility("a-private", "shared")
    [row] = [c for c in commune.collections() if c["name"] == "a-private"]
    assert (row["visibility"], row["owner"]) == ("shared", "Ville A")
    r = run.invoke(
        cli,
        ["--home", str(home), "visibility", "a-private", "private", "--member", "Ville B"]
        + ["--transfer"],
    )
    assert r.exit_code == 0, r.output
    assert "a-private" not in names("cora") and "a-private" in names("bruno")
    [entry] = [e for e in commune.audit_entries() if e["action"] == "transfer"]
    assert entry["subject"] == "collection a-private"
    details = json.loads(entry["details"])
    assert (details["from_owner"], details["to_owner"]) == ("Ville A", "Ville B")


def test_openai_routes_respect_visibility(coop):
    a = coop("a")
    msg = [{"role": "user", "content": "Que prévoit le budget secret de Betaville ?"}]
    r = a.post("/v1/chat/completions", json={"model": "extractive", "messages": msg})
    assert r.status_code == 200 and "patinoire" not in r.text and "budget-b" not in r.text
    r = a.post(
        "/v1/chat/completions",
        json={"model": "extractive", "messages": msg, "collection": "b-private"},
    )
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_usage_is_seen_by_its_owner_and_admins_only(coop):
    a, b = coop("a"), coop("b")
    a.post("/api/search", json={"query": "piscine"})
    b.post("/api/search", json={"query": "patinoire"})
    b.post("/api/search", json={"query": "patinoire"})
    own = a.get("/api/usage").json()
    assert own["member"] == "Ville A" and sum(d["requests"] for d in own["days"]) == 1
    # Her own figures, said as hers: they read as the whole of Ville A's.
    assert own["user"] == "anne"
    assert a.get("/api/usage", params={"member": "Ville B"}).status_code == 404
    admin_a = coop("a-admin").get("/api/usage").json()
    assert sum(d["requests"] for d in admin_a["days"]) == 1  # the member's, not B's
    assert admin_a["user"] is None  # the member's whole
    coop_admin = coop("coop-admin").get("/api/usage", params={"member": "Ville B"}).json()
    assert sum(d["requests"] for d in coop_admin["days"]) == 2
    assert coop("a").get("/api/usage", params={"start": "yesterday"}).status_code == 400


def test_usage_by_default_is_the_dashboards_last_30_days_and_an_empty_member_ones_own(coop):
    # The API's default read 31 days (today and the 30 before) where its docs and /dashboard
    # say 30: a town adding up its own dashboard and the API's found two totals. And
    # `member=` sent empty, as a client fills the query's documented fields, was "no member
    # named ''" (404) where the dashboard reads it as one's own member.
    from datetime import date, timedelta

    admin = coop("a-admin")
    days = admin.get("/api/usage").json()
    start, end = date.fromisoformat(days["start"]), date.fromisoformat(days["end"])
    assert end - start == timedelta(days=29), days
    given = admin.get("/api/usage", params={"end": days["end"]}).json()
    assert (given["start"], given["end"]) == (days["start"], days["end"])
    empty = admin.get("/api/usage", params={"member": ""})
    assert empty.status_code == 200, empty.text
    assert empty.json() == days and days["member"] == "Ville A"


# -- quotas ---------------------------------------------------------------------------------------


def test_member_quota_returns_429_with_retry_after_naming_the_quota(commune, corpus):
    from commune.govern.members import add_member

    commune.add([corpus], licence="etalab-2.0")
    with commune.engine.begin() as conn:
        add_member(conn, "Petite Asso", "association", requests_per_day=2)
    k1 = make_key(commune, "eve", "Petite Asso")
    k2 = make_key(commune, "fred", "Petite Asso")
    app = create_app(commune)
    c1 = TestClient(app, headers={"Authorization": f"Bearer {k1}"} | EN)
    c2 = TestClient(app, headers={"Authorization": f"Bearer {k2}"} | EN)
    assert c1.post("/api/search", json={"query": "bac"}).status_code == 200
    assert c2.post("/api/ask", json={"question": "bac jaune ?"}).status_code == 200
    r = c1.post("/api/search", json={"query": "bac"})  # the pool is shared by its users
    assert r.status_code == 429
    assert "member 'Petite Asso' has used its quota of 2 requests per day" in r.json()["detail"]
    assert 0 < int(r.headers["Retry-After"]) <= 86400
    # And who raises it, besides waiting: a member's quota is a cooperative admin's to set
    # (its own admins would raise their own), and a town read only "retry in 5 h".
    assert r.json()["detail"].startswith(
        "member 'Petite Asso' has used its quota of 2 requests per day (2 used): a cooperative "
        "admin, or the operator, can raise it (retry in "
    ), r.json()["detail"]
    fr = c1.post("/api/search", json={"query": "bac"}, headers={"Accept-Language": "fr"})
    assert fr.json()["detail"].startswith(
        "le membre 'Petite Asso' a épuisé son quota de requêtes par jour (limite 2, déjà 2)"
        "\u00a0: un administrateur de la coopérative, ou l'opérateur, peut le relever "
        "(réessayez dans "
    ), fr.json()["detail"]


def test_a_persons_spent_cap_says_who_raises_it(commune):  # type: ignore[no-untyped-def]
    """A member's spent quota said who raises it; a person's own cap said only the wait, and
    a clerk had nobody to ask. Their member's admins set the caps of the roles below theirs,
    a cooperative admin a member admin's (policy.can_cap): each is told whom to ask, in
    English and in French."""
    from commune.govern.quotas import QuotaExceeded, check_quotas, hold
    from commune.store.repository import now
    from commune.text.messages import localise

    make_key(commune, "eve", "Asso Ouest", "contributor", requests_per_day=1)
    make_key(commune, "ines", "Asso Ouest", "member-admin", requests_per_day=1)
    spent = "has used their quota of 1 request per day (1 used)"
    for name, english, french in (
        (
            "eve",
            ": an admin of Asso Ouest, a cooperative admin, or the operator, can raise it",
            "\u00a0: un administrateur d'Asso Ouest, un administrateur de la coopérative, ou "
            "l'opérateur, peut le relever",
        ),
        (
            "ines",
            ": a cooperative admin, or the operator, can raise it",
            "\u00a0: un administrateur de la coopérative, ou l'opérateur, peut le relever",
        ),
    ):
        actor = commune.admin.actor(name)
        with commune.engine.begin() as conn:
            hold(conn, actor, now())  # the day's one request, under way
            with pytest.raises(QuotaExceeded) as refused:
                check_quotas(conn, actor, now())
        said = refused.value.message
        assert said == f"user '{name}' {spent}{english}"
        assert localise(said, "fr") == (
            f"l'utilisateur '{name}' a épuisé son quota de requêtes par jour (limite 1, déjà 1)"
            + french
        )


def limited_client(commune, member: str, user: str, requests_per_day: int) -> TestClient:  # type: ignore[no-untyped-def]
    """An API client for a user of a new member with a daily request quota."""
    from commune.govern.members import add_member

    with commune.engine.begin() as conn:
        add_member(conn, member, "association", requests_per_day=requests_per_day)
    key = make_key(commune, user, member)
    return TestClient(create_app(commune), headers={"Authorization": f"Bearer {key}"} | EN)


def test_embeddings_count_against_the_quota_and_land_in_the_ledger(commune):
    from sqlalchemy import select

    from commune.store.schema import usage

    c = limited_client(commune, "Asso Vecteurs", "vera", requests_per_day=1)
    body = {"model": "use-multilingual-v3", "input": ["bonjour le monde"]}
    assert c.post("/v1/embeddings", json=body).status_code == 200
    r = c.post("/v1/embeddings", json=body)
    assert r.status_code == 429 and "Retry-After" in r.headers
    with commune.engine.connect() as conn:
        rows = conn.execute(select(usage.c.route, usage.c.input_tokens, usage.c.wh)).all()
    assert [(row.route, row.input_tokens) for row in rows] == [("v1/embeddings", 3)]
    assert rows[0].wh > 0


def test_listings_and_model_lists_are_metered(commune):
    # /api/collections, /api/documents and /v1/models were neither counted nor recorded.
    from sqlalchemy import select

    from commune.store.schema import usage

    c = limited_client(commune, "Asso Listes", "lise", requests_per_day=3)
    assert c.get("/api/collections").status_code == 200
    assert c.get("/api/documents").status_code == 200
    assert c.get("/v1/models").status_code == 200
    r = c.get("/api/collections")
    assert r.status_code == 429 and "Retry-After" in r.headers
    with commune.engine.connect() as conn:
        routes = [row.route for row in conn.execute(select(usage.c.route))]
    assert routes == ["api/collections", "api/documents", "v1/models"]


def test_user_cap_inside_the_members_pool(commune, corpus):
    commune.add([corpus], licence="etalab-2.0")
    capped = make_key(commune, "gus", "Ville G", tokens_per_month=None, requests_per_day=1)
    free = make_key(commune, "hana", "Ville G")
    app = create_app(commune)
    g = TestClient(app, headers={"Authorization": f"Bearer {capped}"} | EN)
    h = TestClient(app, headers={"Authorization": f"Bearer {free}"} | EN)
    assert g.post("/api/search", json={"query": "bac"}).status_code == 200
    r = g.post("/api/search", json={"query": "bac"})
    assert r.status_code == 429 and "user 'gus'" in r.json()["detail"]
    assert h.post("/api/search", json={"query": "bac"}).status_code == 200


def test_quotas_reset_with_their_window(commune, corpus, monkeypatch):
    from commune.govern.members import add_member
    from commune.govern.quotas import QuotaExceeded
    from commune.store import repository

    commune.add([corpus], licence="etalab-2.0")
    with commune.engine.begin() as conn:
        add_member(conn, "Ville H", "town", requests_per_day=1, wh_per_month=1000.0)
    secret = make_key(commune, "ivan", "Ville H")
    with commune.engine.connect() as conn:
        actor = authenticate(conn, secret)
    commune.search("bac", actor=actor, record="api/search")
    with pytest.raises(QuotaExceeded, match="quota of 1 request per day"):
        commune.search("bac", actor=actor, record="api/search")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(repository, "now", lambda: tomorrow)
    assert commune.search("bac", actor=actor, record="api/search")


def test_energy_quota_counts_watt_hours(commune, corpus):
    from commune.govern.members import add_member
    from commune.govern.quotas import QuotaExceeded

    commune.add([corpus], licence="etalab-2.0")
    with commune.engine.begin() as conn:
        add_member(conn, "Ville S", "town", wh_per_month=1e-9)  # any work exceeds it
    secret = make_key(commune, "sam", "Ville S")
    with commune.engine.connect() as conn:
        actor = authenticate(conn, secret)
    commune.ask("bac jaune ?", actor=actor)
    with pytest.raises(QuotaExceeded, match="Wh per month"):
        commune.ask("bac jaune ?", actor=actor)


def test_a_quota_s_refusal_writes_its_figures_whole(commune, corpus):
    """A quota's figures were written with ":g": 2,000,000 tokens per month read "2e+06"
    in the refusal, and a tiny Wh quota "1e-09" (« limite 1e-09 »)."""
    from commune.charter.steps import regulate
    from commune.govern.members import add_member
    from commune.govern.quotas import QuotaExceeded, QuotaUse
    from commune.text.messages import localise

    commune.add([corpus], licence="etalab-2.0")
    with commune.engine.begin() as conn:
        add_member(conn, "Ville T", "town", wh_per_month=1e-9)
    secret = make_key(commune, "tina", "Ville T")
    with commune.engine.connect() as conn:
        actor = authenticate(conn, secret)
    commune.ask("bac jaune ?", actor=actor)
    with pytest.raises(QuotaExceeded) as refused:
        commune.ask("bac jaune ?", actor=actor)
    said = refused.value.message
    assert "quota of 0.000000001 Wh per month (" in said and "e-" not in said, said
    assert "limite 0,000000001, déjà " in localise(said, "fr")
    big = QuotaUse("member 'Asso'", "tokens per month", 2000123, 2000000)
    assert regulate("en", big).reason.endswith("used 2000123 of 2000000 tokens per month")
    assert regulate("fr", big).reason.endswith("a utilisé 2000123 sur 2000000 jetons par mois")


# -- energy and the ledger -------------------------------------------------------------------


def test_every_answer_reports_its_energy_labelled_as_an_estimate(commune, corpus):
    commune.add([corpus], licence="etalab-2.0")
    answer = commune.ask("Quand passe le camion des ordures ?")
    e = answer.energy
    # CPU time is measured, the watts are configured: the figure is an estimate, and says so.
    assert not e["measured"] and e["wh"] > 0 and "CPU time x 12 W per core" in e["method"]
    assert "(estimated)" in e["method"] and "(measured)" not in e["method"]
    assert e["gco2e"] == pytest.approx(e["wh"] / 1000 * 52.0)
    with commune.engine.connect() as conn:
        # The answer's row (the add's are ingestion's, one per document).
        row = conn.exec_driver_sql(
            "select wh, gco2e, estimated, cpu_seconds from usage where mode != 'ingest'"
        ).one()
    assert row[0] == pytest.approx(e["wh"]) and row[2] == 1 and row[3] > 0


def _fake_machine(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A RAPL counter and a /proc/stat the test writes, in place of the machine's."""
    from commune.account import energy

    counter, stat = tmp_path / "energy_uj", tmp_path / "stat"
    monkeypatch.setattr(energy, "RAPL", counter)
    monkeypatch.setattr(energy, "PROC_STAT", stat)
    return counter, stat


def _stat(busy_ticks: int) -> str:
    return f"cpu  {busy_ticks} 0 0 1000 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n"


def test_only_a_meter_reading_is_labelled_measured(tmp_path, monkeypatch):
    import os

    from commune.account import energy

    counter, stat = _fake_machine(tmp_path, monkeypatch)
    counter.write_text("1000000")
    stat.write_text(_stat(0))
    meter = energy.Meter(12.0, use_rapl=True)
    counter.write_text("4600000")  # 3.6 J later: 0.001 Wh for the whole package
    # The machine was busy far longer than this process: the request gets its share only.
    stat.write_text(_stat(10_000 * os.sysconf("SC_CLK_TCK")))
    cpu, wh, method, estimated = meter.stop()
    assert not estimated and "(measured, shared)" in method
    assert 0 <= wh < 0.001 and wh == pytest.approx(0.001 * cpu / 10_000)


def test_a_request_gets_its_share_of_the_package_not_all_of_it(tmp_path, monkeypatch):
    """Before, RAPL's whole package energy (other processes, other requests) was given to the
    one request being metered, as "measured"."""
    import os

    from commune.account import energy

    counter, stat = _fake_machine(tmp_path, monkeypatch)
    counter.write_text("0")
    stat.write_text(_stat(0))
    meter = energy.Meter(12.0, use_rapl=True)
    other = energy.Meter(12.0, use_rapl=True)  # a concurrent request in this process
    sum(i * i for i in range(200_000))  # some CPU time of its own
    counter.write_text(str(int(3.6e9)))  # 1 Wh drawn by the package meanwhile
    tick = os.sysconf("SC_CLK_TCK")
    stat.write_text(_stat(100 * tick))  # 100 s of the machine's CPU time
    cpu, wh, method, estimated = meter.stop()
    other.stop()
    # Two requests overlapped: each is given half the process's CPU time, and the package's
    # energy in proportion to it against the machine's 100 s.
    assert cpu > 0 and wh == pytest.approx(cpu / 100) and wh < 0.5
    assert "share of the machine's CPU time" in method and not estimated


def test_remote_generation_is_modelled_by_ecologits(home, corpus):
    from commune.core import Commune
    from tests.endpoints import ScriptedEndpoint

    e = ScriptedEndpoint("Le bac jaune reçoit les emballages [1].")
    try:
        home.mkdir(parents=True)
        (home / "commune.toml").write_text(
            f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n'
            'openness = "open-weights"\njurisdiction = "FR"\n'
            "active_params_b = 24\ntotal_params_b = 24\ndatacenter_pue = [1.1, 1.4]\n"
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            a = c.ask("Où mettre les emballages en plastique ?", mode="generate", model="gpu")
            nothing = c.ask("Quelle est la recette de la tarte ?", mode="generate", model="gpu")
        assert not nothing.energy["measured"] and "ecologits" not in nothing.energy["method"]
        assert a.mode == "generate" and a.output_tokens == 20
        e_ = a.energy
        assert not e_["measured"] and "ecologits 0.11." in e_["method"]
        assert "modelled" in e_["method"] and "FRA electricity mix" in e_["method"]
        low, high = e_["wh_range"]
        assert low < e_["wh"] < high and e_["embodied_gco2e"] > 0
        # EcoLogits 0.11 for 20 tokens of a 24B model: a few mWh (0.4's copy gave 0.12 Wh).
        assert 0.0005 < e_["wh"] < 0.01
    finally:
        e.close()


def _remote_answer(home, corpus, usage: bool = True, extra: str = ""):  # type: ignore[no-untyped-def]
    """A question answered by a scripted remote model of 24B parameters (its reply cites the
    yellow bin); ``extra``: more lines of its [models.gpu]."""
    from commune.core import Commune
    from tests.endpoints import ScriptedEndpoint

    e = ScriptedEndpoint("Le bac jaune reçoit les emballages [1].", usage=usage)
    try:
        home.mkdir(parents=True)
        (home / "commune.toml").write_text(
            f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n'
            'openness = "open-weights"\njurisdiction = "FR"\n'
            f"active_params_b = 24\ntotal_params_b = 24\n{extra}"
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            return c.ask("Où mettre les emballages en plastique ?", mode="generate", model="gpu")
    finally:
        e.close()


def test_a_remote_model_that_reports_no_tokens_is_modelled_from_the_text_it_wrote(home, corpus):
    """Many OpenAI-compatible servers ignore stream_options.include_usage: the answer was
    recorded with 0 tokens and this machine's CPU time only, the remote part silently left
    out of the ledger, the quotas and the bill."""
    a = _remote_answer(home, corpus, usage=False)
    assert a.mode == "generate" and 5 <= a.output_tokens <= 30 and a.input_tokens > 50
    assert "ecologits 0.11." in a.energy["method"] and not a.energy["measured"]


def test_a_remote_models_configured_figure_prices_its_answers(home, corpus):
    """The operator's own figure, measured on its GPU server, was shown and capped by, but
    every answer was still priced by EcoLogits."""
    a = _remote_answer(home, corpus, extra="wh_per_1k_tokens = 0.3\n")
    assert a.mode == "generate" and a.output_tokens == 20
    assert "0.3 Wh per 1,000, a configured figure" in a.energy["method"]
    assert "ecologits" not in a.energy["method"]
    assert a.energy["wh"] >= 20 * 0.3 / 1000  # the remote part, and this machine's share


def test_ecologits_figures_are_the_packages_own():
    """The figure is EcoLogits' current model, called, not a copy of its coefficients: a
    24B model writing 150 tokens is about 0.016 Wh (0.4's coefficients gave 0.9)."""
    from commune.account.energy import modelled_generation

    m = modelled_generation("gpu", 24, 24, 150, "FRA")
    assert m.wh == pytest.approx(0.0163, rel=0.05) and m.wh_min == m.wh_max
    big = modelled_generation("big", 123, 123, 400, "FRA")
    assert big.wh == pytest.approx(0.37, rel=0.05)
    # The hosting's electricity mix: the same work emits more on a coal-heavy grid.
    assert modelled_generation("gpu", 24, 24, 150, "POL").gco2e > m.gco2e
    assert m.embodied_gco2e > 0 and m.gco2e > m.embodied_gco2e


def test_a_missing_ecologits_says_to_install_it(monkeypatch):
    import builtins

    from commune.account import energy
    from commune.errors import CommuneError

    real = builtins.__import__

    def no_ecologits(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("ecologits"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    energy.ecologits_version.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_ecologits)
    try:
        with pytest.raises(CommuneError, match="pip install 'ecologits"):
            energy.modelled_generation("gpu", 24, 24, 150, "FRA")
    finally:
        monkeypatch.undo()
        energy.ecologits_version.cache_clear()


def test_an_unknown_electricity_zone_is_refused_at_load(home):
    from commune.config import load_settings
    from commune.errors import ConfigError

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "http://x"\nmodel = "m"\n'
        'electricity_zone = "France"\n'
    )
    with pytest.raises(ConfigError, match="alpha-3"):
        load_settings(home)
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "http://x"\nmodel = "m"\n'
        "quantization_bits = 7\n"
    )
    with pytest.raises(ConfigError, match="quantization_bits"):
        load_settings(home)
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "http://x"\nmodel = "m"\n'
        'electricity_zone = "deu"\ndatacenter_pue = [1.4, 1.1]\n'
    )
    with pytest.raises(ConfigError, match="datacenter_pue"):
        load_settings(home)


def test_the_ledger_is_append_only(commune, corpus):
    from sqlalchemy.exc import IntegrityError

    commune.add([corpus], licence="etalab-2.0")
    commune.ask("bac ?")
    for sql in ("update usage set wh = 0", "delete from usage"):
        with pytest.raises(IntegrityError, match="append-only"), commune.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    with commune.engine.connect() as conn:
        asked = "select count(*) from usage where mode != 'ingest'"  # the add's are kept too
        assert conn.exec_driver_sql(asked).scalar() == 1


def test_an_abandoned_stream_is_recorded(commune, corpus):
    # A client that left mid-answer left no trace in the ledger.
    from sqlalchemy import select

    from commune.store.schema import usage

    commune.add([corpus], licence="etalab-2.0")
    events = commune.ask_stream("Quel jour passe la collecte ?", route="api/ask/stream")
    assert isinstance(next(events), str)
    events.close()  # what the server does when the client disconnects
    with commune.engine.connect() as conn:
        rows = conn.execute(
            select(usage.c.route, usage.c.mode, usage.c.cpu_seconds).where(usage.c.mode != "ingest")
        ).all()
    assert [(r.route, r.mode) for r in rows] == [("api/ask/stream", "abandoned")]
    assert rows[0].cpu_seconds > 0


def test_a_stream_closed_once_its_answer_is_read_is_recorded_once(commune, corpus):
    # The CLI stops reading at the Answer: closing the stream there wrote a second, "abandoned"
    # row, which counted the answer's CPU twice and a second request against the day's quota.
    from sqlalchemy import select

    from commune.answering.answer import Answer
    from commune.store.schema import usage

    commune.add([corpus], licence="etalab-2.0")
    events = commune.ask_stream("Quel jour passe la collecte ?", route="ask", mode="extractive")
    for event in events:
        if isinstance(event, Answer):
            break
    events.close()
    with commune.engine.connect() as conn:
        rows = conn.execute(
            select(usage.c.route, usage.c.mode).where(usage.c.mode != "ingest")
        ).all()
    assert [(r.route, r.mode) for r in rows] == [("ask", "extractive")]


def test_a_member_admin_shares_their_members_collection_and_no_other(coop, commune, home):
    """Only the operator could share a collection: a town whose upload started a private
    collection waited for the host to share it. A member's admins now decide who reads
    their member's collections (private or shared); public needs a cooperative admin; no
    one opens or closes another member's, and another member's private one is not seen."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.errors import Forbidden, NotFound

    arthur, clara, anne = commune.actor("arthur"), commune.actor("clara"), commune.actor("anne")

    def state(name: str) -> tuple[str, str | None]:
        [row] = [c for c in commune.collections() if c["name"] == name]
        return row["visibility"], row["owner"]

    before = len(commune.audit_entries(limit=1000))
    # Refused, each with its reason, nothing changed.
    with pytest.raises(Forbidden, match="needs a cooperative admin"):
        commune.set_visibility("a-private", "public", actor=arthur)
    with pytest.raises(Forbidden, match="needs the role member-admin or above; anne is reader"):
        commune.set_visibility("a-private", "shared", actor=anne)
    with pytest.raises(Forbidden, match="belongs to the cooperative as a whole"):
        commune.set_visibility("coop", "public", actor=arthur)
    with pytest.raises(Forbidden, match="to a member is the operator's"):
        commune.set_visibility("a-private", "shared", member="Ville B", actor=arthur)
    # Another member's private collection is answered as one that does not exist.
    answers = []
    for name in ("b-private", "nowhere"):
        with pytest.raises(NotFound) as refused:
            commune.set_visibility(name, "shared", actor=arthur)
        answers.append(str(refused.value).replace(name, "NAME"))
    assert answers[0] == answers[1]
    unseen = CliRunner().invoke(
        cli,
        ["--home", str(home), "visibility", "b-private", "shared", "--as", "arthur"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert unseen.exit_code != 0
    assert "aucune collection nommée 'b-private' (listez-les avec commune collections)" in (
        unseen.output
    )
    with pytest.raises(NotFound):  # cooperative admins do not read members' private ones
        commune.set_visibility("a-private", "shared", actor=clara)
    with pytest.raises(Forbidden):  # nor do readers learn whether a name exists
        commune.set_visibility("nowhere", "shared", actor=anne)
    assert len(commune.audit_entries(limit=1000)) == before
    assert state("a-private") == ("private", "Ville A")

    # Allowed: the member's admin shares it; Ville B's people read it; the owner stays.
    reason = commune.set_visibility("a-private", "shared", actor=arthur)
    assert reason == "the collection belongs to Ville A, which arthur administers"
    assert state("a-private") == ("shared", "Ville A")
    assert "a-private" in {c["name"] for c in coop("b").get("/api/collections").json()}
    [entry] = commune.audit_entries(limit=1000)[before:]
    assert (entry["actor"], entry["action"], entry["subject"]) == (
        "arthur",
        "visibility",
        "collection a-private",
    )
    assert json.loads(entry["details"]) == {
        "visibility": "shared",
        "owner": "Ville A",
        "reason": reason,
    }
    # Once shared, other members' admins still may not close it, nor make it public.
    with pytest.raises(Forbidden, match="belongs to Ville A: its admins decide"):
        commune.set_visibility("a-private", "private", actor=clara)
    # A cooperative admin makes their own member's collection, or the cooperative's, public.
    commune.set_visibility("b-private", "public", actor=clara)
    commune.set_visibility("coop", "public", actor=clara)
    assert state("b-private") == ("public", "Ville B") and state("coop") == ("public", None)

    # The command line, as arthur, in French; and the refusal in one line, in French.
    run = CliRunner()
    fr = {"LANG": "fr_FR.UTF-8"}
    done = run.invoke(
        cli, ["--home", str(home), "visibility", "a-private", "private", "--as", "arthur"], env=fr
    )
    assert done.exit_code == 0, done.output
    assert state("a-private") == ("private", "Ville A")
    refused = run.invoke(
        cli, ["--home", str(home), "visibility", "a-private", "public", "--as", "arthur"], env=fr
    )
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert "rendre une collection publique (lue par quiconque a une clé) demande" in refused.output
    # b-private is public now: arthur reads it, and is told whose it is.
    theirs = run.invoke(
        cli, ["--home", str(home), "visibility", "b-private", "private", "--as", "arthur"], env=fr
    )
    assert "la collection appartient à Ville B\u00a0: ses administrateurs décident" in (
        theirs.output
    )
    assert state("b-private") == ("public", "Ville B")


def test_a_person_starting_a_collection_gives_it_only_the_readers_they_may(
    coop, commune, home, tmp_path
):
    """`commune add --as` took --member and --visibility unchecked: a contributor started a
    public collection, or one owned by another member, and an unknown member's name was
    answered with the list of every member."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.errors import Forbidden

    make_key(commune, "dora", "Ville A", "contributor")
    note = tmp_path / "note.txt"
    note.write_text("Le marché de Noël ouvre le 1er décembre.", encoding="utf-8")
    dora, arthur = commune.actor("dora"), commune.actor("arthur")
    before = {c["name"] for c in commune.collections()}

    def add(name: str, actor, **given):  # type: ignore[no-untyped-def]
        return commune.add([note], collection=name, licence="etalab-2.0", actor=actor, **given)

    with pytest.raises(Forbidden, match="needs the role member-admin"):
        add("annonces", dora, visibility="public")
    with pytest.raises(Forbidden, match="needs a cooperative admin"):
        add("annonces", arthur, visibility="public")
    answers = []
    for other in ("Ville B", "Ville Z"):
        with pytest.raises(Forbidden) as refused:
            add("annonces", arthur, member=other)
        answers.append(str(refused.value))
    assert answers[0] == answers[1] and "Ville B" not in answers[0]
    assert {c["name"] for c in commune.collections()} == before  # nothing started

    # What they start anyway needs no decision; a member admin shares it from the start.
    add("notes-dora", dora, member="Ville A")
    add("annonces", arthur, visibility="shared")
    rows = {c["name"]: (c["visibility"], c["owner"]) for c in commune.collections()}
    assert rows["notes-dora"] == ("private", "Ville A")
    assert rows["annonces"] == ("shared", "Ville A")
    # The command line says it in French, in one line.
    r = CliRunner().invoke(
        cli,
        ["--home", str(home), "add", str(note), "--collection", "ailleurs", "--member", "Ville Z"]
        + ["--licence", "etalab-2.0", "--as", "arthur"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "confier la collection 'ailleurs' à un membre revient à l'opérateur" in r.output
    assert "membres connus" not in r.output


def test_collections_on_the_command_line_say_who_reads_each(coop, home):
    """`commune collections` printed names and counts only: after `commune visibility`
    nobody could see on the command line who reads a collection, nor its owner."""
    from click.testing import CliRunner

    from commune.cli import cli

    def lines(*args: str, lang: str = "fr_FR.UTF-8") -> set[str]:
        r = CliRunner().invoke(cli, ["--home", str(home), "collections", *args], env={"LANG": lang})
        assert r.exit_code == 0, r.output
        return set(r.output.splitlines())

    assert lines() == {
        "a-private\t1\tprivée\tVille A",
        "b-private\t1\tprivée\tVille B",
        "coop\t1\tpartagée\tla coopérative",
        "open\t1\tpublique\tla coopérative",
    }
    assert lines("--as", "arthur", lang="en_US.UTF-8") == {
        "a-private\t1\tprivate\tVille A",
        "coop\t1\tshared\tthe cooperative",
        "open\t1\tpublic\tthe cooperative",
    }


def test_a_name_another_member_holds_privately_is_said_taken_not_absent(commune, tmp_path):
    """Collection names are one namespace for the cooperative. A town's person uploading
    under a name another town's private collection holds was told "no collection named X":
    it hid nothing (a free name is taken at once), and told them to create what they were
    creating. They are told to choose another name, in their language, and nothing of the
    other town's collection is touched."""
    from commune.errors import NotFound
    from commune.text.messages import localise

    make_key(commune, "bob", "Ville A", "contributor")
    make_key(commune, "zed", "Ville B", "contributor")
    note = tmp_path / "note.txt"
    note.write_text("Délibération du conseil municipal du 3 mars.", encoding="utf-8")

    def add(name: str, who: str):  # type: ignore[no-untyped-def]
        actor = commune.actor(who)
        return commune.add([note], collection=name, licence="etalab-2.0", actor=actor)

    add("deliberations-2026", "bob")
    with pytest.raises(NotFound) as taken:
        add("deliberations-2026", "zed")
    said = localise(str(taken.value), "fr")
    assert "le nom de collection 'deliberations-2026' n'est pas à votre disposition" in said
    assert "choisissez un autre nom pour une nouvelle collection" in said
    [held] = [c for c in commune.collections() if c["name"] == "deliberations-2026"]
    assert (held["visibility"], held["owner"], held["documents"]) == ("private", "Ville A", 1)
    add("deliberations-2026-b", "zed")  # another name starts Ville B's own


def test_a_departed_members_commons_stay_and_its_private_collection_is_kept_unread(
    commune, tmp_path, monkeypatch
):
    """A member that leaves takes nothing from the commons: what it shared is still read by
    the others, under the licence it was given with, credited to it. Its private collection
    is kept as it was, read by nobody (its people no longer sign in; the others never did)
    until the operator decides; and its people are told why their key opens nothing, in
    their language."""
    from commune.govern import members as m

    keys = {"a": make_key(commune, "anne", "Ville A"), "b": make_key(commune, "bruno", "Ville B")}
    for coll, vis, text in (
        ("a-shared", "shared", "Le compostage collectif de la ville A ouvre le mercredi."),
        ("a-private", "private", "Le budget secret de la ville A prévoit une piscine."),
    ):
        path = tmp_path / f"{coll}.md"
        path.write_text(f"# {coll}\n\n{text}\n", encoding="utf-8")
        commune.add([path], collection=coll, member="Ville A", visibility=vis, licence="CC-BY-4.0")
    commune.admin.leave("Ville A", datetime(2099, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(m, "now", lambda: datetime(2099, 1, 1, tzinfo=UTC))
    app = create_app(commune)

    def client(who: str, language: dict[str, str]) -> TestClient:
        return TestClient(app, headers={"Authorization": f"Bearer {keys[who]}"} | language)

    refused = client("a", {"Accept-Language": "fr"}).post("/api/search", json={"query": "x"})
    assert refused.status_code == 401
    assert "Ville A a quitté la coopérative le 2099-01-01" in refused.text, refused.text
    english = client("a", EN).post("/api/search", json={"query": "x"})
    assert "Ville A left the cooperative on 2099-01-01" in english.text, english.text
    for acting in (commune.actor, commune.admin.actor):  # nor does the operator's --as anne
        with pytest.raises(m.Departed, match="Ville A left the cooperative"):
            acting("anne")
    assert commune.actor("bruno").member == "Ville B"
    b = client("b", EN)
    found = b.post("/api/search", json={"query": "compostage collectif", "k": 5}).json()
    assert "compostage" in texts(found) and "piscine" not in texts(found)
    listed = {d["collection"]: d for d in b.get("/api/documents").json()}
    assert listed["a-shared"]["licence"] == "CC-BY-4.0" and "a-private" not in listed
    kept = {c["name"]: c for c in commune.collections()}  # the operator's view
    assert kept["a-private"]["visibility"] == "private"
    assert kept["a-private"]["documents"] == kept["a-shared"]["documents"] == 1
    assert kept["a-shared"]["owner"] == kept["a-private"]["owner"] == "Ville A"  # still its


def test_nobody_opens_a_departed_members_collection_wider_in_its_stead(
    commune, home, tmp_path, monkeypatch
):
    """A departed member's private collection could still be made shared or public, by the
    operator (`commune visibility`, the administration page served without keys), and its
    shared one public: the member that decided who reads its documents is no longer there
    to decide again. Refused, by anyone, saying why and what may be done instead; nothing
    is written. Closing one further, and handing it to the member it joins again as, stay
    open; a departure still to come changes nothing."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.errors import Forbidden
    from commune.govern import members as m
    from commune.govern.policy import OPERATOR
    from commune.store.audit import entries

    make_key(commune, "anne", "Ville A", "cooperative-admin")
    make_key(commune, "bruno", "Ville B", "cooperative-admin")
    for coll, vis in (("a-private", "private"), ("a-shared", "shared")):
        path = tmp_path / f"{coll}.md"
        path.write_text(f"# {coll}\n\nLe compostage de la ville A.\n", encoding="utf-8")
        commune.add([path], collection=coll, member="Ville A", visibility=vis, licence="CC-BY-4.0")
    commune.admin.leave("Ville A", datetime(2099, 1, 1, tzinfo=UTC))
    # A departure to come: its own admins, and the operator, still decide.
    commune.set_visibility("a-shared", "public", actor=commune.actor("anne"))
    commune.set_visibility("a-shared", "shared")
    monkeypatch.setattr(m, "now", lambda: datetime(2099, 1, 2, tzinfo=UTC))

    def state():  # type: ignore[no-untyped-def]
        with commune.engine.connect() as conn:
            logged = len(entries(conn, limit=1000))
        return {c["name"]: c["visibility"] for c in commune.collections()}, logged

    before = state()
    said = "Ville A left the cooperative on 2099-01-01: nobody opens its collection"
    bruno = commune.actor("bruno")
    for coll, vis, actor in (
        ("a-private", "shared", OPERATOR),
        ("a-private", "public", OPERATOR),
        ("a-shared", "public", OPERATOR),
        ("a-shared", "public", bruno),  # was "its admins decide", who no longer sign in
    ):
        with pytest.raises(Forbidden, match=f"{said} '{coll}' wider in its stead") as refused:
            commune.set_visibility(coll, vis, actor=actor)
        assert refused.value.hint == (
            f"hand its documents back to it with commune export {coll}, or the collection to "
            "the member it joins again as, with --member and --transfer"
            if actor is OPERATOR
            else "ask the operator"
        )
    assert state() == before
    # The administration page offers the operator only what would not be refused: nothing
    # for the private one, closing for the shared one.
    offered = {c["name"]: c["choices"] for c in commune.library.shareable(OPERATOR)}
    assert offered == {"a-shared": ["private", "shared"]}
    for lang, line in (
        (
            "en_GB.UTF-8",
            f"error: {said} 'a-private' wider in its stead (hand its documents back to it "
            "with commune export a-private, or the collection to the member it joins again "
            "as, with --member and --transfer)",
        ),
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: Ville A a quitté la coopérative le 2099-01-01\u00a0: personne "
            "n'ouvre plus largement sa collection 'a-private' à sa place (rendez-lui ses "
            "documents avec commune export a-private, ou la collection au membre sous lequel "
            "il adhère à nouveau, avec --member et --transfer)",
        ),
    ):
        out = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(home), "visibility", "a-private", "public"]
        )
        assert out.exit_code != 0 and out.output == line + "\n", out.output
    assert state() == before
    commune.set_visibility("a-shared", "private")  # closed further: open to the operator
    commune.admin.add_member("Ville A 2099")  # it joins again: handed over, then opened
    # Handed over and opened in one step, the operator decided in the new owner's stead,
    # and `--member ANY --transfer` opened any departed member's collection with one flag.
    before = state()
    for lang, line in (
        (
            "en_GB.UTF-8",
            f"error: {said} 'a-private' wider in its stead (hand it over as it is: commune "
            "visibility a-private private --member 'Ville A 2099' --transfer; Ville A 2099's "
            "admins then decide who reads it)",
        ),
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: Ville A a quitté la coopérative le 2099-01-01\u00a0: personne "
            "n'ouvre plus largement sa collection 'a-private' à sa place (confiez-la telle "
            "quelle\u00a0: commune visibility a-private private --member 'Ville A 2099' "
            "--transfer\u00a0; les administrateurs de Ville A 2099 décident ensuite qui la lit)",
        ),
    ):
        out = CliRunner(env={"LANG": lang}).invoke(
            cli,
            ["--home", str(home), "visibility", "a-private", "public"]
            + ["--member", "Ville A 2099", "--transfer"],
        )
        assert out.exit_code != 0 and out.output == line + "\n", out.output
    with pytest.raises(Forbidden, match=f"{said} 'a-private' wider in its stead"):
        commune.set_visibility("a-private", "shared", member="Ville A 2099", transfer=True)
    assert state() == before
    commune.set_visibility("a-private", "private", member="Ville A 2099", transfer=True)
    commune.set_visibility("a-private", "shared")  # its own now: no longer a departed one's
    kept = {c["name"]: (c["visibility"], c["owner"]) for c in commune.collections()}
    assert kept == {"a-private": ("shared", "Ville A 2099"), "a-shared": ("private", "Ville A")}
