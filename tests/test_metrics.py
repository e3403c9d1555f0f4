"""/metrics (issue 24): Prometheus' text format, off by default, loopback-only unless a
token is set; the counters move with the requests, answers, energy and refusals they count."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_key

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = ("127.0.0.1", 40000)
ELSEWHERE = ("192.0.2.7", 40000)  # TEST-NET-1: a client on another machine


def _app(home: Path, toml: str):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text(toml, encoding="utf-8")
    return create_app(Commune(home))


class _client:  # noqa: N801 -- used as a context manager, like TestClient
    """A TestClient from ``client``'s address, without the app's lifespan: no background
    refresher loading the embedder for a test that asks nothing."""

    def __init__(self, app, client=LOOPBACK) -> None:  # type: ignore[no-untyped-def]
        from fastapi.testclient import TestClient

        self.test_client = TestClient(app, client=client)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self.test_client

    def __exit__(self, *exc: object) -> None:
        self.test_client.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_unless_the_operator_turns_them_on(home):  # type: ignore[no-untyped-def]
    with _client(_app(home, "")) as client:
        assert client.get("/metrics").status_code == 404


def test_requests_answers_energy_and_refusals_move_the_counters(home, tmp_path):  # type: ignore[no-untyped-def]
    app = _app(home, "[metrics]\nenabled = true\n")
    commune = app.state.commune
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "collecte.md").write_text(
        "# Collecte\n\nLe camion des ordures ménagères passe le mardi matin.\n", encoding="utf-8"
    )
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    key = make_key(commune, "hugo", "Ville H", "reader", requests_per_day=1)
    auth = {"Authorization": f"Bearer {key}"}
    with _client(app) as client:
        before = _samples(client.get("/metrics").text)
        files = len(list(corpus.iterdir()))
        assert _value(before, "commune_documents") == files
        assert _value(before, "commune_passages") >= files

        asked = client.post(
            "/api/ask", json={"question": "Quand passe le camion des ordures ?"}, headers=auth
        )
        assert asked.status_code == 200, asked.text
        refused = client.post("/api/ask", json={"question": "Et la déchetterie ?"}, headers=auth)
        assert refused.status_code == 429, refused.text
        client.get("/documents/999999", follow_redirects=False)

        after = _samples(client.get("/metrics").text)

    asks = dict(route="/api/ask", method="POST")
    assert _value(after, "commune_http_requests_total", status="200", **asks) == 1
    assert _value(after, "commune_http_requests_total", status="429", **asks) == 1
    assert _value(after, "commune_http_request_duration_seconds_count", route="/api/ask") == 2
    # One label for a template, never one per address.
    assert not any("999999" in str(labels) for _, labels in after)
    assert _value(after, "commune_quota_refusals_total", quota="requests per day") == 1
    answered = sum(
        _value(after, "commune_answers_total", outcome=o)
        - _value(before, "commune_answers_total", outcome=o)
        for o in ("extractive", "generated", "cached", "refused")
    )
    assert answered == 1
    assert _value(after, "commune_energy_wh_total") > _value(before, "commune_energy_wh_total")
    gen = _value(after, "commune_index_generation")
    assert gen >= 1 and _value(after, "commune_index_served_generation") == gen
    assert _value(after, "commune_index_lag_generations") == 0

    # The sample alerts (docs/operations.md) watch only metrics that exist.
    alerts = (ROOT / "deploy" / "prometheus" / "commune-alerts.yml").read_text(encoding="utf-8")
    watched = set(re.findall(r"\bcommune_[a-z_]+", alerts))
    assert watched and watched <= {name for name, _ in after}, watched - {n for n, _ in after}


def test_by_default_only_this_machine_straight_to_the_server(home):  # type: ignore[no-untyped-def]
    app = _app(home, '[metrics]\nenabled = true\n[web]\ntrusted_proxies = ["127.0.0.1"]\n')
    with _client(app, ELSEWHERE) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 403 and "[metrics] token" in refused.json()["detail"]
    with _client(app) as client:
        # Through a proxy on this same machine, the connection is loopback: the header says
        # it came from elsewhere.
        assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 403
        shown = client.get("/metrics")
        assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/plain")
        assert "commune_http_requests_total" in shown.text


def test_a_token_opens_them_to_a_scraper_elsewhere(home):  # type: ignore[no-untyped-def]
    app = _app(home, '[metrics]\nenabled = true\ntoken = "s3cret-scrape"\n')
    with _client(app, ELSEWHERE) as client:
        assert client.get("/metrics").status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", headers=wrong).status_code == 403
        right = {"Authorization": "Bearer s3cret-scrape"}
        assert client.get("/metrics", headers=right).status_code == 200


def test_a_refusal_is_said_in_the_callers_language(home):  # type: ignore[no-untyped-def]
    """The 403 was English whatever the caller asked, where every other refusal of the API
    is French unless Accept-Language prefers English."""
    english = {"Accept-Language": "en"}
    app = _app(home, "[metrics]\nenabled = true\n")
    with _client(app, ELSEWHERE) as client:
        refused = client.get("/metrics").json()
        assert refused["code"] == "forbidden"
        assert refused["detail"].startswith("/metrics ne répond que sur cette machine")
        assert (
            client.get("/metrics", headers=english)
            .json()["detail"]
            .startswith("/metrics answers only on this machine")
        )
    app = _app(home, '[metrics]\nenabled = true\ntoken = "s3cret-scrape"\n')
    with _client(app, ELSEWHERE) as client:
        assert client.get("/metrics").json()["detail"].startswith("/metrics demande le jeton")
        assert (
            client.get("/metrics", headers=english)
            .json()["detail"]
            .startswith("/metrics needs the bearer token")
        )


@pytest.mark.parametrize("toml", ['[metrics]\nenabled = "yes"\n', "[metrics]\nport = 9100\n"])
def test_a_wrong_setting_is_one_clear_error(home, toml):  # type: ignore[no-untyped-def]
    from commune.config import load_settings
    from commune.errors import ConfigError

    home.mkdir()
    (home / "commune.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"metrics\.(enabled|port)"):
        load_settings(home)


def test_made_up_methods_are_one_label(home):  # type: ignore[no-untyped-def]
    """Every method a client made up was a label of its own, a series kept for good: anyone,
    without a key, grew the registry (and each scrape) by a line per request."""
    with _client(_app(home, "[metrics]\nenabled = true\n")) as client:
        for i in range(30):
            client.request(f"FOO{i}", "/healthz")
        client.get("/healthz")
        samples = _samples(client.get("/metrics").text)
    methods = {
        dict(labels)["method"] for name, labels in samples if name == "commune_http_requests_total"
    }
    assert methods == {"GET", "other"}, methods


def test_a_head_is_counted_under_the_route_it_reached(home):  # type: ignore[no-untyped-def]
    """HEAD is answered as GET (api/middleware.HeadAsGet), on a copy of the request: the
    route the router found stayed on the copy, and every HEAD /healthz of an uptime monitor
    was counted as "unmatched", the scanners' 404s, not under /healthz."""
    with _client(_app(home, "[metrics]\nenabled = true\n")) as client:
        for _ in range(3):
            assert client.head("/healthz").status_code == 200
        assert client.head("/nowhere").status_code == 404
        samples = _samples(client.get("/metrics").text)
    counted = "commune_http_requests_total"
    assert _value(samples, counted, route="/healthz", method="HEAD", status="200") == 3
    assert _value(samples, counted, route="unmatched", method="HEAD", status="404") == 1


def test_a_request_refused_before_its_route_is_counted_under_it(home):  # type: ignore[no-untyped-def]
    """A request the middleware answered before the router (a missing key's 401, an
    overload's 503, a body too large) and a HEAD (served as a GET on a copy of the request)
    were all counted as "unmatched", with the scanners' 404s: an operator could not tell
    which route was refused or probed. They are counted under their route's template."""
    with _client(_app(home, "[metrics]\nenabled = true\n[limits]\nmax_body_kb = 1\n")) as client:
        assert client.post("/api/ask", json={"question": "Piscine ?"}).status_code == 401
        assert client.post("/api/ask/", json={"question": "Piscine ?"}).status_code == 401
        assert client.head("/healthz").status_code == 200
        assert client.post("/api/search", content=b"x" * 4096).status_code == 413
        assert client.get("/wp-login.php").status_code == 404
        samples = _samples(client.get("/metrics").text)
    total = "commune_http_requests_total"
    assert _value(samples, total, route="/api/ask", method="POST", status="401") == 2
    assert _value(samples, total, route="/healthz", method="HEAD", status="200") == 1
    assert _value(samples, total, route="/api/search", method="POST", status="413") == 1
    assert _value(samples, total, route="unmatched", method="GET", status="404") == 1


def test_purged_decision_records_do_not_turn_the_answers_counter_back(home, tmp_path):  # type: ignore[no-untyped-def]
    """commune_answers_total was the decision records' count, and the hourly purge of those
    past the charter's retention took it down: Prometheus reads any fall as a reset, so
    each purge made increase() and rate() count every answer ever given again. The purged
    records are counted, by outcome, in the purge's audit entry, and stay in the total."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from commune.store.schema import decisions

    app = _app(home, "[metrics]\nenabled = true\n")
    commune = app.state.commune
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "collecte.md").write_text(
        "# Collecte\n\nLe camion des ordures ménagères passe le mardi matin.\n", encoding="utf-8"
    )
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    for question in ("Quand passe le camion des ordures ?", "Le camion passe quel jour ?"):
        commune.ask(question, use_cache=False)

    def answers() -> float:
        with _client(app) as client:
            samples = _samples(client.get("/metrics").text)
        return sum(v for (name, _), v in samples.items() if name == "commune_answers_total")

    before = answers()
    assert before == 2
    with commune.engine.begin() as conn:
        [first, _] = conn.execute(select(decisions.c.id, decisions.c.created_at)).all()
        retention = timedelta(days=commune.charter.utility.retention_days + 1)
        conn.execute(
            update(decisions)
            .where(decisions.c.id == first.id)
            .values(created_at=first.created_at - retention)
        )
    assert commune.purge_decisions() == 1
    assert answers() == before
    commune.ask("Quand passe le camion des ordures ?", use_cache=False)
    assert answers() == before + 1
    assert commune.verify_audit().ok


def test_guessing_keys_on_mcp_is_counted_as_failed_sign_ins(home):  # type: ignore[no-untyped-def]
    """A wrong key on GET /mcp (a session's stream: no body, so the API's gate leaves it to
    the MCP endpoint) past [web] failed_sign_ins_per_minute got its 429, but
    commune_quota_refusals_total did not count it: the sample alert on sign-in guessing
    stayed quiet for a guesser who used that address."""
    toml = "[metrics]\nenabled = true\n[web]\nfailed_sign_ins_per_minute = 2\n"
    with _client(_app(home, toml)) as client:
        codes = [
            client.get(
                "/mcp",
                headers={
                    "Authorization": f"Bearer cmn_abcd1234_wrong{i}",
                    "Accept": "text/event-stream",
                },
            ).status_code
            for i in range(4)
        ]
        samples = _samples(client.get("/metrics").text)
    assert codes[0] == 401 and codes[-1] == 429, codes
    refused = _value(samples, "commune_quota_refusals_total", quota="failed sign-ins")
    assert refused == codes.count(429), samples


def test_a_scrape_reads_only_the_ledger_rows_added_since_the_last(home, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Each scrape summed the whole ledger, which grows with every request ever metered: a
    scrape's cost grew without end. A row is now summed once (past account/observed.SETTLED,
    when its transaction has long ended); the next scrapes read only the rows added since.
    A settled row changed behind the server's back (the test lifts the ledger's append-only
    trigger to do it) shows it: the figure does not move. A new answer does, and no counter
    ever falls."""
    from datetime import timedelta

    from sqlalchemy import text, update

    from commune.account import observed
    from commune.store.repository import now as clock
    from commune.store.schema import usage

    app = _app(home, "[metrics]\nenabled = true\n")
    commune = app.state.commune
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "collecte.md").write_text(
        "# Collecte\n\nLe camion des ordures ménagères passe le mardi matin.\n", encoding="utf-8"
    )
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.ask("Quand passe le camion des ordures ?", use_cache=False)
    later = lambda: clock() + timedelta(minutes=20)  # noqa: E731 -- past SETTLED's ten
    monkeypatch.setattr(observed, "now", later, raising=False)  # the rows so far: settled

    def scrape():  # type: ignore[no-untyped-def]
        with _client(app) as client:
            return _samples(client.get("/metrics").text)

    first = scrape()
    requests = _value(first, "commune_metered_requests_total")
    assert requests >= 1
    with commune.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER usage_append_only_update"))
        conn.execute(update(usage).values(wh=usage.c.wh + 1000.0))
    second = scrape()
    assert _value(second, "commune_energy_wh_total") == _value(first, "commune_energy_wh_total")
    monkeypatch.setattr(observed, "now", clock, raising=False)  # the next answer's: young
    commune.ask("Le camion passe quel jour ?", use_cache=False)
    third = scrape()
    assert _value(third, "commune_metered_requests_total") == requests + 1
    assert _value(third, "commune_energy_wh_total") > _value(second, "commune_energy_wh_total")
    assert (
        _value(third, "commune_energy_wh_total") < _value(first, "commune_energy_wh_total") + 1000
    )


def test_the_alerts_on_node_exporter_s_metrics_are_turned_on_by_the_guides(tmp_path):
    """The failed-backup alert reads node_exporter's systemd collector, which Debian's
    prometheus-node-exporter leaves off (its /etc/default file says ARGS=""): following the
    guide, a failed backup never raised an alert. Nor did anything warn of a disk filling
    up, which stops every write, the backup's too. The guides now turn the collector on,
    with a command run here on the file as Debian ships it, and an alert watches the disk.
    That command replaced the whole ARGS line: the flags an operator had given node_exporter
    (its address, a textfile directory) were lost. It now adds the flag beside them, once
    however many times it runs, and leaves the file's commented list of options alone."""
    import subprocess

    alerts = (ROOT / "deploy" / "prometheus" / "commune-alerts.yml").read_text(encoding="utf-8")
    assert set(re.findall(r"\b(node_[a-z_]+)\{", alerts)) == {
        "node_systemd_unit_state",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
    }
    commands = set()
    for doc in ("docs/operations.md", "docs/fr/exploitation.md"):
        lines = (ROOT / doc).read_text(encoding="utf-8").splitlines()
        [turn_on] = [
            ln
            for ln in lines
            if ln.startswith("sudo sed -i ")
            and ln.endswith(" /etc/default/prometheus-node-exporter")
        ]
        assert "sudo systemctl restart prometheus-node-exporter" in lines
        commands.add(turn_on)
    [turn_on] = commands  # the same in both languages
    # Debian 12's file, its comments shortened: the options it lists, commented out.
    comments = (
        "# Set the command-line arguments to pass to the server.\n",
        "#  --[no-]collector.systemd  Enable the systemd collector (default: disabled).\n",
    )
    given = "--web.listen-address=127.0.0.1:9100 --collector.textfile.directory=/var/lib/x"
    unit = "--collector.systemd.unit-include=commune.*"
    for args, expected in (
        ('ARGS=""', 'ARGS="--collector.systemd"'),  # as Debian ships it
        (f'ARGS="{given}"', f'ARGS="{given} --collector.systemd"'),  # the operator's kept
        (f'ARGS="--collector.systemd {given}"', f'ARGS="--collector.systemd {given}"'),  # on
        # A flag of the collector's is not the collector turned on: it was taken for it.
        (f'ARGS="{unit}"', f'ARGS="{unit} --collector.systemd"'),
    ):
        shipped = tmp_path / "prometheus-node-exporter"
        shipped.write_text(comments[0] + args + "\n\n" + comments[1])
        command = turn_on.removeprefix("sudo ").replace(
            "/etc/default/prometheus-node-exporter", str(shipped)
        )
        for _ in range(2):  # run again: added once
            subprocess.run(["sh", "-c", command], check=True, timeout=30)
            assert shipped.read_text() == comments[0] + expected + "\n\n" + comments[1], args
