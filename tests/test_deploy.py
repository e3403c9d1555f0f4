"""What an operator installs and runs (issue 24, docs/operations.md).

The distribution: `python -m build` makes an sdist and a wheel named `commune-coop`
("commune" on the package index is an unrelated project), the wheel carries every file the
package reads at run time, and installed in a fresh environment it runs. That environment
has no pip and no network: the wheel goes in with --no-deps, and the dependencies are the
test environment's own, seen through a .pth line after the new site-packages, so `import
commune` finds the installed wheel first, never the source tree.

The front: Debian's nginx (scripts/ensure-nginx.sh fetches it into .cache/) with the shipped
site deploy/nginx/commune.conf and a self-signed certificate, in front of that installed
wheel's `commune serve`: sign-in, a streamed answer and uploads go through it.

The units of deploy/systemd/ pass `systemd-analyze verify`."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, make_person, wait_until

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "commune-coop"


def _run(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import build  # noqa: F401  (the test extra: make test installs it)

    # A copy of the project, so the build's egg-info and build/ never land in the tree that
    # other tests read.
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, tree / name)
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for folder in ("src", "deploy", "docs"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=junk)
    (tree / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "charter.toml", tree / "examples" / "charter.toml")
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend is this environment's setuptools (the test extra),
    # so building needs no network.
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, tree)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_distribution_has_its_own_name(built: dict[str, Path]) -> None:
    import commune

    stem = DISTRIBUTION.replace("-", "_")
    assert built["wheel"].name == f"{stem}-{commune.__version__}-py3-none-any.whl"
    assert built["sdist"].name == f"{stem}-{commune.__version__}.tar.gz"
    with zipfile.ZipFile(built["wheel"]) as whl:
        meta = whl.read(f"{stem}-{commune.__version__}.dist-info/METADATA").decode()
    assert f"Name: {DISTRIBUTION}\n" in meta
    # The sdist carries what the operator guide installs beside the package.
    import tarfile

    with tarfile.open(built["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for wanted in (
        "deploy/systemd/commune.service",
        "deploy/nginx/commune.conf",
        "deploy/prometheus/commune-alerts.yml",
        "docs/fr/exploitation.md",
        "docs/operations.md",
        "examples/charter.toml",
    ):
        assert wanted in names, wanted


def test_the_wheel_carries_every_file_the_package_reads(built: dict[str, Path]) -> None:
    """Templates, catalogues, migrations and the answer model are data files: a missing
    package-data pattern would pass every in-tree test and break every real install."""
    src = ROOT / "src"
    # Tools of a clone, not of an install: the template `alembic revision` writes a new
    # migration from, and the extraction map of scripts/i18n.sh.
    for_developers = {"commune/store/migrations/script.py.mako", "commune/web/babel.cfg"}
    wanted = {
        p.relative_to(src).as_posix()
        for p in (src / "commune").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".mo"}
    }
    with zipfile.ZipFile(built["wheel"]) as whl:
        shipped = set(whl.namelist())
    assert wanted - shipped == for_developers


@pytest.fixture(scope="module")
def installed(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The wheel in a fresh environment: its bin directory, and the environment to run it in
    (without PYTHONPATH: a source tree on it would make pip and python see Commune as
    already there)."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # The dependencies, not Commune: a plain path line (not a site dir), so the source tree's
    # editable finder in this environment is never loaded in the new one.
    Path(site.stdout.strip(), "_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "COMMUNE_HOME"}}
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    _run(*pip, "--no-deps", "--no-index", built["wheel"], env=env)
    return {"bin": venv / "bin", "env": env, "venv": venv}


def test_the_installed_wheel_runs_from_a_fresh_environment(
    installed: dict[str, Any], tmp_path: Path
) -> None:
    env = installed["env"]
    where = _run(
        installed["bin"] / "python",
        "-c",
        "import commune; print(commune.__file__)",
        env=env,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed["venv"]), where.stdout
    # The bill of materials finds its root by the package it installs, under the new name.
    own = _run(
        installed["bin"] / "python",
        "-c",
        "from commune.stack.software import own_distribution; print(own_distribution())",
        env=env,
        cwd=tmp_path,
    )
    assert own.stdout.strip() == DISTRIBUTION
    commune = installed["bin"] / "commune"
    assert _run(commune, "--version", env=env).stdout.startswith("commune, version ")
    # Its migrations, read from the wheel, make a database that the checks find whole.
    home = tmp_path / "home"
    _run(commune, "--home", home, "member", "add", "Ville de Sète", env=env)
    checked = _run(commune, "--home", home, "check", env=env)
    assert "fail" not in checked.stdout.lower(), checked.stdout


# --- systemd units ---------------------------------------------------------------------

UNITS = ROOT / "deploy" / "systemd"
BINARY = "/opt/commune/venv/bin/commune"  # where docs/operations.md installs it


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # on CI (.ci/run sets CI) a missing tool is a failure, not a skip
        assert not os.environ.get("CI"), "systemd-analyze is missing (Debian: apt install systemd)"
        pytest.skip("systemd-analyze is not installed here (Debian: apt install systemd)")
    names = sorted(p.name for p in UNITS.iterdir())
    assert names == [
        "commune-backup.service",
        "commune-backup.timer",
        "commune-eval.service",
        "commune-eval.timer",
        "commune.service",
    ]
    # verify checks that every command exists: the one path the guide installs to is
    # pointed at this environment's commune; nothing else in the units is changed.
    here = shutil.which("commune", path=str(Path(sys.executable).parent))
    assert here is not None
    for name in names:
        text = (UNITS / name).read_text(encoding="utf-8")
        assert name.endswith(".timer") or BINARY in text, name
        (tmp_path / name).write_text(text.replace(BINARY, here), encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", *(str(tmp_path / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # verify only warns (exit 0) about an unknown key or a bad value: any line is a defect.
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_a_stop_waits_for_the_longest_answer() -> None:
    """`systemctl stop` sends SIGTERM, and the server stops taking requests while those in
    flight finish; past TimeoutStopSec, systemd kills it. At 30 s, under [limits]
    generation_seconds' 60, a generated answer still streaming was killed mid-way: its
    reader got a cut answer, and its ledger row and decision record were never written
    (its quota place held five minutes more)."""
    from commune.config import LimitsSettings

    [stop] = _unit("commune.service")["TimeoutStopSec"]
    # The answer's time limit counts from its request; its records come after it.
    assert int(stop) > LimitsSettings().generation_seconds + 10, stop


def test_a_configuration_error_stops_the_service_and_a_database_out_of_reach_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Restart=on-failure` restarted a service stopped by a wrong commune.toml or
    charter.toml every 5 s, forever: every failure exited 2. A configuration error now exits
    78 (EX_CONFIG), which the unit does not restart; PostgreSQL not up yet at boot still
    exits 2, and is restarted until it is."""
    import psycopg
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    unit = _unit("commune.service")
    assert unit["Restart"] == ["on-failure"]
    [prevented] = unit.get("RestartPreventExitStatus", [""])
    port = "18250"  # probed, never listened on: each start stops before
    broken = tmp_path / "settings"
    broken.mkdir()
    (broken / "commune.toml").write_text("[limits]\nmax_file_mb = 'fifty'\n", "utf-8")
    charter = tmp_path / "charter"
    make_home(charter)
    (charter / "charter.toml").write_text('version = "1"\n[sobriety]\ncache_ttl_hours = 0\n')
    for home in (broken, charter):
        out = CliRunner().invoke(cli, ["--home", str(home), "serve", "--port", port])
        assert out.output.count("\n") == 1 and "Traceback" not in out.output, out.output
        assert str(out.exit_code) in prevented.split(), (out.exit_code, prevented, out.output)

    def refused(*args: object, **kwargs: object) -> None:
        raise psycopg.OperationalError("connection refused: is the server running?")

    monkeypatch.setattr(psycopg, "connect", refused)
    down = tmp_path / "postgresql"
    down.mkdir()
    (down / "commune.toml").write_text(
        'database_url = "postgresql+psycopg://commune:pw@127.0.0.1/commune"\n', "utf-8"
    )
    out = CliRunner().invoke(cli, ["--home", str(down), "serve", "--port", port])
    assert "cannot open the database" in out.output, out.output
    assert out.exit_code == 2 and "2" not in prevented.split(), (out.exit_code, prevented)


def test_a_database_url_that_can_never_open_stops_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong PostgreSQL password (a role or a database that does not exist) in
    database_url, or a URL no driver here reads (mysql://, postgres://), stopped commune
    serve with exit status 2, and commune.service started it again every 5 s, forever: the
    same URL met the same refusal, a failed login in PostgreSQL's log each time, under a line
    that said "running again will not help". They are configuration errors: exit 78, which
    the unit does not restart. A server not up yet stays 2 (the test above)."""
    import psycopg
    from click.testing import CliRunner

    from commune.cli import cli

    [prevented] = _unit("commune.service").get("RestartPreventExitStatus", [""])
    port = "18251"  # probed, never listened on: each start stops before

    def refused(*args: object, **kwargs: object) -> None:
        raise psycopg.OperationalError(
            'connection failed: FATAL:  password authentication failed for user "commune"'
        )

    monkeypatch.setattr(psycopg, "connect", refused)
    for url, said in (
        ("postgresql+psycopg://commune:wrong@127.0.0.1/commune", "refuses this login"),
        ("mysql://commune@127.0.0.1/commune", "SQLite (the default) or PostgreSQL"),
        ("postgres://commune:pw@127.0.0.1/commune", "postgresql+psycopg://"),
    ):
        home = tmp_path / url.partition(":")[0]
        home.mkdir()
        (home / "commune.toml").write_text(f'database_url = "{url}"\n', "utf-8")
        out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
            cli, ["--home", str(home), "serve", "--port", port]
        )
        assert said in out.output and out.output.count("\n") == 1, out.output
        assert "wrong" not in out.output, out.output  # the password is never shown
        assert str(out.exit_code) in prevented.split(), (url, out.exit_code, out.output)


def _unit(name: str) -> dict[str, list[str]]:
    """A unit's keys and their values, in order (a key may repeat)."""
    keys: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def test_the_backup_unit_backs_up_then_keeps_the_newest_14(tmp_path: Path) -> None:
    """The unit's own command lines, run by sh as systemd would run them (its escapes
    undone: %% and $$), on a home with 15 older backups beside: a verified backup is made,
    and the two oldest go."""
    unit = _unit("commune-backup.service")
    env = dict(v.split("=", 1) for v in unit["Environment"])
    assert env["KEEP"] == "14"
    backups = tmp_path / "backups"
    for day in range(1, 16):
        (backups / f"2026-11-{day:02d}T023000Z").mkdir(parents=True)
        (backups / f"2026-11-{day:02d}T023000Z" / "backup.json").write_text("{}")
    # Not a verified backup (an older version's failed night): never counted, never removed.
    (backups / "2026-11-30T023000Z").mkdir()
    (backups / "2026-11-30T023000Z" / "commune.db").write_text("half")
    home = tmp_path / "home"
    here = shutil.which("commune", path=str(Path(sys.executable).parent))
    assert here is not None
    _run(here, "--home", home, "member", "add", "Ville de Sète")  # a home with its database
    run_env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        **env,
        "COMMUNE_HOME": str(home),
        "BACKUPS": str(backups),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    # The unit's UMask, as systemd sets it: a backup holds every member's private documents.
    umask = os.umask(int(unit["UMask"][0], 8))
    try:
        for key in ("ExecStart", "ExecStartPost"):
            (line,) = unit[key]
            argv = shlex.split(line.replace("%%", "%").replace("$$", "$").replace(BINARY, here))
            _run(*argv, env=run_env)
    finally:
        os.umask(umask)
    left = sorted(p.name for p in backups.iterdir() if (p / "backup.json").exists())
    assert len(left) == 14 and "2026-11-01T023000Z" not in left and "2026-11-02T023000Z" not in left
    assert (backups / "2026-11-30T023000Z" / "commune.db").exists()
    newest = backups / left[-1]
    assert newest.name.startswith("20") and (newest / "commune.db").is_file(), left
    made = [newest, *newest.rglob("*")]
    assert not [p for p in made if p.stat().st_mode & 0o077], "a backup readable by others"


# --- nginx in front ----------------------------------------------------------------------

SITE = ROOT / "deploy" / "nginx" / "commune.conf"
NGINX = ROOT / ".cache" / "nginx" / "root"
QUESTION = "Quand passe le camion des ordures ménagères ?"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _replace(text: str, old: str, new: str) -> str:
    """One change to the shipped site, which must still contain what it changes."""
    assert old in text, f"deploy/nginx/commune.conf no longer has {old!r}: update this test"
    return text.replace(old, new)


def _site(upstream: int, https: int, http: int, cert: Path, key: Path, upload_mb: int) -> str:
    """The shipped site on this test's ports, certificate and upload limit; every other line
    as shipped."""
    from commune.config import LimitsSettings

    text = SITE.read_text(encoding="utf-8")
    # The shipped limit is the default [limits] max_upload_mb.
    assert f"client_max_body_size {LimitsSettings().max_upload_mb:g}m;" in text
    for old, new in [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen [::]:80;", ""),
        ("server_name commune.example.org;", "server_name localhost;"),
        ("/etc/letsencrypt/live/commune.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/commune.example.org/privkey.pem", str(key)),
        ("client_max_body_size 200m;", f"client_max_body_size {upload_mb}m;"),
    ]:
        text = _replace(text, old, new)
    return text


def _nginx_conf(where: Path, site: Path) -> str:
    """The main file Debian's nginx.conf would be, with this test's own prefix, pid, logs and
    temporary directories, so that it runs as any user."""
    temp = "\n".join(
        f"    {kind}_temp_path {where / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would be nobody
    return f"""{user}worker_processes 1;
pid {where / "nginx.pid"};
error_log {where / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    include {NGINX / "etc" / "nginx" / "mime.types"};
    access_log {where / "access.log"};
{temp}
    include {site};
}}
"""


def _certificate(where: Path) -> tuple[Path, Path]:
    cert, key = where / "cert.pem", where / "key.pem"
    _run(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", key, "-out", cert,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def front(installed: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The installed wheel's `commune serve` on a home with one document and one person, and
    nginx in front with the shipped site, over TLS."""
    from commune.core import Commune

    binary = NGINX / "usr" / "sbin" / "nginx"
    if not binary.exists():
        pytest.fail(f"no nginx at {binary}: run bash scripts/ensure-nginx.sh (make test does)")
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed for the certificate (apt install openssl)")
    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(
        '[web]\ntrusted_proxies = ["127.0.0.1"]\n'
        "[limits]\nmax_upload_mb = 1.0\nmax_file_mb = 1.0\n"
        "[metrics]\nenabled = true\n",
        encoding="utf-8",
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "collecte.md").write_text(
        "# Collecte des déchets\n\nLe camion des ordures ménagères passe le mardi matin. "
        "Les encombrants sont ramassés le premier lundi du mois.\n",
        encoding="utf-8",
    )
    with Commune(home) as commune:
        commune.add([docs], collection="mairie", licence="etalab-2.0")
        key = make_person(commune, "alice", "Ville A", "contributor")

    upstream, https, http = _port(), _port(), _port()
    logs = tmp_path / "serve.log"
    with logs.open("wb") as out:
        serve = subprocess.Popen(
            [installed["bin"] / "commune", "--home", home, "serve", "--port", str(upstream)],
            env=installed["env"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    where = tmp_path / "nginx"
    where.mkdir()
    cert, private = _certificate(where)
    site = where / "commune.conf"
    site.write_text(_site(upstream, https, http, cert, private, upload_mb=1), encoding="utf-8")
    (where / "nginx.conf").write_text(_nginx_conf(where, site), encoding="utf-8")
    nginx = [binary, "-p", where, "-e", where / "error.log", "-c", where / "nginx.conf"]
    _run(*nginx, "-t")  # the shipped site is valid nginx
    _run(*nginx)  # daemonises; stopped below with -s stop
    try:
        wait_until(
            lambda: _up(f"http://127.0.0.1:{upstream}/healthz") or serve.poll() is not None,
            "commune serve",
        )
        assert serve.poll() is None, logs.read_text(errors="replace")
        yield {
            "url": f"https://localhost:{https}",
            "http": f"http://127.0.0.1:{http}",
            "direct": f"http://127.0.0.1:{upstream}",
            "cert": cert,
            "key": key,
        }
    finally:
        subprocess.run([*map(str, nginx), "-s", "stop"], capture_output=True, timeout=60)
        serve.terminate()
        serve.wait(60)


def _up(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HSTS = "max-age=2592000"


def test_nginx_in_front_signs_in_streams_and_uploads(front: dict[str, Any]) -> None:
    import ssl

    import httpx

    trust = ssl.create_default_context(cafile=str(front["cert"]))
    with httpx.Client(base_url=front["url"], verify=trust, timeout=120) as web:
        # Plain HTTP only redirects to HTTPS.
        moved = httpx.get(front["http"] + "/signin", follow_redirects=False, timeout=30)
        assert moved.status_code == 301 and moved.headers["location"].startswith("https://")

        # Sign-in: the form's CSRF token, then the password; the Secure session cookie comes
        # back over TLS and opens the ask page.
        page = web.get("/signin")
        # HSTS, modest (30 days) and for this name only (docs/operations.md says why).
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == HSTS
        csrf = CSRF.search(page.text)
        assert csrf is not None
        form = {"user": "alice", "password": PASSWORD, "next": "/", "csrf": csrf.group(1)}
        signed = web.post("/signin", data=form, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        assert "secure" in signed.headers["set-cookie"].lower()
        home = web.get("/")
        assert home.status_code == 200 and 'action="/signin"' not in home.text
        session_csrf = CSRF.search(home.text)
        assert session_csrf is not None

        # A streamed answer from the web page's stream: pieces, then the whole answer.
        asked = {"question": QUESTION, "csrf": session_csrf.group(1)}
        with web.stream("POST", "/ask/stream", data=asked) as streamed:
            assert streamed.status_code == 200
            assert streamed.headers["content-type"].startswith("text/event-stream")
            events = [line for line in streamed.iter_lines() if line.startswith("event: ")]
        assert events[0] == "event: delta" and events[-1] == "event: answer", events

        # The API's stream, with a key, through the same location.
        auth = {"Authorization": f"Bearer {front['key']}"}
        with web.stream("POST", "/api/ask/stream", json={"question": QUESTION}, headers=auth) as s:
            body = "".join(s.iter_text())
        assert "mardi" in body and "event: answer" in body
        assert s.headers["Strict-Transport-Security"] == HSTS  # its own location, too

        # An upload within [limits] goes in; one over client_max_body_size (= max_upload_mb)
        # is refused by nginx before Commune reads a byte.
        text = "# Piscine\n\nLa piscine municipale ouvre à sept heures.\n"
        files = {"files": ("piscine.md", text.encode(), "text/markdown")}
        form_data = {"collection": "mairie", "licence": "etalab-2.0"}
        sent = web.post("/api/documents", files=files, data=form_data, headers=auth)
        assert sent.status_code == 200, sent.text
        assert sent.json()["files"][0]["status"] == "added"
        big = {"files": ("gros.md", b"a" * (1024 * 1024 + 4096), "text/markdown")}
        too_big = web.post("/api/documents", files=big, data=form_data, headers=auth)
        assert too_big.status_code == 413 and "nginx" in too_big.text
        # nginx's own refusals carry it (always), and the uploads' location's answers.
        assert too_big.headers["Strict-Transport-Security"] == HSTS
        assert sent.headers["Strict-Transport-Security"] == HSTS

        # /metrics is never served through the front; on the machine itself it is, and it
        # counted what went through the proxy.
        hidden = web.get("/metrics")
        assert hidden.status_code == 404 and hidden.headers["Strict-Transport-Security"] == HSTS
    scraped = httpx.get(front["direct"] + "/metrics", timeout=30)
    assert scraped.status_code == 200
    assert 'commune_http_requests_total{method="POST",route="/signin",status="303"} 1.0' in (
        scraped.text
    )


# --- the operator guide's commands ----------------------------------------------------

GUIDES = [ROOT / "docs" / "operations.md", ROOT / "docs" / "fr" / "exploitation.md"]
INVOCATION = re.compile(r"^(?:sudo -u commune /opt/commune/venv/bin/commune --home \S+ |commune )")


def _commands(guide: Path) -> list[list[str]]:
    """Every `commune ...` line of the guide's shell blocks, as arguments."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", guide.read_text(encoding="utf-8"), re.S):
        text = re.sub(r"\\\n\s*", " ", block)
        for line in text.splitlines():
            line = line.split("  #")[0].strip()
            if INVOCATION.match(line):
                found.append(shlex.split(INVOCATION.sub("", line)))
    return found


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_commune_command_in_the_guide_exists(guide: Path) -> None:
    import click

    from commune.cli import cli

    commands = _commands(guide)
    assert len(commands) >= 10, commands
    for args in commands:
        command: click.Command = cli
        rest = list(args)
        while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
            found = command.commands.get(rest[0])
            assert found is not None, f"{guide.name}: no command {rest[0]!r} in {args}"
            command, rest = found, rest[1:]
        assert not isinstance(command, click.Group), f"{guide.name}: {args} names a group"
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        for word in rest:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"{guide.name}: {args}: no option {word}"


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_guide_s_configuration_is_valid(guide: Path, tmp_path: Path) -> None:
    from commune.config import load_settings

    blocks = re.findall(r"```toml\n(.*?)```", guide.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    (tmp_path / "commune.toml").write_text("\n".join(blocks), encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.metrics.enabled and settings.web.trusted_proxies == ("127.0.0.1",)
    assert settings.models["gpu"].backend == "openai"


def test_the_guides_give_the_backup_timer_s_window() -> None:
    """The guides said "at 02:30" of a timer that starts up to 15 minutes later, at random
    (an exploratory test)."""
    timer = _unit("commune-backup.timer")
    (calendar,) = timer["OnCalendar"]
    (delay,) = timer["RandomizedDelaySec"]
    hour, minute = (int(x) for x in calendar.split()[-1].split(":")[:2])
    assert delay.endswith("min")
    end = minute + int(delay.removesuffix("min"))
    english = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"between\n  {hour:02d}:{minute:02d} and {hour:02d}:{end:02d}, server time" in english
    assert f"`RandomizedDelaySec={delay}`" in english
    french = (ROOT / "docs" / "fr" / "exploitation.md").read_text(encoding="utf-8")
    assert f"entre\n  {hour} h {minute} et {hour} h {end}, heure du serveur" in french
    assert f"`RandomizedDelaySec={delay}`" in french
    assert " at 02:30" not in english and "à 2 h 30" not in french


def _block_with(guide: Path, words: str) -> str:
    """The guide's one shell block that holds ``words``."""
    blocks = re.findall(r"```sh\n(.*?)```", guide.read_text(encoding="utf-8"), re.S)
    (block,) = [b for b in blocks if words in b]
    return block


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
@pytest.mark.parametrize("locale", ["C.UTF-8", "fr_FR.UTF-8", "en_GB.UTF-8"])
def test_the_guide_s_bulk_approval_approves_pages_read_again(
    guide: Path, locale: str, tmp_path: Path
) -> None:
    """After an upgrade, the guides' one-go approval of the pages a newer reader read again
    grepped `commune review list` for the English reason, which the list says in French
    unless the locale is English (a Debian server's C.UTF-8 included): it approved nothing,
    in silence, and the handbook's 254 pages still waited. Run as written, in a shell whose
    `commune` is this home's, under each locale."""
    from sqlalchemy import update

    from commune.core import Commune
    from commune.store.schema import revisions
    from tests.fixtures import HTML_PAGE
    from tests.test_ingest import read_otherwise

    home = tmp_path / "home"
    page = tmp_path / "dechets.html"
    page.write_text(HTML_PAGE, encoding="utf-8")
    with Commune(home) as commune:
        commune.add([page], collection="mairie", licence="etalab-2.0")
        commune.set_curation_rules("mairie", 1, "curator")
        with commune.engine.begin() as conn:  # stored by a version that recorded no reading
            conn.execute(update(revisions).values(reading=None))
        read_otherwise(commune)  # and read otherwise than today's reader reads it
        assert commune.add([page], collection="mairie", licence="etalab-2.0").updated == 1
        assert len(commune.pending()) == 1
    program = f"{shlex.quote(sys.executable)} -m commune.cli --home {shlex.quote(str(home))}"
    script = f'commune() {{ {program} "$@"; }}\nset -o pipefail\n'
    script += _block_with(guide, "review approve")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    _run("bash", "-c", script, env={**env, "LANG": locale})
    with Commune(home) as commune:
        assert commune.pending() == []
        [doc] = commune.documents("mairie")
        assert doc["status"] == "published"


def test_the_repository_tracks_no_link_out_of_itself() -> None:
    """A helper's checkout linked .cache to another checkout's and the link was committed (the
    ignore rule named a directory, ``.cache/``, and a link is none): a fresh clone's scripts
    then wrote their downloads through it to a path that does not exist there."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(
        ["git", "ls-files", "-s"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    links = [line.split("\t", 1)[1] for line in listed.splitlines() if line.startswith("120000")]
    outside = [p for p in links if not (root / p).resolve().is_relative_to(root.resolve())]
    assert not outside, f"links out of the repository are tracked: {outside}"
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", ".cache"], cwd=root, check=False
    )
    assert ignored.returncode == 0, ".cache (a directory or a link) must be ignored"
