"""The charter as code: its file validated with the line, the five steps on every request,
the cache, the redirect, the records and their retention, and the transparency page."""

from __future__ import annotations

import html
import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from commune.charter.rules import load_charter
from commune.errors import ConfigError
from commune.store.schema import answer_cache, audit_log, decisions
from tests.conftest import make_key
from tests.endpoints import ScriptedEndpoint

CHARTER = """
version = "2026-12-01"
name = "Charte de test"

[sovereignty]
jurisdictions = ["FR", "EU"]
stays_here = ["interne"]

[sobriety]
quality_floor = 0.5

[utility]
retention_days = 30
keep_question = "hash"

[[utility.refuse]]
name = "avis-medical"
words = ["diagnostic médical", "ordonnance"]
message_fr = "La coopérative n'utilise pas l'IA pour des avis médicaux."
message_en = "The cooperative does not use AI for medical advice."

[[utility.refuse]]
name = "service-public"
uses = ["commercial"]
message_fr = "La charte réserve l'assistant aux usages non commerciaux."
message_en = "The charter keeps the assistant to non-commercial uses."
"""


def write_charter(home, text: str = CHARTER) -> None:  # type: ignore[no-untyped-def]
    home.mkdir(parents=True, exist_ok=True)
    (home / "charter.toml").write_text(text, encoding="utf-8")


def models_toml(**endpoints: tuple[str, float, str]) -> str:
    """[models.NAME] tables for scripted endpoints: (url, parameters in B, jurisdiction)."""
    return "".join(
        f'[models.{name}]\nbackend = "openai"\nbase_url = "{url}"\nmodel = "{name}"\n'
        f'openness = "open-weights"\njurisdiction = "{where}"\n'
        f"active_params_b = {params}\ntotal_params_b = {params}\n"
        for name, (url, params, where) in endpoints.items()
    )


def scores(commune, collection: str, **by_system: float) -> None:  # type: ignore[no-untyped-def]
    """Evaluation scores as `commune eval` keeps them: ``extractive=0.6, gpu=0.8``."""
    from commune.charter.scores import record

    rows = [
        {
            "suite": "t",
            "suite_sha256": "0" * 64,
            "split": "test",
            "collection": collection,
            "mode": "extractive" if name == "extractive" else "generate",
            "model": None if name == "extractive" else name,
            "questions": 10,
            "correct": value,
            "fact_containment": value,
            "wh_per_correct_answer": 0.001,
            "generation": 1,
        }
        for name, value in by_system.items()
    ]
    with commune.engine.begin() as conn:
        record(conn, rows)


def steps_of(answer) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(d["step"], d["outcome"]) for d in answer.decisions]


# -- the file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('version = "1"\n[sobriety]\ncache = true\nquality_floor = 1.5\n', 4, "between 0 and 1"),
        ('version = "1"\n\n[sovereignty]\nopenness = ["open-ish"]\n', 4, "'open-ish' is not one"),
        ('version = "1"\n[utility]\nretention_days = 0\n', 3, "above 0"),
        ('version = "1"\n[sobriety]\ncolour = "green"\n', 3, "unknown key"),
        (
            'version = "1"\n[[utility.refuse]]\nname = "a"\nmessage_fr = "x"\nmessage_en = "y"\n'
            'words = ["z"]\n'
            '[[utility.refuse]]\nname = "b"\nmessage_fr = "x"\nmessage_en = "y"\nwords = [1]\n',
            11,
            "list of non-empty strings",
        ),
        ("[sobriety]\ncache = true\n", 1, "version is missing"),
        (  # a phrase the questions are never read as holding: it refused nothing, silently
            'version = "1"\n[[utility.refuse]]\nname = "a"\nmessage_fr = "x"\nmessage_en = "y"\n'
            'words = ["ordonnance", "???"]\n',
            6,
            "'\\?\\?\\?' holds no word that counts",
        ),
    ],
)
def test_an_invalid_charter_is_refused_with_its_line(home, text, line, message):
    write_charter(home, text)
    with pytest.raises(ConfigError, match=message) as exc:
        load_charter(home)
    assert f"charter.toml, line {line}:" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_commune_toml_s_charter_table_in_the_charter_says_where_it_goes(home):
    """peering.md calls [charter] tdm_reserved "the asking side's charter": put in
    charter.toml, it was an unknown key, and nothing said it is commune.toml's."""
    from commune.text.messages import localise

    write_charter(home, 'version = "1"\n[charter]\ntdm_reserved = "allow"\n')
    with pytest.raises(ConfigError) as exc:
        load_charter(home)
    said = str(exc.value)
    assert "commune.toml" in said and "move the [charter] table" in said, said
    french = localise(said, "fr")
    assert "déplacez la table [charter] (tdm_reserved) dans commune.toml" in french, french
    assert "une table de commune.toml, pas de charter.toml" in french, french


def test_a_phrase_that_can_never_match_is_refused_in_french(home):
    from commune.text.messages import localise

    write_charter(
        home,
        'version = "1"\n[[utility.refuse]]\nname = "a"\nmessage_fr = "x"\nmessage_en = "y"\n'
        'words = ["?!"]\n',
    )
    with pytest.raises(ConfigError) as exc:
        load_charter(home)
    said = localise(str(exc.value), "fr")
    assert (
        "ligne 6\u00a0: utility.refuse.words\u00a0: '?!' ne contient aucun mot qui compte" in said
    )


def test_a_charter_check_calls_valid_only_lifetimes_every_answer_can_count_back(home, corpus):
    """A retention or a cache lifetime reaching before the year 1 passed `charter check`, then
    stopped every answer ("a number is out of range"): the check now bounds them."""
    from commune.core import Commune

    for text, key in (
        ('version = "1"\n[utility]\nretention_days = 1000000\n', "utility.retention_days"),
        ('version = "1"\n[sobriety]\ncache_ttl_hours = 1e300\n', "sobriety.cache_ttl_hours"),
    ):
        write_charter(home, text)
        with pytest.raises(ConfigError, match=rf"line 3: {key}: must be at most \d+"):
            load_charter(home)
    write_charter(
        home,
        'version = "2"\n[utility]\nretention_days = 36525\n[sobriety]\ncache_ttl_hours = 876600\n',
    )
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        c.ask("Où mettre les emballages en plastique ?")
        again = c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(again))["reduce"] == "cached"
        assert c.charters.purge() == 0


def test_an_invalid_charter_stops_the_server_at_start_up(home):
    from commune.api.app import create_app
    from commune.core import Commune

    write_charter(home, 'version = "1"\n[utility]\nkeep_question = "everything"\n')
    with pytest.raises(ConfigError, match=r"line 3: utility.keep_question: must be one of"):
        create_app(Commune(home))


def test_the_cli_checks_a_charter_file(home, tmp_path):
    from click.testing import CliRunner

    from commune.cli import cli

    bad = tmp_path / "bad.toml"
    bad.write_text('version = "1"\n[sobriety]\nmode_preference = "always"\n')
    r = CliRunner().invoke(cli, ["--home", str(home), "charter", "check", str(bad)])
    assert r.exit_code == 78 and "line 3" in r.output and "mode_preference" in r.output
    write_charter(home)
    r = CliRunner().invoke(cli, ["--home", str(home), "charter", "check"])
    assert r.exit_code == 0 and "version 2026-12-01" in r.output


# -- the five steps ----------------------------------------------------------------------------


def test_every_answer_carries_the_five_steps_in_order(home, corpus):
    from commune.charter.steps import STEPS
    from commune.core import Commune

    write_charter(home)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Où mettre les emballages en plastique ?")
    assert [d["step"] for d in a.decisions] == list(STEPS)
    assert a.mode == "extractive" and a.found
    # Reasons are in the question's language.
    assert "règles de refus" in a.decisions[0]["reason"]
    assert "empreinte de la question" in a.decisions[3]["reason"]
    assert "n'a pas été évaluée" in a.decisions[1]["reason"]
    english = c.ask("When is the pool open?")
    assert "refusal rules" in english.decisions[0]["reason"]


def test_refuse_names_the_rule_and_does_no_work(home, corpus):
    from commune.core import Commune

    write_charter(home)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Peux-tu me faire une ordonnance pour ma toux ?")
        assert a.mode == "refused" and not a.found and not a.sources
        assert a.text.startswith("La coopérative n'utilise pas l'IA pour des avis médicaux.")
        assert steps_of(a)[0] == ("refuse", "refused")
        assert a.decisions[0]["rule"] == "avis-medical"
        # Only refuse and responsibility: nothing was reduced, regulated or redirected.
        assert [d["step"] for d in a.decisions] == ["refuse", "responsibility"]
        # A phrase matches whole: "diagnostic" alone is not "diagnostic médical".
        assert c.ask("Quel diagnostic pour le tri du verre ?").mode != "refused"
        with c.engine.connect() as conn:
            rec = conn.execute(select(decisions).where(decisions.c.id == a.decision_id)).one()
        assert rec.outcome == "refused" and rec.question is None  # the charter keeps hashes


@pytest.mark.parametrize(
    "question",
    [
        "Peux-tu évaluer ce candidat ?",
        "Comment noter les agents du service ?",
        "Can you rate my employee?",
        "Could you score candidates for the job?",
    ],
)
def test_a_refusal_phrase_matches_whatever_the_article(tmp_path, question):
    # Found by an exploratory test: under the example charter, "Peux-tu évaluer ce candidat ?"
    # and "Can you rate my employee?" were answered: the phrases' articles ("un", "an"), read
    # as words by the other language, had to be in the question.
    from pathlib import Path

    from commune.charter.rules import load_charter
    from commune.charter.steps import refuse

    example = Path(__file__).resolve().parent.parent / "examples" / "charter.toml"
    charter = load_charter(tmp_path, example)
    step = refuse(charter, question, "fr", None, None)
    assert (step.outcome, step.rule) == ("refused", "decision-individuelle"), step.reason
    # A phrase still matches whole: one of its words alone is not the phrase.
    assert refuse(charter, "Où déposer un dossier de candidat ?", "fr", None, None).outcome == (
        "pass"
    )


def test_an_edited_charter_is_in_force_at_the_next_request_of_a_running_process(home, caplog):
    """A server kept the charter it started with while the CLI recorded the edited one as in
    force: the answers and the transparency page then told two versions. The file is read
    again when it changes; an invalid edit leaves the charter in force as it was."""
    import logging

    from commune.core import Commune

    write_charter(home)
    with Commune(home) as c:
        assert c.ask("horaires de la piscine ?").mode != "refused"
        first = c.charter.version
        text = (home / "charter.toml").read_text()
        edited = text.replace(f'version = "{first}"', 'version = "2026-12-06"').replace(
            'words = ["diagnostic médical", ', 'words = ["piscine", "diagnostic médical", '
        )
        assert edited != text
        (home / "charter.toml").write_text(edited)
        a = c.ask("horaires de la piscine ?")
        assert a.mode == "refused" and a.decisions[0]["rule"] == "avis-medical"
        assert c.charter.version == "2026-12-06"
        assert [h["version"] for h in c.charter_history()][:2] == ["2026-12-06", first]
        # Back to the first: the history says it is in force again, newest first; the hash
        # recorded once before did not keep the newer one listed as the latest.
        (home / "charter.toml").write_text(text)
        assert c.ask("horaires de la piscine ?").mode != "refused"
        assert [h["version"] for h in c.charter_history()][:3] == [first, "2026-12-06", first]
        assert c.ask("horaires de la piscine ?").mode != "refused"  # no new entry per request
        assert [h["version"] for h in c.charter_history()][:3] == [first, "2026-12-06", first]
        (home / "charter.toml").write_text(edited)
        assert c.ask("horaires de la piscine ?").mode == "refused"
        with caplog.at_level(logging.ERROR, logger="commune.charter.book"):
            (home / "charter.toml").write_text(edited + "\n[sobriety]\nquality_floor = 1.5\n")
            assert c.ask("horaires de la piscine ?").mode == "refused"  # the edit before holds
            assert c.charter.version == "2026-12-06"
        said = next(r.message for r in caplog.records if "is not valid" in r.message)
        assert [r.message for r in caplog.records].count(said) == 1  # once, not each request
        # What to do under a server: no "start again" (a restart with the file still wrong
        # would not start), but the check and that the next request takes the fix.
        assert "start again" not in said and "the next request takes it, no restart" in said


def test_refuse_a_members_declared_use_and_a_spent_energy_budget(home, corpus):
    from commune.core import Commune
    from commune.govern.members import add_member, authenticate

    write_charter(
        home, CHARTER.replace("[sobriety]\n", "[sobriety]\nmember_month_wh_cap = 0.000001\n")
    )
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with c.engine.begin() as conn:
            add_member(conn, "Vigie", "association", declared_use="commercial")
        with c.engine.connect() as conn:
            watcher = authenticate(conn, make_key(c, "vic", "Vigie"))
            frugal = authenticate(conn, make_key(c, "fred", "Ville F"))
        a = c.ask("Quand passe le camion ?", actor=watcher)
        assert a.mode == "refused" and a.decisions[0]["rule"] == "service-public"
        first = c.ask("Quand passe le camion ?", actor=frugal)
        assert first.mode != "refused"  # nothing used yet this month
        second = c.ask("Quand passe le camion ?", actor=frugal)
        assert second.mode == "refused"
        assert second.decisions[0]["rule"] == "sobriety.member_month_wh_cap"
        assert "budget énergétique mensuel" in second.text


def test_a_quota_of_one_is_said_in_the_singular():
    """The regulate step read "used 0 of 1 requests per day", « 0 sur 1 requêtes par jour »;
    the quota's refusal "their quota of 1 requests per day"."""
    from commune.charter.steps import regulate
    from commune.govern.quotas import QuotaUse, amount
    from commune.text.messages import localise

    one = QuotaUse("user 'rita'", "requests per day", 0, 1)
    assert regulate("en", one).reason == "within quota: user 'rita' used 0 of 1 request per day"
    assert regulate("fr", one).reason.endswith("a utilisé 0 sur 1 requête par jour")
    tokens = QuotaUse("member 'Asso'", "tokens per month", 5, 1000)
    assert regulate("en", tokens).reason.endswith("used 5 of 1000 tokens per month")
    assert regulate("fr", tokens).reason.endswith("a utilisé 5 sur 1000 jetons par mois")
    said = f"user 'rita' has used their quota of {amount('requests per day', 1)} (1 used)"
    assert said == "user 'rita' has used their quota of 1 request per day (1 used)"
    assert localise(said, "fr") == (
        "l'utilisateur 'rita' a épuisé son quota de requêtes par jour (limite 1, déjà 1)"
    )


def test_regulate_reports_the_tightest_quota_and_refuses_past_it(home, corpus):
    from commune.core import Commune
    from commune.govern.members import authenticate
    from commune.govern.quotas import QuotaExceeded

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with c.engine.connect() as conn:
            actor = authenticate(conn, make_key(c, "rita", "Ville R", requests_per_day=2))
        a = c.ask("Quand passe le camion ?", actor=actor)
        regulate = dict(steps_of(a))["regulate"]
        assert regulate == "pass"
        assert (
            "l'utilisateur 'rita' a utilisé 0 sur 2 requêtes par jour" in (a.decisions[2]["reason"])
        )
        english = c.ask("When is the pool open?", actor=actor)
        assert "user 'rita' used 1 of 2 requests per day" in english.decisions[2]["reason"]
        with pytest.raises(QuotaExceeded):
            c.ask("Quand passe le camion ?", actor=actor)
        with c.engine.connect() as conn:
            last = conn.execute(select(decisions).order_by(decisions.c.id.desc())).first()
        assert last.outcome == "over-quota"
        recorded = json.loads(last.steps)
        assert [s["step"] for s in recorded] == ["refuse", "reduce", "regulate", "responsibility"]
        # In the question's language, as every other step's reason (it was kept in English).
        assert recorded[2]["reason"].startswith(
            "l'utilisateur 'rita' a épuisé son quota de requêtes par jour (limite 2, déjà 2)"
        ), last.steps
        # Step 4, as every other record has it: it was missing from this one alone.
        assert recorded[3] == {
            "step": "responsibility",
            "outcome": "recorded",
            "reason": "ces décisions sont consignées et gardées 90 jours, avec l'empreinte de "
            "la question seulement",
            "rule": "utility.retention_days",
        }


# -- reduce: the cache ---------------------------------------------------------------------------


def test_the_same_question_is_served_from_the_cache_until_the_commons_changes(
    home, corpus, tmp_path
):
    from commune.core import Commune

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        first = c.ask("Où mettre les emballages en plastique ?")
        again = c.ask("où mettre les emballages en plastique")
        assert first.mode == "extractive" and again.mode == first.mode
        assert dict(steps_of(again))["reduce"] == "cached"
        assert again.text == first.text and [s.source for s in again.sources] == [
            s.source for s in first.sources
        ]
        assert again.energy["wh"] < first.energy["wh"]
        # A new document is a new index generation: the cached answer is not served.
        extra = tmp_path / "extra.txt"
        extra.write_text("Les encombrants sont collectés le premier lundi du mois.")
        c.add([extra], licence="etalab-2.0")
        fresh = c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(fresh))["reduce"] != "cached"
        with c.engine.connect() as conn:
            generations = conn.execute(select(func.count(answer_cache.c.generation.distinct())))
            assert generations.scalar() == 1  # the stale entries were dropped


def test_a_near_duplicate_question_shares_the_answer_and_a_different_one_does_not(commune, corpus):
    commune.add([corpus], licence="etalab-2.0")
    first = commune.ask("Où mettre les emballages en plastique ?")
    near = commune.ask("Bonjour, où mettre les emballages en plastique ?")
    step = next(d for d in near.decisions if d["step"] == "reduce")
    assert step["outcome"] == "cached" and "cosinus" in step["reason"]
    assert near.text == first.text
    other = commune.ask("Quand passe le camion des ordures ?")
    assert dict(steps_of(other))["reduce"] != "cached"


FIREWALL = """# The ufw firewall

## Enabling the firewall

To enable the firewall, run ufw enable as root. The rules are then applied at every boot.

## Disabling the firewall

To disable the firewall, run ufw disable as root. All rules stay saved but are no longer applied.
"""


def test_the_opposite_question_is_never_given_the_cached_answer(home, tmp_path):
    """Their embeddings are 0.94 apart, over the 0.86 floor: the words tell them apart."""
    from commune.core import Commune

    (tmp_path / "firewall.md").write_text(FIREWALL, encoding="utf-8")
    with Commune(home) as c:
        c.add([tmp_path / "firewall.md"], licence="etalab-2.0")
        on = c.ask("How do I enable the firewall?")
        off = c.ask("How do I disable the firewall?")
        assert dict(steps_of(off))["reduce"] != "cached"
        assert "ufw disable" in off.text.split("[1]")[0] and "ufw enable" in on.text
        again = c.ask("Hello, how do I disable the firewall please?")
        assert dict(steps_of(again))["reduce"] == "cached" and again.text == off.text


def test_a_change_of_settings_is_never_answered_from_the_cache(home, tmp_path):
    """A rights holder's TDM reservation now excluded by commune.toml: what was answered
    under the old setting is not served again."""
    from commune.core import Commune

    (tmp_path / "firewall.md").write_text(FIREWALL, encoding="utf-8")
    home.mkdir(exist_ok=True)
    (home / "commune.toml").write_text('[charter]\ntdm_reserved = "allow"\n')
    with Commune(home) as c:
        c.add([tmp_path / "firewall.md"], licence="etalab-2.0", tdm_reserved=True)
        assert c.ask("How do I enable the firewall?").sources
    (home / "commune.toml").write_text('[charter]\ntdm_reserved = "exclude"\n')
    with Commune(home) as c:
        after = c.ask("How do I enable the firewall?")
        assert dict(steps_of(after))["reduce"] != "cached"
        assert not after.sources and after.excluded


def test_an_upgrade_of_the_code_is_never_answered_from_the_cache(home, corpus, monkeypatch):
    """A retrained sentence ranker or a fixed reader answers otherwise: what the old code
    answered, kept in the database across the restart, is not served by the new one."""
    from commune.answering import path
    from commune.core import Commune

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        c.ask("Où mettre les emballages en plastique ?")
        again = c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(again))["reduce"] == "cached"
    monkeypatch.setattr(path, "running_code", lambda: "the next release")
    with Commune(home) as c:
        after = c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(after))["reduce"] != "cached"
        assert after.text == again.text  # the same code would have given the same answer


def test_the_cache_is_per_scope_a_member_never_gets_anothers_private_answer(commune, corpus):
    from commune.govern.members import add_member, authenticate

    with commune.engine.begin() as conn:
        add_member(conn, "Ville A", "town")
    commune.add([corpus], collection="privee", licence="etalab-2.0", member="Ville A")
    with commune.engine.connect() as conn:
        insider = authenticate(conn, make_key(commune, "ann", "Ville A"))
        outsider = authenticate(conn, make_key(commune, "bob", "Ville B"))
    inside = commune.ask("Où mettre les emballages en plastique ?", actor=insider)
    assert inside.found
    outside = commune.ask("Où mettre les emballages en plastique ?", actor=outsider)
    assert not outside.found and dict(steps_of(outside))["reduce"] != "cached"


def test_cache_off_and_lifetime_from_the_charter(home, corpus):
    from commune.core import Commune

    write_charter(home, 'version = "1"\n[sobriety]\ncache = false\n')
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(c.ask("Où mettre les emballages en plastique ?")))["reduce"] != (
            "cached"
        )
    write_charter(home, 'version = "2"\n[sobriety]\ncache_ttl_hours = 1\n')
    with Commune(home) as c:
        c.ask("Où mettre les emballages en plastique ?")
        with c.engine.begin() as conn:
            old = answer_cache.c.created_at
            conn.execute(update(answer_cache).values(created_at=old - timedelta(hours=2)))
        late = c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(late))["reduce"] != "cached"


# -- reduce and redirect: by evaluation -------------------------------------------------------


def test_extraction_is_chosen_when_its_evaluation_clears_the_floor(commune, corpus):
    commune.add([corpus], licence="etalab-2.0")
    scores(commune, "default", extractive=0.62)
    a = commune.ask("Où mettre les emballages en plastique ?")
    reduce = next(d for d in a.decisions if d["step"] == "reduce")
    assert reduce["outcome"] == "extractive" and "62 %" not in reduce["reason"]
    # French typography: a narrow no-break space before the sign.
    assert "62\u202f%" in reduce["reason"] and "50\u202f%" in reduce["reason"]
    assert dict(steps_of(a))["redirect"] == "extractive"


def test_redirect_picks_the_smallest_model_that_clears_the_floor(home, corpus):
    from commune.core import Commune

    tiny = ScriptedEndpoint("Le bac jaune [1].")
    small = ScriptedEndpoint("Les emballages vont dans le bac jaune [1].")
    large = ScriptedEndpoint("Les emballages en plastique vont dans le bac jaune [1].")
    try:
        home.mkdir(parents=True)
        (home / "commune.toml").write_text(
            models_toml(
                large=(large.url, 24, "FR"), small=(small.url, 7, "FR"), tiny=(tiny.url, 1, "FR")
            )
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            scores(c, "default", extractive=0.3, tiny=0.2, small=0.7, large=0.9)
            a = c.ask("Où mettre les emballages en plastique ?")
            assert a.mode == "generate" and a.model == "small", a.decisions
            redirect = a.decisions[-1]
            assert redirect["step"] == "redirect" and "small" in redirect["reason"]
            assert not tiny.requests and not large.requests and len(small.requests) == 1
            # Nothing clears the floor: extraction, and the reply says why for each model.
            scores(c, "default", tiny=0.2, small=0.4, large=0.45)
            b = c.ask("Quand passe le camion des ordures ?")
            assert b.mode == "extractive" and len(small.requests) == 1
            reason = b.decisions[-1]["reason"]
            assert "tiny: 20%" in reason.replace("tiny : 20 %", "tiny: 20%") or "tiny" in reason
            assert all(name in reason for name in ("tiny", "small", "large"))
            assert "seuil" in reason
    finally:
        for e in (tiny, small, large):
            e.close()


def test_redirect_leaves_out_models_the_charter_does_not_allow(home, corpus):
    from commune.core import Commune

    abroad = ScriptedEndpoint("Les emballages vont dans le bac jaune [1].")
    try:
        write_charter(home)
        (home / "commune.toml").write_text(models_toml(abroad=(abroad.url, 7, "US")))
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            scores(c, "default", extractive=0.1, abroad=0.9)
            a = c.ask("Où mettre les emballages en plastique ?")
            assert a.mode == "extractive" and not abroad.requests
            assert "juridictions admises (US" in a.decisions[-1]["reason"]
            # Asked for by name, it is still not used: the charter's sovereignty rules hold.
            b = c.ask("Quand passe le camion ?", mode="generate", model="abroad")
            assert b.mode == "extractive" and not abroad.requests
            assert b.decisions[-1]["rule"] == "sovereignty.jurisdictions"
    finally:
        abroad.close()


def test_a_stays_here_collection_never_reaches_a_remote_endpoint(home, corpus, tmp_path):
    from commune.core import Commune

    gpu = ScriptedEndpoint("Les emballages vont dans le bac jaune [1].")
    try:
        write_charter(home)
        (home / "commune.toml").write_text(models_toml(gpu=(gpu.url, 7, "FR")))
        secret = tmp_path / "secret"
        secret.mkdir()
        (secret / "rh.txt").write_text(
            "Les emballages du service RH vont dans le bac jaune du deuxième étage, "
            "code confidentiel 4417."
        )
        with Commune(home) as c:
            c.add([corpus], collection="public", licence="etalab-2.0")
            c.add([secret], collection="interne", licence="etalab-2.0")
            scores(c, "public", extractive=0.1, gpu=0.9)
            scores(c, "interne", extractive=0.1, gpu=0.9)
            for collection in ("interne", None):
                a = c.ask(
                    "Où vont les emballages du service RH ?",
                    collection=collection,
                    mode="generate",
                    model="gpu",
                )
                assert a.mode == "extractive"
                assert "interne reste ici" in a.decisions[-1]["reason"]
            auto = c.ask(
                "Où vont les emballages du service RH, deuxième étage ?", collection="interne"
            )
            assert auto.mode == "extractive"
            sent = json.dumps([r["body"] for r in gpu.requests], ensure_ascii=False)
            assert "4417" not in sent and "RH" not in sent
            # The public collection may use it.
            ok = c.ask(
                "Où mettre les emballages en plastique ?",
                collection="public",
                mode="generate",
                model="gpu",
            )
            assert ok.mode == "generate" and len(gpu.requests) == 1
    finally:
        gpu.close()


def test_the_per_request_energy_cap_rules_out_a_model_estimated_above_it(home, corpus):
    from commune.core import Commune

    big = ScriptedEndpoint("Les emballages vont dans le bac jaune [1].")
    try:
        write_charter(home, 'version = "1"\n[sobriety]\nrequest_wh_cap = 0.5\n')
        (home / "commune.toml").write_text(models_toml(big=(big.url, 400, "FR")))
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            a = c.ask("Où mettre les emballages ?", mode="generate", model="big")
            assert a.mode == "extractive" and not big.requests
            assert "au-delà du plafond de 0,5 Wh" in a.decisions[-1]["reason"]
    finally:
        big.close()


def test_the_shipped_charter_answers_by_the_gpu_model_and_says_every_override(home, corpus):
    """Before, EcoLogits 0.4's copied coefficients put a 24B model at about 7.5 Wh for one
    answer, over the example charter's 2 Wh cap: a question asking for it got quoted
    extracts, and nothing visible said why. EcoLogits 0.11 models it at a few hundredths of a
    Wh for the answer's tokens; a model really over the cap is still not used, and every
    face says so in one line, in the asker's language."""
    from pathlib import Path

    from click.testing import CliRunner

    from commune.api.app import create_app
    from commune.cli import cli
    from commune.core import Commune

    gpu = ScriptedEndpoint("Les emballages vont dans le bac jaune [1].")
    big = ScriptedEndpoint("The packaging goes in the yellow bin [1].")
    try:
        shipped = Path(__file__).parent.parent / "examples" / "charter.toml"
        write_charter(home, shipped.read_text(encoding="utf-8"))
        (home / "commune.toml").write_text(
            "[generation]\nmax_tokens = 150\n"
            + models_toml(gpu=(gpu.url, 24, "FR"), big=(big.url, 1000, "FR"))
        )
        with Commune(home) as c:
            assert c.charter.sobriety.request_wh_cap == 2.0
            c.add([corpus], licence="etalab-2.0")
            a = c.ask("Où mettre les emballages en plastique ?", mode="generate", model="gpu")
            assert a.mode == "generate" and a.model == "gpu" and len(gpu.requests) == 1
            assert "gpu est admis" in a.decisions[-1]["reason"] and a.notice is None
            assert "ecologits 0.11." in a.energy["method"] and "modelled" in a.energy["method"]
            assert a.energy["wh"] < 0.05
            # A 1,000B model writing up to 150 tokens: about 6 Wh, over the cap.
            fr = c.ask("Où mettre les emballages ?", mode="generate", model="big")
            assert fr.mode == "extractive" and not big.requests
            assert fr.notice is not None and fr.notice.startswith(
                "La charte a répondu par une citation des sources au lieu du modèle big "
                "demandé\u00a0: "
            )
            assert "au-delà du plafond de 2 Wh" in fr.notice and "\n" not in fr.notice
            assert fr.to_json()["notice"] == fr.notice  # MCP's ask returns this JSON
            # /v1 (the field beside the answer) and the API, asked in English.
            secret = make_key(c, "alice", "Ville A")
            client = TestClient(create_app(c))
            auth = {"Authorization": f"Bearer {secret}"}
            question = "Where does plastic packaging go?"
            chat = client.post(
                "/v1/chat/completions",
                json={"model": "big", "messages": [{"role": "user", "content": question}]},
                headers=auth,
            ).json()
            notice = chat["commune"]["notice"]
            assert notice.startswith("The charter answered by quoting the sources instead of ")
            assert "over the cap of 2 Wh" in notice
            api = client.post(
                "/api/ask",
                json={"question": question, "mode": "generate", "model": "big"},
                headers=auth,
            ).json()
            assert api["notice"] == notice
            # A refusal names its rule, in one line too.
            refused = c.ask("Une ordonnance pour la toux ?")
            assert (
                refused.notice == "Demande refusée par la charte (règle «\u00a0avis-medical\u00a0»)"
            )
        r = CliRunner().invoke(
            cli,
            ["--home", str(home), "ask", "Où mettre le verre ?", "--mode", "generate"]
            + ["--model", "big"],
        )
        assert r.exit_code == 0, r.output
        note = next(line for line in r.output.splitlines() if line.startswith("note\u00a0: "))
        assert "La charte a répondu par une citation des sources" in note
        assert not big.requests
    finally:
        gpu.close()
        big.close()


def _ledger_row(conn, model: str, wh: float, output_tokens: int, estimated: bool) -> None:  # type: ignore[no-untyped-def]
    from commune.store import repository as repo

    repo.record_usage(
        conn,
        route="ask",
        mode="generate",
        model=model,
        input_tokens=500,
        output_tokens=output_tokens,
        wh=wh,
        gco2e=0.0,
        energy_method="test",
        estimated=estimated,
        cpu_seconds=1.0,
        duration_ms=1.0,
        fallback=False,
    )


def test_a_mix_of_measured_and_estimated_history_is_labelled_estimated(home):
    """Before, the catalogue took the flag's minimum: one measured answer among estimated
    ones labelled the whole history "measured"."""
    from commune.charter.catalogue import catalogue
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text('[models.tiny]\nbackend = "llamacpp"\npath = "t.gguf"\n')
    with Commune(home) as c:
        with c.engine.begin() as conn:
            _ledger_row(conn, "tiny", 0.02, 100, estimated=False)
            _ledger_row(conn, "tiny", 0.06, 100, estimated=True)
        with c.engine.connect() as conn:
            card = {k.name: k for k in catalogue(c.settings, c.charter, conn)}["tiny"]
        assert card.energy_method.startswith("estimated, over 2 runs (200 output tokens)")
        # Per 1,000 *output* tokens: the prompt's 500 tokens a row are not in the divisor.
        assert card.wh_per_1k_tokens == pytest.approx(0.4)


# -- responsibility ------------------------------------------------------------------------------


def test_records_past_their_retention_are_purged_and_the_purge_is_audited(home, corpus):
    from commune.core import Commune

    write_charter(home, CHARTER.replace('keep_question = "hash"', 'keep_question = "text"'))
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Où mettre les emballages en plastique ?")
        b = c.ask("Quand passe le camion ?")
        with c.engine.begin() as conn:
            rec = conn.execute(select(decisions).where(decisions.c.id == a.decision_id)).one()
            assert rec.question == "Où mettre les emballages en plastique ?"
            conn.execute(
                update(decisions)
                .where(decisions.c.id == a.decision_id)
                .values(created_at=rec.created_at - timedelta(days=31))
            )
        assert c.purge_decisions() == 1
        with c.engine.connect() as conn:
            left = conn.execute(select(decisions.c.id)).scalars().all()
            entry = conn.execute(
                select(audit_log).where(audit_log.c.action == "purge decisions")
            ).one()
        assert a.decision_id not in left and b.decision_id in left
        assert json.loads(entry.details)["deleted"] == 1
        assert c.verify_audit().ok


def test_web_sessions_ended_past_the_retention_are_purged(home):
    """A signed-out or expired session's row (who signed in when) was kept for good: the
    purge that deletes the decision records past the retention deletes it too."""
    import hashlib

    from commune.core import Commune
    from commune.govern import sessions
    from commune.store.schema import web_sessions

    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    write_charter(home)  # retention_days = 30
    with Commune(home) as c:
        make_key(c, "alice", "Ville")
        alice = c.actor("alice")
        with c.engine.begin() as conn:
            old = sessions.open_session(conn, alice, 12)
            ended = sessions.open_session(conn, alice, 12)
            live = sessions.open_session(conn, alice, 12)
            sessions.end(conn, ended)
            past = timedelta(days=40)
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.digest.in_([digest(t) for t in (old, ended)]))
                .values(
                    created_at=web_sessions.c.created_at - past,
                    expires_at=web_sessions.c.expires_at - past,
                )
            )
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.ended_at.is_not(None))
                .values(ended_at=web_sessions.c.ended_at - past)
            )
        c.purge_decisions()
        with c.engine.connect() as conn:
            left = conn.execute(select(web_sessions.c.digest)).scalars().all()
            assert sessions.find(conn, live) is not None
            entry = conn.execute(
                select(audit_log.c.details).where(audit_log.c.action == "purge decisions")
            ).scalar_one()
        assert left == [digest(live)]
        assert json.loads(entry)["sessions_deleted"] == 2
        assert c.verify_audit().ok


def test_credits_past_the_retention_forget_who_asked_and_no_total_changes(home, corpus):
    """Each credit row kept the asker's id for good, though no total reads it: the purge
    forgets it past the retention, and the month's credits, payouts and the person's own
    usage read the same."""
    from commune.core import Commune
    from commune.store.repository import now
    from commune.store.schema import credits, usage

    write_charter(home)  # retention_days = 30
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        make_key(c, "alice", "Ville")
        alice = c.actor("alice")
        c.ask("Où mettre les emballages en plastique ?", actor=alice, mode="extractive")
        with c.engine.begin() as conn:
            # The ledger is append-only (a trigger): its rows stay of today.
            when = now() - timedelta(days=40)
            conn.execute(update(credits).values(created_at=when))
        month = when.strftime("%Y-%m")
        start, end = now() - timedelta(days=1), now() + timedelta(days=1)
        before = (c.credits(month), c.usage_series(alice, start, end))
        with c.engine.connect() as conn:
            assert set(conn.execute(select(credits.c.user_id)).scalars()) == {alice.user_id}
        c.purge_decisions()
        with c.engine.connect() as conn:
            assert set(conn.execute(select(credits.c.user_id)).scalars()) == {None}
            assert alice.user_id in set(conn.execute(select(usage.c.user_id)).scalars())
        assert (c.credits(month), c.usage_series(alice, start, end)) == before
        assert before[0]["contributors"] and before[1]
        assert c.verify_audit().ok


def test_a_charter_that_keeps_only_the_hash_erases_the_texts_an_earlier_one_kept(home, corpus):
    from commune.core import Commune

    write_charter(home, CHARTER.replace('keep_question = "hash"', 'keep_question = "text"'))
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Où mettre les emballages en plastique ?")
        write_charter(home)  # keep_question = "hash"
        b = c.ask("Quand passe le camion ?")
        # What the asker reads: only the hash is kept, their earlier question's included.
        told = [d["reason"] for d in b.decisions if d["step"] == "responsibility"]
        assert told == [
            "ces décisions sont consignées et gardées 30 jours, avec l'empreinte de la "
            "question seulement\u00a0; le cache des réponses en garde le texte 24 heures au plus"
        ]
        c.purge_decisions()
        with c.engine.connect() as conn:
            kept = dict(conn.execute(select(decisions.c.id, decisions.c.question)).all())
            entries = conn.execute(
                select(audit_log.c.details).where(audit_log.c.action == "purge decisions")
            ).scalars()
            erased = [json.loads(e)["questions_erased"] for e in entries]
        assert kept == {a.decision_id: None, b.decision_id: None}
        assert erased == [1]
        wal = home / "commune.db-wal"  # nor left in the write-ahead log
        assert not wal.exists() or "Où mettre les".encode() not in wal.read_bytes()
        assert c.verify_audit().ok


def test_a_backup_holds_no_record_past_the_retention_on_a_home_nobody_asked(home, corpus, tmp_path):
    import sqlite3

    from commune.core import Commune

    write_charter(home, CHARTER.replace('keep_question = "hash"', 'keep_question = "text"'))
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        c.ask("Où mettre les emballages en plastique ?")
    with Commune(home) as c:  # the next day's process: nobody has asked since
        with c.engine.begin() as conn:
            conn.execute(
                update(decisions).values(created_at=decisions.c.created_at - timedelta(days=31))
            )
        c.backup(tmp_path / "backup")
        with c.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 0
    copied = sqlite3.connect(tmp_path / "backup" / "commune.db")
    assert copied.execute("SELECT question FROM decisions").fetchall() == []
    copied.close()
    # A charter.toml that does not load stops no backup: the purge waits for it.
    (home / "charter.toml").write_text("version = 3\n", encoding="utf-8")
    with Commune(home) as c:
        assert c.backup(tmp_path / "backup-2")


def test_purged_records_leave_no_text_in_the_database_file(home):
    """The pages a purge frees are overwritten (secure_delete), not left on SQLite's free
    list with the questions in them until reused: no test failed with it off."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from commune.core import Commune

    write_charter(home, CHARTER.replace('keep_question = "hash"', 'keep_question = "text"'))
    with Commune(home) as c:
        with c.engine.begin() as conn:
            conn.execute(
                insert(decisions),
                [
                    {
                        "created_at": datetime.now(UTC) - timedelta(days=400),
                        "route": "ask",
                        "question": f"Où habite Monsieur Zorglub, au numéro {i} ?",
                        "question_sha256": "ab" * 32,
                        "language": "fr",
                        "outcome": "answered",
                        "steps": "[]",
                        "charter_sha256": "cd" * 32,
                    }
                    for i in range(500)
                ],
            )
        assert c.purge_decisions() == 500
        assert b"Monsieur Zorglub" not in (home / "commune.db").read_bytes()


def test_a_backup_waits_for_no_writer_to_purge(home, corpus, tmp_path):
    """An ingestion or another process holding the write lock: the backup is taken at once,
    the purge left to the next one, instead of waiting 30 s for the lock (busy_timeout)."""
    import sqlite3
    import threading

    from commune.core import Commune

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        locked, release, released = threading.Event(), threading.Event(), threading.Event()

        def writer() -> None:
            raw = sqlite3.connect(home / "commune.db", isolation_level=None)
            raw.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(timeout=20)  # under the 30 s the purge would wait for it
            raw.rollback()
            raw.close()
            released.set()

        thread = threading.Thread(target=writer)
        thread.start()
        assert locked.wait(timeout=10)
        try:
            assert c.backup(tmp_path / "backup")
            assert not released.is_set()  # taken while the writer still held the lock
        finally:
            release.set()
            thread.join()


# -- every route ---------------------------------------------------------------------------------


def test_the_api_and_openai_routes_carry_the_decisions(home, corpus):
    from commune.api.app import create_app
    from commune.core import Commune

    write_charter(home)
    commune = Commune(home)
    commune.add([corpus], licence="etalab-2.0")
    secret = make_key(commune, "alice", "Ville A")
    client = TestClient(create_app(commune))
    auth = {"Authorization": f"Bearer {secret}"}
    r = client.post("/api/ask", json={"question": "Où mettre les emballages ?"}, headers=auth)
    assert r.status_code == 200 and [d["step"] for d in r.json()["decisions"]][0] == "refuse"
    refused = client.post(
        "/api/ask", json={"question": "Une ordonnance pour la toux ?"}, headers=auth
    )
    assert refused.json()["mode"] == "refused"
    with client.stream(
        "POST", "/api/ask/stream", json={"question": "Quand passe le camion ?"}, headers=auth
    ) as s:
        body = "".join(s.iter_text())
    answer = json.loads(body.split("event: answer\ndata: ")[1].split("\n\n")[0])
    assert answer["decisions"][-1]["step"] == "redirect"
    chat = client.post(
        "/v1/chat/completions",
        json={"model": "auto", "messages": [{"role": "user", "content": "Une ordonnance ?"}]},
        headers=auth,
    ).json()
    assert chat["commune"]["mode"] == "refused" and chat["commune"]["decisions"]
    assert chat["choices"][0]["message"]["content"].startswith("La coopérative")


def test_the_cli_explains_its_decisions(home, corpus):
    from click.testing import CliRunner

    from commune.cli import cli

    write_charter(home)
    run = CliRunner()
    run.invoke(cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"])
    r = run.invoke(cli, ["--home", str(home), "ask", "Une ordonnance ?", "--explain"])
    assert r.exit_code == 0, r.output
    assert "Refuser         refusée" in r.output and "[avis-medical]" in r.output
    r = run.invoke(cli, ["--home", str(home), "ask", "Où mettre le verre ?", "--explain"])
    lines = [ln.split()[0] for ln in r.output.split("Décisions\u00a0:")[1].strip().splitlines()]
    assert lines == ["Refuser", "Réduire", "Réguler", "Responsabilité", "Rediriger"]


# -- transparency --------------------------------------------------------------------------------


def test_the_transparency_json_matches_the_data(home, corpus):
    from commune.api.app import create_app
    from commune.core import Commune

    write_charter(home)
    (home / "commune.toml").write_text("[energy]\nidle_watts = 40\n")
    commune = Commune(home)
    commune.add([corpus], licence="etalab-2.0")
    for q in ("Où mettre les emballages ?", "Où mettre les emballages ?", "Une ordonnance ?"):
        commune.ask(q)
    commune.ask("Quand passe le camion ?", route="eval", use_cache=False)  # not a request
    scores(commune, "default", extractive=0.55)
    commune.set_visibility("default", "public")  # its evaluations named on the public page
    client = TestClient(create_app(commune))
    data = client.get("/transparency.json").json()  # public by default: no key
    assert data["charter"]["version"] == "2026-12-01"
    assert data["charter"]["sha256"] == load_charter(home).sha256
    assert [h["version"] for h in data["charter"]["history"]] == ["2026-12-01"]
    # The file by its name: its path told anyone where the operator keeps it on the server.
    assert data["charter"]["file"] == "charter.toml" and "path" not in data["charter"]
    assert str(home) not in client.get("/transparency.json").text
    by = data["steps"]["by_outcome"]
    assert by["extractive"]["requests"] == 1 and by["cached"]["requests"] == 1
    assert by["refused"]["requests"] == 1 and data["steps"]["answered_requests"] == 3
    assert by["cached"]["share"] == pytest.approx(1 / 3, abs=1e-3)
    with commune.engine.connect() as conn:
        wh, ingested = conn.exec_driver_sql(
            "select sum(case when mode = 'ingest' then 0 else wh end), "
            "sum(case when mode = 'ingest' then wh else 0 end) from usage where route != 'eval'"
        ).one()
    assert data["totals"]["wh"] == pytest.approx(wh, abs=1e-6)
    # The add's energy beside the requests', not among them.
    assert ingested > 0
    assert data["totals"]["ingestion"]["wh"] == pytest.approx(ingested, abs=1e-6)
    assert data["month"]["ingestion_wh"] == pytest.approx(ingested, abs=1e-6)
    assert data["evaluations"][0]["correct"] == 0.55
    # This month's requests, and beside them the server at rest (40 W since the first row).
    month = data["month"]
    assert month["requests_wh"] == pytest.approx(wh, abs=1e-6)
    assert month["idle"]["watts"] == 40 and month["idle"]["hours"] >= 0
    assert month["idle"]["wh"] == pytest.approx(40 * month["idle"]["hours"])
    page = client.get("/transparency")
    assert page.status_code == 200 and "2026-12-01" in page.text and "<script" not in page.text
    assert "le serveur au repos a consommé" in page.text and "Au repos\u00a0: 40,0 W" in page.text
    # Found by an exploratory test: "3 avec réponse" counted the question the charter
    # refused, listed as "refusée" just below.
    said = html.unescape(page.text)
    assert "3 questions enregistrées\u00a0: 3 avec une réponse ou le refus de la charte" in said


def test_the_transparency_counts_reconcile_with_the_ledger(home, corpus):
    # Issue 23: "answered requests" counted questions refused over quota (no ledger row)
    # beside a ledger total of every request: 47 answered out of 36 requests.
    from commune.core import Commune
    from commune.govern.quotas import QuotaExceeded

    write_charter(home)
    with Commune(home) as commune:
        commune.add([corpus], licence="etalab-2.0")
        make_key(commune, "paul", "Ville P", requests_per_day=2)
        paul = commune.actor("paul")
        for q in ("Où mettre les emballages ?", "Une ordonnance ?"):
            commune.ask(q, actor=paul)
        for _ in range(2):
            with pytest.raises(QuotaExceeded):
                commune.ask("Où mettre le verre ?", actor=paul)
        commune.ask("Où mettre les emballages ?")  # cached
        commune.search("bac jaune", record="search")  # a request, not a question
        commune.documents()  # not metered: in neither count
        data = commune.transparency()
        with commune.engine.connect() as conn:
            ledger = conn.exec_driver_sql(
                "select count(*) from usage where route != 'eval' and mode != 'ingest'"
            )
            records = conn.exec_driver_sql("select count(*) from decisions")
            n_ledger, n_records = ledger.scalar(), records.scalar()
    steps, totals = data["steps"], data["totals"]
    assert (steps["questions"], steps["over_quota"], steps["answered_requests"]) == (5, 2, 3)
    assert steps["questions"] == n_records
    assert sum(v["requests"] for v in steps["by_outcome"].values()) == steps["questions"]
    assert totals["requests"] == n_ledger == 4
    assert totals["by_kind"] == {
        "answered_questions": 3,
        "abandoned_questions": 0,
        "other_requests": 1,
    }
    assert steps["answered_requests"] == totals["by_kind"]["answered_questions"]
    assert steps["answered_requests"] <= totals["requests"]


def test_the_charter_can_keep_transparency_to_members(home):
    from commune.api.app import create_app
    from commune.core import Commune

    write_charter(home, 'version = "1"\n[utility]\ntransparency_public = false\n')
    commune = Commune(home)
    client = TestClient(create_app(commune))
    assert client.get("/transparency.json").status_code == 401
    secret = make_key(commune, "alice", "Ville A")
    r = client.get("/transparency.json", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200


def test_a_new_charter_version_joins_the_history_and_the_audit_log(home):
    from commune.core import Commune

    write_charter(home, 'version = "1"\n')
    with Commune(home) as c:
        c.charter  # noqa: B018
    write_charter(home, 'version = "2"\n[utility]\nretention_days = 10\n')
    with Commune(home) as c:
        assert c.charter.utility.retention_days == 10
        data = c.transparency()
        with c.engine.connect() as conn:
            actions = (
                conn.execute(select(audit_log.c.subject).where(audit_log.c.action == "charter"))
                .scalars()
                .all()
            )
    assert [h["version"] for h in data["charter"]["history"]] == ["2", "1"]
    assert actions == ["charter 1", "charter 2"]


def test_redirect_with_no_model_configured_says_so():
    from commune.charter.rules import default_charter
    from commune.charter.steps import redirect

    step, chosen = redirect(default_charter(), "en", "auto", "pass", None, [], {}, set(), 0.5, 0)
    assert chosen is None and step.outcome == "extractive"
    assert step.reason == "no model is configured: answered by extraction"


def test_a_new_charter_serves_nothing_cached_under_the_old_one(home, corpus):
    from commune.core import Commune

    write_charter(home, 'version = "1"\n')
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(c.ask("Où mettre les emballages en plastique ?")))["reduce"] == (
            "cached"
        )
    write_charter(home, 'version = "2"\n[sobriety]\nquality_floor = 0.9\n')
    with Commune(home) as c:
        again = c.ask("Où mettre les emballages en plastique ?")
        assert dict(steps_of(again))["reduce"] != "cached"


@contextmanager
def edited_while_at_work(commune, home, monkeypatch):  # type: ignore[no-untyped-def]
    """Within it, a request's charter.toml is replaced (by version "2", retention 7 days) once
    the request has begun, as it reads its member's declared use at step 1."""
    declared_use = commune.library.declared_use

    def edited_meanwhile(actor):  # type: ignore[no-untyped-def]
        write_charter(home, 'version = "2"\n[utility]\nretention_days = 7\n')
        return declared_use(actor)

    monkeypatch.setattr(commune.library, "declared_use", edited_meanwhile)
    try:
        yield
    finally:
        monkeypatch.setattr(commune.library, "declared_use", declared_use)


def test_a_charter_edited_while_a_request_is_at_work_leaves_it_under_the_charter_it_began(
    home, corpus, monkeypatch
):
    """The charter was read again at the cache and at the record: edited while a request was
    at work, its record said the steps decided under the old charter were taken under the
    new one (and kept the new one's retention), and its answer was kept in the new one's
    cache, served there though nothing decided under the old one may be."""
    from commune.core import Commune

    write_charter(home, 'version = "1"\n[utility]\nretention_days = 30\n')
    question = "Où mettre les emballages en plastique ?"
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        first = c.charter.sha256
        with edited_while_at_work(c, home, monkeypatch):
            answer = c.ask(question)
        with c.engine.connect() as conn:
            under = conn.execute(
                select(decisions.c.charter_sha256).where(decisions.c.id == answer.decision_id)
            ).scalar_one()
        assert under == first != c.charter.sha256
        reasons = {d["step"]: d["reason"] for d in answer.decisions}
        assert "30 jours" in reasons["responsibility"]
        assert dict(steps_of(c.ask(question)))["reduce"] != "cached"  # decided under "1"


def test_a_request_over_quota_is_recorded_under_the_charter_it_began_under(
    home, corpus, monkeypatch
):
    """Refused at step 3 (a quota used up), a request's record is written under the charter
    its first two steps were decided under, as an answer's is: the charter read again at the
    record named the new one, edited meanwhile, with the new one's retention."""
    from commune.core import Commune
    from commune.govern.members import authenticate
    from commune.govern.quotas import QuotaExceeded

    write_charter(home, 'version = "1"\n[utility]\nretention_days = 30\n')
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with c.engine.connect() as conn:
            actor = authenticate(conn, make_key(c, "olga", "Ville O", requests_per_day=1))
        c.ask("Quand passe le camion ?", actor=actor)  # the day's one request
        first = c.charter.sha256
        with edited_while_at_work(c, home, monkeypatch), pytest.raises(QuotaExceeded):
            c.ask("Où mettre les emballages en plastique ?", actor=actor)
        with c.engine.connect() as conn:
            last = conn.execute(select(decisions).order_by(decisions.c.id.desc())).first()
        assert last.outcome == "over-quota"
        assert last.charter_sha256 == first != c.charter.sha256
        # Its responsibility step says the retention it began under, 30 days, not the new one.
        assert "gardées 30 jours" in json.loads(last.steps)[-1]["reason"]


# -- local models: calibrated, not refused -------------------------------------------------------


def test_a_local_model_is_not_calibrated_until_commune_model_calibrate_measures_it(home):
    """Before, a local model with no history had an unknown energy, was refused under any
    cap, and could never build the history that would admit it."""
    from click.testing import CliRunner

    from commune.charter.catalogue import allowed
    from commune.cli import cli
    from commune.core import Commune

    write_charter(home, 'version = "1"\n[sobriety]\nrequest_wh_cap = 2.0\n')
    with Commune(home) as c:
        # The redirect's reason (and so the reply's notice), in the asker's language.
        ok, why = allowed(c.models.card("smollm2"), c.charter, set(), "fr", 400)
        assert not ok and why.startswith("smollm2 n'est pas encore étalonné")
        assert why.endswith(": `commune model calibrate smollm2` le mesure")
    r = CliRunner().invoke(
        cli, ["--home", str(home), "model", "calibrate", "smollm2", "--runs", "1", "--json"]
    )
    assert r.exit_code == 0, r.output
    done = json.loads(r.output)
    assert done["wh_per_1k_tokens"] > 0 and done["output_tokens"] > 0
    # RAPL is not enabled here: CPU time x the configured watts, and labelled so.
    assert not done["measured"] and done["method"].startswith("estimated: CPU time x 12 W")
    with Commune(home) as c:
        card = c.models.card("smollm2")
        assert card.wh_per_1k_tokens == pytest.approx(done["wh_per_1k_tokens"], rel=1e-3)
        assert card.energy_method.startswith("estimated, over 1 run (")
        ok, why = allowed(card, c.charter, set(), "en", 400)
        assert ok, why
        with c.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "select route, mode, model, estimated from usage where mode = 'calibrate'"
            ).one()
        assert tuple(row) == ("calibrate", "calibrate", "smollm2", 1)
        # Loading the weights, recorded apart, and left out of the figure (no token).
        with c.engine.connect() as conn:
            load = conn.exec_driver_sql(
                "select output_tokens, cpu_seconds from usage where mode = 'load'"
            ).one()
        assert load[0] == 0 and load[1] > 0


def test_calibrating_a_remote_model_says_there_is_nothing_to_calibrate(made_home):
    from click.testing import CliRunner

    from commune.cli import cli

    home = made_home
    (home / "commune.toml").write_text(models_toml(gpu=("http://127.0.0.1:9", 24, "FR")))
    r = CliRunner().invoke(cli, ["--home", str(home), "model", "calibrate", "gpu"])
    assert r.exit_code == 2 and "modelled by EcoLogits" in r.output
    # and where a figure measured on its server goes (it said only "calibrate a local model")
    assert "set models.gpu.wh_per_1k_tokens in commune.toml" in r.output
    r = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "model", "calibrate", "gpu"]
    )
    assert "mettez models.gpu.wh_per_1k_tokens dans commune.toml" in r.output, r.output
    r = CliRunner().invoke(cli, ["--home", str(home), "model", "calibrate", "nope"])
    assert r.exit_code == 2 and "unknown model 'nope'" in r.output


def test_calibrating_a_file_that_is_no_model_says_so_in_one_line(made_home):
    # llama.cpp's RuntimeError ("Failed to init server") reached the operator as a traceback.
    pytest.importorskip("xllamacpp")
    from click.testing import CliRunner

    from commune.cli import cli

    home = made_home
    (home / "notes.gguf").write_text("not a model", encoding="utf-8")
    (home / "commune.toml").write_text(
        f'[models.local]\nbackend = "llamacpp"\npath = "{home / "notes.gguf"}"\n'
    )
    r = CliRunner().invoke(cli, ["--home", str(home), "model", "calibrate", "local"])
    assert r.exit_code != 0 and not isinstance(r.exception, RuntimeError), r.output
    assert r.output.count("\n") == 1 and "model local could not be loaded from" in r.output
    assert "check that models.local.path is a GGUF model file" in r.output


def test_a_refused_question_frees_no_other_requests_place(home, corpus):
    # release() removed the user's oldest hold whatever the request: a refusal, which holds
    # no place, freed one of a request still at work (review finding).
    from sqlalchemy import func, select

    from commune.core import Commune
    from commune.govern.members import actor_for, add_member
    from commune.store.schema import quota_holds
    from tests.conftest import make_key

    write_charter(home)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with c.engine.begin() as conn:
            add_member(conn, "Ville B", "town", requests_per_day=10)  # a quota: holds
        make_key(c, "bob", "Ville B")
        with c.engine.connect() as conn:
            bob = actor_for(conn, "bob")
        c.metering.admit(bob)  # a request at work
        assert c.ask("Une ordonnance pour la toux ?", actor=bob).mode == "refused"
        with c.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(quota_holds)).scalar() == 1


def test_a_search_that_fails_gives_its_place_back(home, corpus):
    # An unknown collection failed after admission and kept its place for five minutes: two
    # such searches used a quota of two requests a day (review finding).
    from commune.core import Commune
    from commune.errors import NotFound
    from commune.govern.members import actor_for, add_member
    from tests.conftest import make_key

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with c.engine.begin() as conn:
            add_member(conn, "Petite Asso", "association", requests_per_day=2)
        make_key(c, "carol", "Petite Asso")
        with c.engine.connect() as conn:
            carol = actor_for(conn, "carol")
        for _ in range(2):
            with pytest.raises(NotFound):
                c.searcher.search("piscine", "nope", actor=carol, record="api/search")
        assert c.searcher.search("piscine", actor=carol, record="api/search")


def test_the_public_transparency_page_counts_a_private_collections_evaluations_without_naming_it(
    home, corpus, tmp_path
):
    from commune.api.app import create_app
    from commune.core import Commune

    commune = Commune(home)
    commune.add([corpus], licence="etalab-2.0")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "budget.md").write_text("# Budget\n\nLe budget de la piscine.\n", encoding="utf-8")
    commune.admin.add_member("Ville A", kind="town")
    commune.add([secret], collection="projet-piscine", licence="CC-BY-4.0", member="Ville A")
    commune.set_visibility("projet-piscine", "private", "Ville A")
    commune.set_visibility("default", "public")  # a shared one is not named either (below)
    scores(commune, "default", extractive=0.55)
    scores(commune, "projet-piscine", extractive=0.9)
    client = TestClient(create_app(commune))
    for data in (client.get("/transparency.json").json(), commune.transparency()):
        assert [e["collection"] for e in data["evaluations"]] == ["default"]
        assert data["private_evaluations"] == 1
    assert "projet-piscine" not in client.get("/transparency").text
    commune.close()


def test_the_public_transparency_page_does_not_name_a_collection_shared_with_members_only(
    home, corpus, tmp_path
):
    """Found reading /transparency.json signed out: a collection shared with the
    cooperative's members only was named, with its evaluation scores and its "nothing
    relevant" threshold, where its bill of materials names it to members only
    (docs/transparency.md). Counted now, as a private one is; kept to members by the
    charter, the page names it: each of its readers may read it."""
    from commune.api.app import create_app
    from commune.core import Commune

    (home / "commune.toml").parent.mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text('[answer.refusal_thresholds]\n"budget-interne" = 0.5\n')
    commune = Commune(home)
    commune.add([corpus], licence="etalab-2.0")
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "budget.md").write_text("# Budget\n\nLe budget de la piscine.\n", encoding="utf-8")
    commune.add([inside], collection="budget-interne", licence="CC-BY-4.0")
    commune.set_visibility("default", "public")
    commune.set_visibility("budget-interne", "shared")
    scores(commune, "default", extractive=0.55)
    scores(commune, "budget-interne", extractive=0.9)
    client = TestClient(create_app(commune))
    for data in (client.get("/transparency.json").json(), commune.transparency()):
        assert [e["collection"] for e in data["evaluations"]] == ["default"]
        assert data["private_evaluations"] == 1
        assert data["refusal"]["collections"] == {}
        assert data["refusal"]["private_collections"] == 1
    page = client.get("/transparency", headers={"Accept-Language": "fr"}).text
    assert "budget-interne" not in page
    assert "Et un seuil fixé pour 1 collection non publique." in page
    assert "1 évaluation d'une collection non publique est comptée, non montrée." in page
    commune.close()
    write_charter(home, 'version = "members"\n[utility]\ntransparency_public = false\n')
    with Commune(home) as commune:
        data = commune.transparency()
        assert [e["collection"] for e in data["evaluations"]] == ["budget-interne", "default"]
        assert data["private_evaluations"] == 0
        assert data["refusal"]["collections"] == {"budget-interne": 0.5}


@pytest.mark.parametrize(
    "doc_path, shown_after",
    [
        ("docs/charter.md", "`commune ask --explain` prints them:"),
        # Its French twin quotes the same replies, for the members who read the charter.
        ("docs/fr/charte.md", "`commune ask --explain` les affiche :"),
    ],
)
def test_the_explain_example_in_docs_charter_md_is_what_the_command_prints(
    home, monkeypatch, doc_path, shown_after
):
    """docs/charter.md showed English words ("CPU time x 12 W per core", "Decisions:",
    "refuse  refused") where `commune ask --explain` prints French for a French question (an
    exploratory test). Run as scripts/demo.sh does, without a local model."""
    import re
    from pathlib import Path

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.generate import registry

    root = Path(__file__).resolve().parents[1]
    doc = (root / doc_path).read_text(encoding="utf-8")
    block = doc[doc.index(shown_after) :]
    block = block[block.index("```\n") + 4 : block.index("\n```", block.index("```\n") + 4)]
    monkeypatch.setattr(registry, "_smollm2_path", lambda: None)  # as on a demo machine
    home.mkdir()
    (home / "charter.toml").write_text(
        (root / "examples" / "charter.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (home / "paquets.md").write_text("# Paquets\n\nLe jardin ouvre le dimanche.\n")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})  # the question's language decides

    def ok(*args: str) -> str:
        r = run.invoke(cli, ["--home", str(home), *args])
        assert r.exit_code == 0, r.output
        return r.stdout

    ok("add", str(home / "paquets.md"), "--licence", "CC0-1.0")
    ok("member", "add", "Ville de Saint-Exemple", "--kind", "town", "--requests-per-day", "500")
    ok("user", "add", "camille", "--member", "Ville de Saint-Exemple")
    for command in block.split("\n\n$ "):
        first, *shown = command.removeprefix("$ ").splitlines()
        question = re.fullmatch(r'commune ask "(.+)" --as camille --explain', first)
        assert question is not None, first
        said = ok("ask", question[1], "--as", "camille", "--explain")
        printed = said.replace("\u00a0", " ").splitlines()  # the docs' spaces are plain
        if shown[0] == "…":  # the answer itself elided: the decisions are compared
            shown, printed = shown[1:], printed[printed.index(shown[1]) :]
        assert len(printed) == len(shown), printed
        for doc_line, line in zip(shown, printed, strict=True):
            # Measured figures vary from run to run: the words around them do not (a figure
            # below the last digit shown reads "< 0,001").
            figures = re.escape(doc_line).replace(re.escape("0,12"), r"(< )?[\d,]+")
            figures = figures.replace(re.escape("0,006"), r"(< )?[\d,]+")
            assert re.fullmatch(figures, line), (doc_line, line)


def test_the_energy_caps_reason_writes_french_figures_in_french(tmp_path):
    """Found by an exploratory test: the French notice read "environ 0.0507 Wh … au-delà du
    plafond de 0.01 Wh", decimal points in a French sentence, and an uncalibrated model's
    reason put the catalogue's English method inside the French."""
    from dataclasses import replace

    from commune.charter.catalogue import ModelCard, allowed

    charter = load_charter(tmp_path)
    charter = replace(charter, sobriety=replace(charter.sobriety, request_wh_cap=0.01))
    card = ModelCard(
        "gpu", "openai", 24, "open-weights", "Apache-2.0", None, "http://x", "FR", 0.1268,
        "ecologits 0.11.3, modelled", True,
    )  # fmt: skip
    ok, fr = allowed(card, charter, set(), "fr", 400)
    assert not ok and fr == (
        "gpu\u00a0: environ 0,0507 Wh pour les 400 jetons de réponse au plus, au-delà du plafond "
        "de 0,01 Wh"
    ), fr
    ok, en = allowed(card, charter, set(), "en", 400)
    assert en.endswith("about 0.0507 Wh for up to 400 answer tokens, over the cap of 0.01 Wh")
    unknown = replace(card, wh_per_1k_tokens=None, energy_method="unknown: set "
                      "active_params_b and total_params_b to model it")  # fmt: skip
    ok, fr = allowed(unknown, charter, set(), "fr", 400)
    assert fr.startswith("gpu\u00a0: énergie inconnue (inconnu\u00a0: donnez active_params_b"), fr
    assert fr.endswith("plafonne chaque requête à 0,01 Wh"), fr


def test_the_redirect_reason_says_a_models_openness_in_french(tmp_path):
    """Found asking in the web app: "Pourquoi cette réponse ?" read "smollm2 est admis
    (open-weights, FR)", an English term in the French reason of every generated answer, where
    /transparency says "poids ouverts"."""
    from dataclasses import replace

    from commune.charter.catalogue import ModelCard, allowed

    charter = load_charter(tmp_path)
    card = ModelCard(
        "gpu", "openai", 24, "open-weights", "Apache-2.0", None, "http://x", "FR", 0.0001,
        "ecologits 0.11.3, modelled", True,
    )  # fmt: skip
    assert allowed(card, charter, set(), "fr", 400) == (True, "gpu est admis (poids ouverts, FR)")
    assert allowed(card, charter, set(), "en", 400) == (True, "gpu is allowed (open-weights, FR)")
    closed = replace(card, openness="closed", jurisdiction="FR")
    charter = replace(charter, sovereignty=replace(charter.sovereignty, openness=("closed",)))
    assert allowed(closed, charter, set(), "fr", 400) == (True, "gpu est admis (fermé, FR)")


def test_the_month_budget_and_quota_reasons_write_french_figures_in_french(tmp_path):
    """Found by an exploratory test: a member past its monthly energy budget read "épuisé
    (0.0132 Wh sur 0.0001 Wh)", decimal points in a French sentence (and so did the regulate
    step's Wh per month)."""
    from dataclasses import replace

    from commune.charter import steps
    from commune.govern.quotas import QuotaUse

    charter = load_charter(tmp_path)
    charter = replace(charter, sobriety=replace(charter.sobriety, member_month_wh_cap=0.01))
    fr = steps.refuse(charter, "Comment ajouter des documents ?", "fr", None, 0.0132)
    assert "épuisé (0,0132 Wh sur 0,01 Wh)\u00a0: " in fr.reason, fr.reason
    en = steps.refuse(charter, "How do I add documents?", "en", None, 0.0132)
    assert "spent (0.0132 Wh of 0.01 Wh): " in en.reason, en.reason
    # A cap of a million Wh read "1e+06 Wh".
    charter = replace(charter, sobriety=replace(charter.sobriety, member_month_wh_cap=1e6))
    fr = steps.refuse(charter, "Comment ajouter des documents ?", "fr", None, 2e6)
    assert "sur 1000000 Wh)\u00a0: " in fr.reason, fr.reason
    en = steps.refuse(charter, "How do I add documents?", "en", None, 2e6)
    assert "of 1000000 Wh): " in en.reason, en.reason
    use = QuotaUse("member 'Asso'", "Wh per month", 0.25, 1.5)
    assert steps.regulate("fr", use).reason.endswith("a utilisé 0,25 sur 1,5 Wh par mois")
    assert steps.regulate("en", use).reason.endswith("used 0.25 of 1.5 Wh per month")


def test_a_charter_saved_with_a_byte_order_mark_is_read(home):
    """Found by an exploratory test: a charter saved as "UTF-8 with BOM" (Windows' Notepad)
    was refused as "not valid TOML: Invalid statement (at line 1, column 1)"."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "charter.toml").write_bytes(
        b'\xef\xbb\xbfversion = "bom"\nname = "\xc3\xa9t\xc3\xa9"\n'
    )
    charter = load_charter(home)
    assert (charter.version, charter.name) == ("bom", "été")


def test_eu_in_the_charters_jurisdictions_admits_an_endpoint_hosted_in_a_member_state(tmp_path):
    """Found configuring an endpoint in Germany under the default charter ("FR", "EU"): the
    redirect refused it, "gpu : hébergé hors des juridictions admises (DE ; admises : FR,
    EU)", and the sovereignty map listed it as hosted outside them, where the charter says
    open models hosted in France or the EU are allowed."""
    from dataclasses import replace

    from commune.charter.catalogue import ModelCard, allowed
    from commune.stack.sovereignty import outside

    charter = load_charter(tmp_path)
    card = ModelCard(
        "gpu", "openai", 24, "open-weights", "Apache-2.0", None, "http://x", "DE", 0.0001,
        "ecologits 0.11.3, modelled", True,
    )  # fmt: skip
    assert allowed(card, charter, set(), "fr", 400) == (True, "gpu est admis (poids ouverts, DE)")
    far = replace(card, name="far", jurisdiction="US")
    ok, why = allowed(far, charter, set(), "en", 400)
    assert not ok and "hosted outside the allowed jurisdictions (US; allowed: FR, EU)" in why
    # A charter that names France alone still keeps Germany out.
    france = replace(charter, sovereignty=replace(charter.sovereignty, jurisdictions=("FR",)))
    assert not allowed(card, france, set(), "en", 400)[0]

    def model(name: str, where: str) -> dict[str, object]:
        return {
            "type": "machine-learning-model",
            "name": name,
            "properties": [{"name": "commune:jurisdiction", "value": where}],
        }

    bom = {"components": [model("gpu", "DE"), model("far", "US")]}
    assert [d["component"] for d in outside(bom, ("FR", "EU"))] == ["far"]
    assert [d["component"] for d in outside(bom, ("FR",))] == ["gpu", "far"]


@pytest.mark.parametrize(
    ("text", "line", "value"),
    [
        ('version = "1"\n[sovereignty]\njurisdictions = ["France", "EU"]\n', 3, "'France'"),
        ('version = "1"\n[sovereignty]\njurisdictions = ["fr", "eu"]\n', 3, "'fr'"),
        ('version = "1"\n[sovereignty]\nlocal_jurisdiction = "Paris"\n', 3, "'Paris'"),
    ],
)
def test_a_jurisdiction_that_is_no_code_is_refused_with_its_line(home, text, line, value):
    """Found editing the charter as a member: jurisdictions = ["France"] (or "fr") was taken
    without a word, then matched no model's jurisdiction ("FR"), so that every model, the
    local ones too, was refused as hosted outside them."""
    from commune.text.messages import localise

    write_charter(home, text)
    with pytest.raises(ConfigError) as exc:
        load_charter(home)
    said = str(exc.value)
    assert f"charter.toml, line {line}:" in said, said
    assert f"{value} is not a jurisdiction: an ISO 3166-1 alpha-2 code in capitals" in said
    french = localise(said, "fr")
    assert f"{value} n'est pas une juridiction\u00a0: un code ISO 3166-1 alpha-2 en" in french


def test_the_transparency_page_does_not_call_allowed_a_model_the_cap_keeps_out(home):
    """Found reading /transparency against the answers: under the example charter (2 Wh a
    request), the uncalibrated local model was listed "autorisé" while every answer's
    redirect step said it was not used ("smollm2 n'est pas encore étalonné (…)"): the page
    judged it without the per-request cap. A model the cap keeps out is not allowed there."""
    from commune.api.app import create_app
    from commune.core import Commune

    write_charter(home, CHARTER.replace("quality_floor = 0.5", "request_wh_cap = 2.0"))
    (home / "commune.toml").write_text(
        '[models.tiny]\nbackend = "llamacpp"\npath = "t.gguf"\nopenness = "open-weights"\n'
    )
    with Commune(home) as c:
        card = {m["name"]: m for m in c.transparency()["models"]}["tiny"]
        assert card["allowed"] is False
        assert card["why"].startswith("tiny is not calibrated (its energy is unknown, and the "
                                      "charter caps each request at 2 Wh)")  # fmt: skip
        page = html.unescape(TestClient(create_app(c)).get("/transparency").text)
    # In the page's French, as the redirect step says it, without the operator's command.
    assert (
        "<td>non\u00a0: tiny n'est pas encore étalonné (son énergie est inconnue, et la charte "
        "plafonne chaque requête à 2 Wh)</td>"
    ) in page, page


def test_a_spent_energy_budget_says_when_it_renews(tmp_path):
    """Found as a clerk whose member had spent its month: « le budget énergétique mensuel de
    votre membre est épuisé (0,0132 Wh sur 0,01 Wh) », and nothing of when asking would work
    again, where a full quota says it (« réessayez dans … »). The month is UTC's, as the
    quotas' is: the wait reads the same in every time zone, and the UTC time beside it."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from commune.charter import steps

    charter = load_charter(tmp_path)
    charter = replace(charter, sobriety=replace(charter.sobriety, member_month_wh_cap=0.01))
    # 23:30 in Paris on 31 December: still December in UTC, an hour and a half to go.
    at = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    fr = steps.refuse(charter, "Comment ajouter des documents ?", "fr", None, 0.0132, at=at)
    assert fr.reason.endswith(
        "épuisé (0,0132 Wh sur 0,01 Wh)\u00a0: il se renouvelle dans 1 h 30 min, le 2027-01-01 "
        "à 00:00, heure UTC"
    ), fr.reason
    at = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    en = steps.refuse(charter, "How do I add documents?", "en", None, 0.0132, at=at)
    assert en.reason.endswith(
        "spent (0.0132 Wh of 0.01 Wh): it renews in 24 days 13 h, on 2027-01-01 00:00 UTC"
    ), en.reason
    fr = steps.refuse(charter, "Comment ajouter des documents ?", "fr", None, 0.0132, at=at)
    assert "il se renouvelle dans 24 jours 13 h, le 2027-01-01" in fr.reason, fr.reason


def test_an_edited_local_jurisdiction_is_in_force_for_the_models_at_once(home):
    """Found editing the charter under a running process: the model cards, kept a minute
    for the ledger's sums, kept the local models' jurisdiction of the charter they were made
    under, so that a charter moving this server out of its own jurisdictions still let the
    local model answer (and /transparency listed it "allowed") for up to a minute."""
    from commune.core import Commune

    write_charter(home, 'version = "1"\n[sovereignty]\njurisdictions = ["FR"]\n')
    (home / "commune.toml").write_text(
        '[models.tiny]\nbackend = "llamacpp"\npath = "t.gguf"\nopenness = "open-weights"\n'
    )
    with Commune(home) as c:
        assert "tiny" in [m.name for m in c.models.admitted()]
        moved = 'version = "2"\n[sovereignty]\njurisdictions = ["FR"]\nlocal_jurisdiction = "CH"\n'
        write_charter(home, moved)
        assert c.models.admitted() == []
        card = {m["name"]: m for m in c.transparency()["models"]}["tiny"]
        assert card["jurisdiction"] == "CH" and card["allowed"] is False


def test_a_model_asked_for_and_refused_names_the_charter_rule_that_refused_it(tmp_path):
    """Found asking for smollm2 under the example charter: the redirect step's reason was
    the per-request cap (« la charte plafonne chaque requête à 2 Wh »), and its rule, in the
    reply and the decision record, "sovereignty". Each refusal now names its own key."""
    from dataclasses import replace

    from commune.charter import steps
    from commune.charter.catalogue import ModelCard

    charter = load_charter(tmp_path)
    charter = replace(
        charter,
        sobriety=replace(charter.sobriety, request_wh_cap=0.5),
        sovereignty=replace(charter.sovereignty, stays_here=("rh",)),
    )
    card = ModelCard(
        "gpu", "openai", 24, "open-weights", "Apache-2.0", None, "http://x", "FR", 0.1,
        "ecologits 0.11.3, modelled", True,
    )  # fmt: skip

    def rule(model: ModelCard, collections: tuple[str, ...] = ()) -> str | None:
        step, chosen = steps.redirect(
            charter, "fr", "generate", "pass", model, [model], {}, set(collections), 0.5, 400
        )
        assert chosen is None and step.outcome == "extractive", step
        return step.rule

    assert rule(replace(card, wh_per_1k_tokens=9.0)) == "sobriety.request_wh_cap"
    local = replace(card, remote=False, hosting="local", wh_per_1k_tokens=None)
    assert rule(local) == "sobriety.request_wh_cap"  # not calibrated: the cap cannot weigh it
    assert rule(replace(card, jurisdiction="US")) == "sovereignty.jurisdictions"
    assert rule(replace(card, openness="closed")) == "sovereignty.openness"
    assert rule(card, ("rh",)) == "sovereignty.stays_here"


def test_generation_first_is_said_as_the_charter_says_it_in_french(tmp_path):
    """Found reading a French reply's decisions under mode_preference = "generation-first":
    « la charte préfère la qualité », a claim the charter does not make (whether a model
    answers better here is what the evaluation has not shown: docs/charter.md), where the
    English says "the charter prefers generation"."""
    from dataclasses import replace

    from commune.charter import steps

    charter = load_charter(tmp_path)
    charter = replace(
        charter, sobriety=replace(charter.sobriety, mode_preference="generation-first")
    )
    fr = steps.reduce(charter, "fr", "auto", None, 0.9, ["default"], 0.5)
    assert fr.reason == (
        "la charte préfère la rédaction par un modèle\u00a0: un modèle est cherché d'abord"
    )
    en = steps.reduce(charter, "en", "auto", None, 0.9, ["default"], 0.5)
    assert en.reason == "the charter prefers generation: a model is looked for first"


def test_a_charter_without_a_name_is_named_in_french_on_french_faces(home):
    """Found checking a first charter written as a member (a version, one refusal rule, no
    name): « valide : Charter, version 1 » in French, and « Charter, version 1 » at the top of
    the French /transparency page; the default charter's name was translated, this one not."""
    from click.testing import CliRunner

    from commune.api.app import create_app
    from commune.cli import cli
    from commune.core import Commune

    write_charter(home, 'version = "1"\n')
    said = CliRunner().invoke(
        cli, ["--home", str(home), "charter", "check"], env={"LANG": "fr_FR.UTF-8"}
    )
    assert said.output.startswith("valide\u00a0: Charte, version 1, sha256 "), said.output
    english = CliRunner().invoke(
        cli, ["--home", str(home), "charter", "check"], env={"LANG": "en_GB.UTF-8"}
    )
    assert english.output.startswith("valid: Charter, version 1, sha256 "), english.output
    with Commune(home) as c:
        client = TestClient(create_app(c))
        fr = html.unescape(client.get("/transparency").text)
        en = html.unescape(client.get("/transparency", headers={"Accept-Language": "en"}).text)
    assert "<p>Charte, version 1, SHA-256 " in fr, fr
    assert "<p>Charter, version 1, SHA-256 " in en


def test_charter_check_warns_of_a_collection_the_home_does_not_hold(home, corpus, tmp_path):
    """Found editing the charter as a member: stays_here = ["ressources-humaine"] (the
    collection is ressources-humaines) was called valid without a word, and the HR passages
    it meant to keep here went on to a remote endpoint. `commune charter check` now warns of
    each name in stays_here and quality_floors that is no collection of the home (a charter
    may name one not made yet: a warning, not a refusal)."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    with Commune(home) as c:
        c.add([corpus], collection="ressources-humaines", licence="etalab-2.0")
    write_charter(
        home,
        'version = "1"\n[sovereignty]\nstays_here = ["ressources-humaine"]\n'
        "[sobriety.quality_floors]\nressources-humaines = 0.6\nmairie = 0.7\n",
    )
    run = CliRunner()
    fr = run.invoke(cli, ["--home", str(home), "charter", "check"], env={"LANG": "fr_FR.UTF-8"})
    assert fr.exit_code == 0 and fr.stdout.startswith("valide\u00a0: "), fr.output
    assert fr.stderr.splitlines() == [
        "avertissement\u00a0: sovereignty.stays_here\u00a0: 'ressources-humaine' n'est pas une "
        "collection de ce service (connues\u00a0: ressources-humaines)\u00a0: un nom mal écrit "
        "n'a aucun effet",
        "avertissement\u00a0: sobriety.quality_floors\u00a0: 'mairie' n'est pas une collection "
        "de ce service (connues\u00a0: ressources-humaines)\u00a0: un nom mal écrit n'a aucun "
        "effet",
    ], fr.stderr
    en = run.invoke(cli, ["--home", str(home), "charter", "check"], env={"LANG": "en_GB.UTF-8"})
    assert en.stderr.splitlines()[0] == (
        "warning: sovereignty.stays_here: 'ressources-humaine' is no collection of this home "
        "(known: ressources-humaines): a misspelt name does nothing"
    ), en.stderr
    # A file checked before it is put in place, on a fresh directory: no home, no warning.
    other = tmp_path / "draft.toml"
    other.write_text('version = "1"\n[sovereignty]\nstays_here = ["rh"]\n', encoding="utf-8")
    fresh = run.invoke(cli, ["--home", str(tmp_path / "none"), "charter", "check", str(other)])
    assert fresh.exit_code == 0 and not fresh.stderr, fresh.output


def test_the_regulate_step_keeps_a_members_name_as_written_in_french():
    """Found naming a member "Club des user groups": the French regulate step read « le
    membre 'Club des l'utilisateur groups' a utilisé … », the words of the quota's owner
    replaced inside the member's own name too."""
    from commune.charter.steps import regulate
    from commune.govern.quotas import QuotaUse

    use = QuotaUse("member 'Club des user groups'", "requests per day", 3, 500)
    assert regulate("fr", use).reason == (
        "dans les quotas\u00a0: le membre 'Club des user groups' a utilisé 3 sur 500 requêtes "
        "par jour"
    )
    use = QuotaUse("user 'member relations'", "requests per day", 3, 500)
    assert regulate("fr", use).reason.startswith(
        "dans les quotas\u00a0: l'utilisateur 'member relations' a utilisé 3"
    )


def test_a_charter_with_one_refusal_rule_says_it_in_the_singular(tmp_path):
    """Found writing a first charter with one rule (medical prescriptions): every reply's
    refuse step read « aucune des 1 règles de refus ne s'applique », "none of the charter's
    1 refusal rules applies"."""
    from commune.charter import steps

    write_charter(
        tmp_path,
        'version = "1"\n[[utility.refuse]]\nname = "avis-medical"\nwords = ["ordonnance"]\n'
        'message_fr = "Voyez un médecin."\nmessage_en = "See a doctor."\n',
    )
    charter = load_charter(tmp_path)
    fr = steps.refuse(charter, "Comment ajouter des documents ?", "fr", None, None)
    assert (fr.outcome, fr.reason) == (
        "pass",
        "l'unique règle de refus de la charte ne s'applique pas",
    )
    en = steps.refuse(charter, "How do I add documents?", "en", None, None)
    assert en.reason == "the charter's one refusal rule does not apply"
    default = load_charter(tmp_path.parent / "none")  # no charter.toml: no rule
    assert steps.refuse(default, "Bonjour ?", "fr", None, None).reason == (
        "la charte ne fixe aucune règle de refus"
    )


def test_a_retention_of_one_day_is_said_in_the_singular(tmp_path):
    """Found with retention_days = 1 (a cooperative that keeps as little as it can): every
    reply's responsibility step read « gardées 1 jours », "kept 1 days"."""
    from commune.charter import steps

    write_charter(tmp_path, 'version = "1"\n[utility]\nretention_days = 1\n')
    charter = load_charter(tmp_path)
    fr = steps.responsibility(charter, "fr").reason
    assert fr.startswith("ces décisions sont consignées et gardées 1 jour, "), fr
    en = steps.responsibility(charter, "en").reason
    assert en.startswith("these decisions are recorded and kept 1 day, "), en
    write_charter(tmp_path, 'version = "1"\n[utility]\nretention_days = 1000\n')
    fr = steps.responsibility(load_charter(tmp_path), "fr").reason
    assert fr.startswith("ces décisions sont consignées et gardées 1\u202f000 jours, "), fr


def test_an_agents_refused_search_is_counted_as_a_search_not_as_a_question(home, corpus):
    """Found reading /transparency after an MCP agent's search was refused by a charter rule:
    « 2 questions avec une réponse ou le refus de la charte » for one question asked, while
    the decision records counted 1 (docs/charter.md: the two agree). The refused search's
    ledger row (mode "refused", route mcp/search or peer/search) was taken for a question's;
    it is a search, among the other requests."""
    from commune.core import Commune

    write_charter(home)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        assert c.ask("Une ordonnance ?").mode == "refused"
        found = c.search_for_agent("une ordonnance", record="mcp/search")
        assert found["refused"]
        data = c.transparency()
    kind, steps = data["totals"]["by_kind"], data["steps"]
    assert steps["answered_requests"] == 1
    assert kind == {"answered_questions": 1, "abandoned_questions": 0, "other_requests": 1}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (  # a rule written as an inline table, with a key the charter does not know
            'version = "1"\n[utility]\nretention_days = 30\nrefuse = [{name = "x", words = '
            '["ordonnance"], message_fr = "a", message_en = "b", redirect = "https://x"}]\n',
            4,
        ),
        ('version = "1"\n\n[utility.refuse]\nname = "x"\n', 3),  # [ ] where [[ ]] is meant
        (  # inline tables, one a line: the second rule's own line, not that of "refuse = ["
            'version = "1"\n[utility]\nrefuse = [\n'
            '  {name = "a", words = ["x"], message_fr = "{a", message_en = "b"},  # { [\n'
            "\n"
            '  {name = "b", words = ["y"], message_fr = """m\n}""", message_en = "b", x = 1},\n'
            "]\n",
            6,
        ),
        (  # a rule written as a string, before a rule written right: the string's own line
            'version = "1"\n[utility]\nrefuse = [\n  "publicité",\n'
            '  {name = "b", words = ["y"], message_fr = "m", message_en = "b"},\n]\n',
            4,
        ),
        (  # a multi-line string ending with a quote of its own ("non""""), then the rule
            'version = "1"\n[utility]\nrefuse = [\n'
            '  {name = "a", words = ["x"], message_fr = """il dit "non"""", message_en = "b"},\n'
            "\n"
            '  {name = "b", words = ["y"], message_fr = "m", message_en = "b", x = 1},\n]\n',
            6,
        ),
    ],
)
def test_a_refusal_rule_written_otherwise_is_refused_with_its_line(home, text, line):
    """Found writing a refusal rule as TOML also allows (an inline table, or one pair of
    brackets): the error named the key and no line, « h5-c.toml : utility.refuse.redirect :
    clé inconnue », where every other mistake of the file names its line."""
    write_charter(home, text)
    with pytest.raises(ConfigError) as exc:
        load_charter(home)
    assert f"charter.toml, line {line}: utility.refuse" in str(exc.value), str(exc.value)


def test_the_responsibility_step_says_the_answer_cache_keeps_the_questions_text(
    home, corpus, monkeypatch
):
    """Found reading a reply under keep_question = "hash": « ces décisions sont consignées et
    gardées 90 jours, avec l'empreinte de la question seulement », while the answer cache
    kept the question's text (and its embedding) beside the answer, swept only when another
    answer was kept: on a quiet server, for as long as none was. The step now says what the
    cache keeps and how long, and the entries past their lifetime are swept within the hour."""
    from datetime import UTC, datetime

    from commune.answering import cache
    from commune.core import Commune

    question = "Où mettre les emballages en plastique ?"
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        fr = c.ask(question).decisions[3]["reason"]
        assert fr.endswith(
            "avec l'empreinte de la question seulement\u00a0; le cache des réponses en garde le "
            "texte 24 heures au plus"
        ), fr
        # Served from the cache, the question is not kept again: the hash only.
        again = c.ask(question).decisions[3]["reason"]
        assert again.endswith("l'empreinte de la question seulement"), again
        en = c.ask("When is the pool open?").decisions[3]["reason"]
        assert en.endswith(
            "only the question's hash; the answer cache keeps its text for up to 24 hours"
        )
        with c.engine.connect() as conn:
            kept = [r.answer for r in conn.execute(select(answer_cache.c.answer))]
        assert any(question in a for a in kept)  # what the step says, the cache holds
        # Past the lifetime, the next request's look-up sweeps it, though no answer is kept.
        with c.engine.begin() as conn:
            conn.execute(update(answer_cache).values(created_at=datetime(2020, 1, 1, tzinfo=UTC)))
        # An hour on (swept at most once an hour, on the request path, as the records are).
        monkeypatch.setattr(cache, "SWEEP_EVERY_S", 0.0, raising=False)
        # A request's look-up (a question whose answer is then not kept: a refusal later,
        # a fallback) sweeps them.
        assert c.ask_path.answers.exact("0" * 64, c.catalog().generation, 24) is None
        with c.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(answer_cache)).scalar() == 0
    # No cache, or the text kept in the records anyway: nothing more to say.
    write_charter(home, 'version = "2"\n[sobriety]\ncache = false\n')
    with Commune(home) as c:
        reason = c.ask(question).decisions[3]["reason"]
        assert reason.endswith("avec l'empreinte de la question seulement"), reason
    write_charter(home, 'version = "3"\n[utility]\nkeep_question = "text"\n')
    with Commune(home) as c:
        reason = c.ask("Où déposer le verre ?").decisions[3]["reason"]
        assert reason.endswith("avec le texte de la question"), reason


def test_v1_models_does_not_offer_a_model_the_per_request_cap_keeps_out(home):
    """Found after /transparency learnt to weigh the per-request cap: under the example
    charter (2 Wh a request), GET /v1/models still offered the uncalibrated local model, and a
    client that chose it was answered by extraction (« tiny n'est pas encore étalonné »), where
    /v1/models lists only what can answer (issue 24). Calibrated, it is offered."""
    from commune.api.app import create_app
    from commune.core import Commune

    write_charter(home, CHARTER.replace("quality_floor = 0.5", "request_wh_cap = 2.0"))
    (home / "commune.toml").write_text(
        '[models.tiny]\nbackend = "llamacpp"\npath = "t.gguf"\nopenness = "open-weights"\n'
        '[models.measured]\nbackend = "llamacpp"\npath = "m.gguf"\nopenness = "open-weights"\n'
        "wh_per_1k_tokens = 0.5\n"
    )
    with Commune(home) as c:
        key = {"Authorization": f"Bearer {make_key(c, 'ana', 'Ville A')}"}
        client = TestClient(create_app(c), client=("127.0.0.1", 40000))
        ids = [m["id"] for m in client.get("/v1/models", headers=key).json()["data"]]
        assert "measured" in ids and "tiny" not in ids, ids
        assert client.get("/v1/models/tiny", headers=key).status_code == 404


@pytest.mark.parametrize(
    ("where", "said", "dit"),
    [
        (
            "de",
            'models.gpu.jurisdiction: "de" is not a jurisdiction: an ISO 3166-1 alpha-2 code '
            "in capitals (FR, DE…) or EU",
            'models.gpu.jurisdiction\u00a0: "de" n\'est pas une juridiction\u00a0: un code ISO '
            "3166-1 alpha-2 en majuscules (FR, DE…) ou EU",
        ),
        (
            "UK",
            'models.gpu.jurisdiction: "UK" is not the ISO 3166-1 alpha-2 code: write GB',
            'models.gpu.jurisdiction\u00a0: "UK" n\'est pas le code ISO 3166-1 alpha-2\u00a0: '
            "écrivez GB",
        ),
    ],
)
def test_a_models_jurisdiction_is_written_as_the_charters(tmp_path, where, said, dit):
    """Found after the charter learnt to refuse "fr" (b1fb7870): commune.toml still took
    jurisdiction = "de" for an endpoint in Germany, then every answer refused the model as
    « hébergé hors des juridictions admises (de ; admises : FR, EU) ». And "UK", two capitals,
    passed both files while the ISO code is GB: a charter naming "GB" kept out an endpoint
    written "UK", and Greece written "EL" was outside "EU"."""
    from commune.config import load_settings
    from commune.text.messages import localise

    (tmp_path / "commune.toml").write_text(
        f'[models.gpu]\nbackend = "openai"\nbase_url = "http://x"\nmodel = "m"\n'
        f'jurisdiction = "{where}"\n'
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path)
    assert exc.value.message == said
    assert localise(exc.value.message, "fr") == dit


def test_a_charter_naming_uk_or_el_is_told_the_iso_code(home):
    from commune.text.messages import localise

    write_charter(home, 'version = "1"\n[sovereignty]\njurisdictions = ["FR", "UK"]\n')
    with pytest.raises(ConfigError) as exc:
        load_charter(home)
    said = str(exc.value)
    assert "charter.toml, line 3: sovereignty.jurisdictions: 'UK' is not the ISO 3166-1 " in said
    assert "write GB" in said
    assert "'UK' n'est pas le code ISO 3166-1 alpha-2\u00a0: écrivez GB" in localise(said, "fr")
    write_charter(home, 'version = "1"\n[sovereignty]\nlocal_jurisdiction = "EL"\n')
    with pytest.raises(ConfigError) as exc:
        load_charter(home)
    assert "'EL' is not the ISO 3166-1 alpha-2 code: write GR" in str(exc.value)


def test_a_charter_edited_while_a_request_searches_does_not_judge_its_models(home, corpus):
    """Found editing charter.toml under a running server: a request that began under a
    charter whose server is in France (local_jurisdiction = "FR") and whose search ran while
    the file moved it to "CH" had its local model refused by its own charter's rule, « tiny :
    hébergé hors des juridictions admises (CH ; admises : FR) »: the redirect step made the
    model cards under the charter in force and judged them under the request's. The request
    now keeps its charter to the end; the next one is under the new."""
    from commune.core import Commune

    before = 'version = "1"\n[sovereignty]\njurisdictions = ["FR"]\n'
    after = before.replace('"1"', '"2"') + 'local_jurisdiction = "CH"\n'
    write_charter(home, before)
    (home / "commune.toml").write_text(
        '[models.tiny]\nbackend = "llamacpp"\npath = "t.gguf"\nopenness = "open-weights"\n'
        "wh_per_1k_tokens = 0.01\n"
    )
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        scores(c, "default", extractive=0.1, tiny=0.9)
        search = c.ask_path.searcher.search

        def edited_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
            write_charter(home, after)
            return search(*args, **kwargs)

        c.ask_path.searcher.search = edited_meanwhile  # type: ignore[method-assign]
        first = c.ask("Où mettre les emballages en plastique ?", use_cache=False)
        c.ask_path.searcher.search = search  # type: ignore[method-assign]
        redirect = first.decisions[-1]
        assert "hébergé hors" not in redirect["reason"], redirect
        assert "tiny" in redirect["reason"] and redirect["outcome"] == "generate", redirect
        # The next request is under the new charter: the local model is outside it.
        then = c.ask("Où mettre les emballages en plastique ?", use_cache=False).decisions[-1]
        assert (
            "tiny\u00a0: hébergé hors des juridictions admises (CH\u00a0; admises\u00a0: FR)"
            in (then["reason"])
        ), then


def test_the_public_page_says_its_evaluations_are_counted_where_none_is_shown(home, corpus):
    """Found once a shared collection's evaluations were kept off the public page: a home
    whose every collection is shared, the default, read « Aucune évaluation à montrer pour
    l'instant. » over evaluations it had, as if none had been run."""
    from click.testing import CliRunner

    from commune.api.app import create_app
    from commune.cli import cli
    from commune.core import Commune

    with Commune(home) as commune:
        commune.add([corpus], licence="etalab-2.0")  # "default", shared
        scores(commune, "default", extractive=0.55)
        page = TestClient(create_app(commune)).get("/transparency").text
    assert "1 évaluation d'une collection non publique est comptée, non montrée." in page
    assert "Aucune évaluation" not in page
    said = CliRunner().invoke(
        cli, ["--home", str(home), "transparency"], env={"LANG": "fr_FR.UTF-8"}
    )
    assert "1 évaluation d'une collection non publique\u00a0: comptée, non montrée" in said.output
    said = CliRunner().invoke(
        cli, ["--home", str(home), "transparency"], env={"LANG": "en_GB.UTF-8"}
    )
    assert "1 evaluation of a collection not public: counted, not shown" in said.output


@pytest.mark.parametrize(
    ("text", "said", "french"),
    [
        (
            'version = "1"\n[retrieval]\nrrf_k = 5\n',
            "retrieval: a table of commune.toml, not of charter.toml (move the [retrieval] "
            "table into commune.toml)",
            "(déplacez la table [retrieval] dans commune.toml)",
        ),
        (
            'version = "1"\n[payouts]\nmonthly_eur = 500\n',
            "line 3: payouts.monthly_eur: a setting of commune.toml's [payouts], not of "
            "charter.toml (move monthly_eur into commune.toml's [payouts])",
            "un réglage du [payouts] de commune.toml, pas de charter.toml (déplacez monthly_eur "
            "dans le [payouts] de commune.toml)",
        ),
        (
            'version = "1"\ndatabase_url = "postgresql+psycopg://commune@db/commune"\n',
            "line 2: database_url: a setting of commune.toml, not of charter.toml (move the "
            "database_url line into commune.toml)",
            "ligne 2\u00a0: database_url\u00a0: un réglage de commune.toml, pas de charter.toml "
            "(déplacez la ligne database_url dans commune.toml)",
        ),
        (
            'default_collection = "mairie"\nversion = "1"\n',
            "line 1: default_collection: a setting of commune.toml, not of charter.toml (move "
            "the default_collection line into commune.toml)",
            "(déplacez la ligne default_collection dans commune.toml)",
        ),
        (
            'version = "1"\nsession_hours = 24\n',
            "line 2: session_hours: a setting of commune.toml's [web], not of charter.toml "
            "(move that line into commune.toml, under [web])",
            "session_hours\u00a0: un réglage du [web] de commune.toml, pas de charter.toml "
            "(déplacez cette ligne dans commune.toml, sous [web])",
        ),
    ],
)
def test_a_setting_of_commune_toml_in_the_charter_says_where_it_goes(home, text, said, french):
    """commune.toml's tables written in charter.toml ([limits], [retrieval], the fund's
    [payouts] monthly_eur beside the charter's [payouts] weights) were refused as unknown keys,
    with the charter's own keys listed, and the operator looked for a misspelling."""
    from commune.text.messages import localise

    write_charter(home, text)
    with pytest.raises(ConfigError) as exc:
        load_charter(home)
    assert str(exc.value).endswith(said), str(exc.value)
    assert localise(str(exc.value), "fr").endswith(french), localise(str(exc.value), "fr")


def test_the_charter_s_payout_weights_in_commune_toml_say_where_they_go(home):
    """And the other way: the charter's [payouts] weights in commune.toml."""
    from commune.config import load_settings
    from commune.text.messages import localise

    home.mkdir(exist_ok=True)
    (home / "commune.toml").write_text("[payouts]\ncitations = 0.7\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(home)
    assert (
        exc.value.hint
        == "citations is a weight of the charter: move it into charter.toml's [payouts]"
    )
    assert "citations est un poids de la charte\u00a0: déplacez-le" in localise(
        str(exc.value), "fr"
    )


@pytest.mark.parametrize(
    ("text", "hint", "french"),
    [
        (
            'version = "2026-12-01"\n',
            "version is a key of charter.toml, not of commune.toml: move it there",
            "(version est une clé de charter.toml, pas de commune.toml\u00a0: déplacez-la dans "
            "charter.toml)",
        ),
        (
            # Sent under [peers] alone, the charter's name went out to every peer as this
            # cooperative's.
            'name = "Charte de la coopérative"\n',
            "name is the charter's, in charter.toml, or this cooperative's as its peers see "
            "it, under [peers]: move that line to one of them",
            "(name est le nom de la charte, dans charter.toml, ou celui de cette coopérative tel "
            "que ses pairs le voient, sous [peers]\u00a0: déplacez cette ligne à l'un des deux)",
        ),
    ],
)
def test_the_charter_s_own_keys_in_commune_toml_say_where_they_go(home, text, hint, french):
    """The charter's version in commune.toml was "unknown" with commune.toml's keys listed,
    and its name was sent under [peers], where it names this cooperative to its peers."""
    from commune.config import load_settings
    from commune.text.messages import localise

    home.mkdir(exist_ok=True)
    (home / "commune.toml").write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_settings(home)
    assert exc.value.hint == hint
    assert localise(str(exc.value), "fr").endswith(french), localise(str(exc.value), "fr")


def test_the_server_purge_waits_for_a_writer_and_says_nothing(home, caplog):
    """The server's hourly purge gave up at once on a write lock held a moment elsewhere (a
    request writing its record, another worker's own purge at start): "database is locked",
    a warning of six lines in the service's log, and the records kept for another hour. It
    now waits for the lock, as every other write does (busy_timeout)."""
    import logging
    import sqlite3
    import threading
    import time
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from commune.core import Commune

    write_charter(home)  # retention_days = 30
    with Commune(home) as c:
        c.charter  # noqa: B018 -- in force, as at a server's start
        with c.engine.begin() as conn:
            conn.execute(
                insert(decisions).values(
                    created_at=datetime.now(UTC) - timedelta(days=400),
                    route="ask",
                    question=None,
                    question_sha256="ab" * 32,
                    language="fr",
                    outcome="extractive",
                    steps="[]",
                    charter_sha256="cd" * 32,
                )
            )
        raw = sqlite3.connect(home / "commune.db", isolation_level=None, check_same_thread=False)
        raw.execute("BEGIN IMMEDIATE")  # another worker's write, under way
        timer = threading.Timer(0.5, raw.rollback)
        timer.start()
        try:
            with caplog.at_level(logging.WARNING, logger="commune"):
                c.start_purger()
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    with c.engine.connect() as conn:
                        if not conn.execute(select(func.count()).select_from(decisions)).scalar():
                            break
                    time.sleep(0.1)
                c.stop_purger()
        finally:
            timer.join()
            raw.close()
        with c.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 0
        assert not [r for r in caplog.records if r.name.startswith("commune")]


def test_wrong_sign_ins_of_yesterday_are_purged_though_nobody_tried_since(home):
    """A wrong key's or password's rows (the digests of the address and the name claimed:
    an IPv4 address's SHA-256 is undone by trying the 4 billion of them) were deleted only
    at the next wrong try: after the last one, they stayed in the database and every backup
    for good. The purge (hourly, at start, before a backup) deletes those older than a day."""
    import time

    from commune.core import Commune
    from commune.store.schema import failed_sign_ins

    with Commune(home) as c:
        c.wrong_tries().count(["address 192.0.2.1"], 20, 60.0, time.time() - 2 * 86400)
        c.purge_decisions()  # nobody tried since
        with c.engine.connect() as conn:
            assert conn.execute(select(failed_sign_ins.c.at)).scalars().all() == []
        c.wrong_tries().count(["address 192.0.2.2"], 20, 60.0, time.time())
        c.purge_decisions()  # a try of the last minute is the count's, kept
        with c.engine.connect() as conn:
            left = conn.execute(select(failed_sign_ins.c.at)).scalars().all()
        assert len(left) == 1 and left[0] > time.time() - 3600
