"""The distribution a cooperative installs (issue 24): `python -m build` makes an sdist and a
wheel named `commune-coop` ("commune" on the package index is an unrelated project), the
wheel carries every file the package reads at run time, and once installed in a fresh
environment its `commune` command answers a question with a citation.

The fresh environment has no pip and no network: the wheel goes in with --no-deps, and the
dependencies are the test environment's own, seen through a .pth line appended after the new
site-packages, so `import commune` finds the installed wheel first, never the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "commune-coop"


def _run(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("build", reason="needs build (pip install -e '.[test]')")
    # A copy of the project, so the build's egg-info and build/ never land in the tree that
    # other tests read.
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(ROOT / "src", tree / "src", ignore=junk)
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


def test_the_installed_wheel_answers_from_a_fresh_environment(
    built: dict[str, Path], tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # The dependencies, not Commune: a plain path line (not a site dir), so the source tree's
    # editable finder in this environment is never loaded in the new one.
    Path(site.stdout.strip(), "_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    # Without PYTHONPATH: a source tree on it would make pip (and python) see Commune as
    # already there.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "COMMUNE_HOME"}}
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    _run(*pip, "--no-deps", "--no-index", built["wheel"], env=env)

    where = _run(python, "-c", "import commune; print(commune.__file__)", env=env, cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout

    commune = venv / "bin" / "commune"
    assert _run(commune, "--version", env=env).stdout.startswith("commune, version ")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "piscine.md").write_text(
        "# Piscine\n\nLa piscine municipale ouvre à sept heures du lundi au vendredi.\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    _run(commune, "--home", home, "add", docs, "--licence", "etalab-2.0", env=env)
    answer = _run(
        commune, "--home", home, "ask", "À quelle heure ouvre la piscine municipale ?", env=env
    )
    assert "sept heures" in answer.stdout and "[1]" in answer.stdout, answer.stdout
    assert "piscine.md (etalab-2.0)" in answer.stdout
