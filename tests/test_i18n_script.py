"""scripts/i18n.sh, as a maintainer runs it after changing a page (docs/web.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_template_the_extractor_cannot_read_stops_the_script_before_any_catalogue_changes(
    tmp_path,
):
    """A template with a tag left open mid-edit was skipped by the extractor without a word,
    and the merge, which drops what the extraction did not find, dropped every translated
    entry of that page from messages.po (79 for the administration page's), the script
    ending with 0: once the template was mended, they came back untranslated. The script now
    stops, naming the template and the error, and no catalogue changes."""
    copy = tmp_path / "commune"
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    template = copy / "src/commune/web/templates/admin.html"
    template.write_text(template.read_text(encoding="utf-8") + "{% if open %}\n", "utf-8")
    catalogues = sorted(copy.glob("src/commune/**/locale/fr/LC_MESSAGES/*.po"))
    assert len(catalogues) == 3
    before = [po.read_bytes() for po in catalogues]

    run = subprocess.run(
        ["bash", str(copy / "scripts/i18n.sh")],
        env={**os.environ, "BIN": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert run.returncode == 1, run.stderr
    assert "extracting messages from src/commune/web/templates/admin.html" in run.stderr
    assert "TemplateSyntaxError" in run.stderr
    assert "stopped before merging them into their catalogue" in run.stderr
    assert [po.read_bytes() for po in catalogues] == before
