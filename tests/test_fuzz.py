"""API fuzzing with schemathesis against the OpenAPI description: whatever it sends, with a
member's key or none, the API answers without a 500.

Positive and negative cases both (values inside and outside the bounds the description
states: offsets past 10**9, dates before 1970, wrong types, missing fields), through
schemathesis' three phases: the description's examples, its coverage phase (every boundary
and every kind of invalid value, each once: deterministic, run to the end whatever
``max_examples`` says) and random fuzzing, ``FUZZ_EXAMPLES`` per operation (50: about 900
cases and a minute on two cores; docs/reliability.md has the figures). In-process, no
network."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import schemathesis  # noqa: E402  (the test extra: make test installs it)
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from commune.api.app import create_app  # noqa: E402
from commune.core import Commune  # noqa: E402
from tests.conftest import make_key  # noqa: E402
from tests.fixtures import HTML_PAGE, TEXT_EN  # noqa: E402

# The schema is read when the module is collected; the home gets its documents and key in
# the fixture below, when the tests run.
_ROOT = Path(tempfile.mkdtemp(prefix="commune-fuzz-"))
# Every pytest worker collects this module; only the one that runs it closes the home.
atexit.register(shutil.rmtree, _ROOT, True)
_COMMUNE = Commune(_ROOT / "home")
_APP = create_app(_COMMUNE)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
# A request that generates with the local model holds the slot for seconds, more on a busy
# machine: the deadline (schemathesis' default is 10 s) only stops a hang.
schema.config.update(request_timeout=300)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CASES: Counter[str] = Counter()  # cases run per operation, printed at the end (pytest -s)


def teardown_module() -> None:
    print(f"\nfuzzing: {sum(CASES.values())} cases over {len(CASES)} operations")


@pytest.fixture(scope="module")
def target():  # type: ignore[no-untyped-def]
    (_ROOT / "docs").mkdir()
    (_ROOT / "docs" / "dechets.html").write_text(HTML_PAGE, encoding="utf-8")
    (_ROOT / "docs" / "pool.txt").write_text(TEXT_EN, encoding="utf-8")
    _COMMUNE.add([_ROOT / "docs"], licence="etalab-2.0")
    yield _APP, make_key(_COMMUNE, "fuzz", "Ville F", "member-admin")
    _COMMUNE.close()
    shutil.rmtree(_ROOT, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case, target):  # type: ignore[no-untyped-def]
    _, key = target
    CASES[f"{case.method} {case.path}"] += 1
    for headers in ({"Authorization": f"Bearer {key}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text[:300])
        if not headers and case.path not in (
            "/",
            "/healthz",
            "/transparency",
            "/transparency.json",
            "/peer/catalogue",  # what this home shares with other cooperatives: public
        ):
            # Without a key, nothing but the public pages answers with content.
            assert response.status_code >= 400, (case.method, case.path, response.status_code)


def test_the_schema_declares_how_to_authenticate(target):  # type: ignore[no-untyped-def]
    app, _ = target
    spec = app.openapi()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer" and schemes["APIKeyHeader"]["in"] == "header"
    assert spec["paths"]["/api/ask"]["post"]["security"]
