"""The data commons: licences, curation, audit chain, licence-aware answers, credits."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from commune.cli import cli
from commune.commons.curation import RETIRED_HOLD
from commune.errors import CommuneError, InvalidRequest
from commune.govern.licences import terms_of
from tests.conftest import make_key

DOC = "# Piscine\n\nLa piscine municipale ouvre le mardi à neuf heures pour les écoles.\n"
DOC2 = "# Piscine\n\nLa piscine municipale ouvre le mardi à dix heures pour les écoles.\n"


def searchable(commune, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in h.text for h in commune.search(text, k=5))


@pytest.fixture
def doc(tmp_path):  # type: ignore[no-untyped-def]
    p = tmp_path / "piscine.md"
    p.write_text(DOC, encoding="utf-8")
    return p


# -- licences --------------------------------------------------------------------------------


def test_licence_table_reads_expressions_as_a_reuser_may():
    assert terms_of("etalab-2.0").attribution and not terms_of("etalab-2.0").share_alike
    either = terms_of("GPL-2.0-or-later OR CC-BY-SA-3.0")
    assert either.share_alike and not either.non_commercial
    assert terms_of("CC-BY-4.0 OR CC-BY-NC-4.0").non_commercial is False  # the lighter option
    both = terms_of("MIT AND CC-BY-NC-4.0")
    assert both.non_commercial and both.attribution
    assert terms_of("CC0-1.0").public_domain and not terms_of("CC0-1.0").attribution
    assert terms_of("LGPL-2.1-only") is None  # valid SPDX, terms not in the table
    assert terms_of(None) is None


def test_a_licence_with_an_exception_carries_its_licences_terms(commune, doc):
    """An SPDX exception only adds permissions: "GPL-2.0-or-later WITH
    Classpath-exception-2.0" was read as unknown terms, and each such document waited for a
    curator, quoted nowhere and withheld from every peer."""
    terms = terms_of("GPL-2.0-or-later WITH Classpath-exception-2.0")
    assert terms is not None and terms.share_alike and terms.attribution
    assert "Classpath-exception-2.0" in terms.name
    # Within an expression, read as the rest of it.
    assert terms_of("MIT OR GPL-2.0-only WITH Classpath-exception-2.0").name == "MIT License"
    # An exception to a licence the table does not know leaves its terms unknown.
    assert terms_of("LGPL-2.1-only WITH Classpath-exception-2.0") is None
    s = commune.add([doc], licence="GPL-2.0-or-later WITH Classpath-exception-2.0")
    assert s.added == 1 and not s.outcomes[0].held
    assert searchable(commune, "neuf heures")


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "en",
            "error: revision {id} has no licence (approve it with a known SPDX licence, given "
            "with --licence or in the page's licence field)\n",
        ),
        (
            "fr",
            "erreur\u00a0: la révision {id} n'a pas de licence (approuvez-la avec une licence "
            "SPDX connue, donnée par --licence ou dans le champ licence de la page)\n",
        ),
    ],
)
def test_approving_a_revision_without_a_licence_says_what_to_do_without_nested_brackets(
    commune, doc, home, lang, said
):
    # It said « (approuvez-la avec une licence SPDX connue (--licence, ou le champ licence de
    # la page)) », brackets within brackets closing together.
    commune.add([doc])
    [pending] = commune.pending()
    argv = ["--home", str(home), "review", "approve", str(pending["id"]), "--reason", "vu"]
    result = CliRunner().invoke(cli, argv, env={"LANG": lang})
    assert result.exit_code != 0 and result.output == said.format(id=pending["id"])
    assert commune.pending() == [pending]  # nothing approved


@pytest.mark.parametrize(
    ("licence", "reason"),
    [
        (None, "no licence given"),
        ("LGPL-2.1-only", "terms of licence LGPL-2.1-only are not in the licence table"),
    ],
)
def test_missing_or_unknown_licence_is_held_not_published(commune, doc, licence, reason):
    s = commune.add([doc], licence=licence)
    assert s.added == 1 and reason in s.outcomes[0].held
    assert not searchable(commune, "neuf heures")
    [pending] = commune.pending()
    assert reason in pending["hold_reason"]
    with pytest.raises(CommuneError, match="approve it with a known SPDX licence"):
        commune.review(pending["id"], "approve", "looks right")
    assert (
        commune.review(
            pending["id"], "approve", "licence checked with the author", licence="CC-BY-4.0"
        )
        == "published"
    )
    assert searchable(commune, "neuf heures")
    [d] = commune.documents()
    assert d["licence"] == "CC-BY-4.0" and d["status"] == "published"


def test_a_cooperatives_own_licence_is_accepted_with_its_text(commune, doc, home, tmp_path):
    # Issue 23: a valid LicenseRef-… identifier was refused as unknown.
    from commune.govern.licences import licence_text, normalise, terms_for_use

    assert normalise("licenseref-coop-1.0 AND cc-by-4.0") == "LicenseRef-coop-1.0 AND CC-BY-4.0"
    # Commune does not read the text: answers assume no more freedom than it might give.
    strict = terms_for_use("LicenseRef-coop-1.0")
    assert strict is not None and strict.no_derivatives and strict.non_commercial
    assert terms_for_use("LicenseRef-coop-1.0 AND LGPL-2.1-only") is None
    with pytest.raises(CommuneError, match="invalid licence 'LicenseRef-bad_id'"):
        normalise("LicenseRef-bad_id")
    # Without its text, the identifier names nothing: refused, nothing written.
    with pytest.raises(CommuneError, match="no text is recorded for LicenseRef-coop-1.0"):
        commune.add([doc], collection="coop", licence="LicenseRef-coop-1.0")
    assert commune.collections() == []
    text = "Licence de la coopérative 1.0 : partagez en citant la coopérative."
    # Refused for another reason (an unknown member): the text is not recorded either, or
    # the identifier would stay bound to it, and the rightful text be refused.
    with pytest.raises(CommuneError, match="no member named 'Nobody'"):
        commune.add(
            [doc],
            collection="coop",
            licence="LicenseRef-coop-1.0",
            licence_text="Un autre texte.",
            member="Nobody",
        )
    with commune.engine.connect() as conn:
        assert licence_text(conn, "LicenseRef-coop-1.0") is None
    s = commune.add([doc], collection="coop", licence="LicenseRef-coop-1.0", licence_text=text)
    # Its terms are the cooperative's, not in the table: a curator reads them first.
    assert s.added == 1 and "not in the licence table" in s.outcomes[0].held
    with commune.engine.connect() as conn:
        assert licence_text(conn, "LicenseRef-coop-1.0") == text
    [entry] = [e for e in commune.audit_entries() if e["action"] == "licence-text"]
    assert entry["subject"] == "LicenseRef-coop-1.0"
    with pytest.raises(CommuneError, match="already names another text"):
        commune.add([doc], licence="LicenseRef-coop-1.0", licence_text=text + " Modifiée.")
    with pytest.raises(CommuneError, match="is for your own licence"):
        commune.add([doc], licence="CC-BY-4.0", licence_text=text)
    commune.review(commune.pending()[0]["id"], "approve", "licence read and accepted")
    [d] = commune.documents()
    assert (d["licence"], d["status"]) == ("LicenseRef-coop-1.0", "published")
    # Once recorded, the CLI takes the identifier alone; a new one with --licence-text.
    other = tmp_path / "autre.md"
    other.write_text("# Autre\n\nLe marché a lieu le samedi.\n", encoding="utf-8")
    (tmp_path / "licence.txt").write_text("Licence B : usage libre.", encoding="utf-8")
    run = CliRunner()
    base = ["--home", str(home), "add", str(other), "--collection", "coop"]
    r = run.invoke(cli, [*base, "--licence", "LicenseRef-coop-1.0"])
    assert r.exit_code == 0, r.output
    r = run.invoke(cli, [*base, "--licence", "LicenseRef-b"])
    assert r.exit_code != 0 and "--licence-text FILE" in r.output
    r = run.invoke(
        cli, [*base, "--licence", "LicenseRef-b", "--licence-text", str(tmp_path / "licence.txt")]
    )
    assert r.exit_code == 0, r.output


# -- curation workflow -----------------------------------------------------------------------


def test_collection_rules_set_approvals_and_who_may_give_them(commune, doc):
    from commune.text.messages import localise

    for user, role in (
        ("cora", "contributor"),
        ("cyril", "curator"),
        ("celia", "curator"),
        ("rita", "reader"),
    ):
        make_key(commune, user, "Ville A", role)
    commune.add([doc], collection="sport", licence="etalab-2.0")  # creates the collection
    commune.set_curation_rules("sport", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    s = commune.add(
        [doc],
        collection="sport",
        licence="etalab-2.0",
        actor=commune.actor("cora"),
        contributor="cora",
    )
    assert "needs 2 approval(s) by a curator" in s.outcomes[0].held
    rev = commune.pending()[0]["id"]
    with pytest.raises(CommuneError, match="needs the role curator or above; rita is reader"):
        commune.review(rev, "approve", "ok", commune.actor("rita"))
    with pytest.raises(CommuneError, match="do not review their own") as own:
        commune.set_curation_rules("sport", 2, "contributor")
        commune.review(rev, "approve", "mine", commune.actor("cora"))
    # Here the approvers are contributors: « demandez à un autre curateur » sent cora to a
    # role the collection does not ask for. Whoever approves is a « relecteur ».
    assert localise(str(own.value), "fr") == (
        "les contributeurs ne relisent pas leurs propres révisions (demandez à un autre "
        "relecteur de la collection\u00a0: il faut deux paires d'yeux)"
    )
    commune.set_curation_rules("sport", 2, "curator")
    with pytest.raises(ValueError, match="needs a reason"):
        commune.review(rev, "approve", "  ", commune.actor("cyril"))
    assert commune.review(rev, "approve", "checked", commune.actor("cyril")) == "proposed"
    assert searchable(commune, "neuf heures") and not searchable(commune, "dix heures")
    assert commune.review(rev, "approve", "checked too", commune.actor("celia")) == "published"
    assert searchable(commune, "dix heures") and not searchable(commune, "neuf heures")


def test_a_second_approval_from_the_same_reviewer_is_refused_and_stored_nowhere(commune, doc):
    # Found on the curation page: a curator who approved a revision of a two-approval
    # collection, then approved it again, read "Decision recorded"; the second approval
    # counted nothing (approvals are counted by distinct reviewer), was stored as another
    # review, and the revision waited as before without anyone being told why.
    from commune.text.messages import localise

    for user, role in (("cora", "contributor"), ("cyril", "curator"), ("celia", "curator")):
        make_key(commune, user, "Ville A", role)
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=commune.actor("cora"))
    rev = commune.pending()[0]["id"]
    assert commune.review(rev, "approve", "checked", commune.actor("cyril")) == "proposed"
    with pytest.raises(CommuneError) as refused:
        commune.review(rev, "approve", "checked again", commune.actor("cyril"))
    assert str(refused.value) == (
        f"you approved revision {rev} already (1 of 2 approvals) (another reviewer of the "
        "collection's approver role must approve it too)"
    )
    assert localise(str(refused.value), "fr") == (
        f"vous avez déjà approuvé la révision {rev} (approbations\u00a0: 1 sur 2) (un autre "
        "relecteur du rôle qui approuve dans la collection doit l'approuver aussi)"
    )
    assert [r["reason"] for r in commune.show_revision(rev)["reviews"]] == ["checked"]
    assert commune.review(rev, "approve", "checked too", commune.actor("celia")) == "published"


def test_rules_lowered_do_not_publish_another_members_text_over_a_document(commune, doc):
    # Found by exploring the rules: Ville B's upload over Ville A's document, held for the
    # collection's approval, replaced Ville A's text unseen by any curator once the rule was
    # lowered to none; arriving under that rule, it would have waited for a curator.
    from commune.ingest.pipeline import OTHER_MEMBERS

    make_key(commune, "cora", "Ville A", "contributor")
    make_key(commune, "bob", "Ville B", "contributor")
    commune.add([doc], collection="delib", licence="etalab-2.0", actor=commune.actor("cora"))
    commune.set_visibility("delib", "shared")
    commune.set_curation_rules("delib", 1, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="delib", licence="etalab-2.0", actor=commune.actor("bob"))
    assert commune.set_curation_rules("delib", 0, "curator").released == 0
    assert searchable(commune, "neuf heures") and not searchable(commune, "dix heures")
    [waiting] = commune.pending()
    assert waiting["hold_reason"] == OTHER_MEMBERS


def test_curators_are_told_an_upload_held_for_approvals_replaces_another_members(commune, doc):
    # In a collection that asks for approvals, Ville B's upload over Ville A's document was
    # held with "the collection needs 2 approval(s)" alone: its curators approved it unaware
    # that it replaced another member's text. It says both now, through the count too.
    from commune.cli.speech import as_pages_say
    from commune.ingest.pipeline import OTHER_MEMBERS

    make_key(commune, "cora", "Ville A", "contributor")
    make_key(commune, "bob", "Ville B", "contributor")
    make_key(commune, "cyril", "Ville A", "curator")
    commune.add([doc], collection="delib", licence="etalab-2.0", actor=commune.actor("cora"))
    commune.set_visibility("delib", "shared")
    commune.set_curation_rules("delib", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="delib", licence="etalab-2.0", actor=commune.actor("bob"))
    [waiting] = commune.pending()
    both = f"the collection needs 2 approval(s) by a curator or above; {OTHER_MEMBERS}"
    assert waiting["hold_reason"] == both
    assert as_pages_say(both, "fr") == (
        "la collection demande 2 approbations par un curateur ou plus\u00a0; la révision publiée "
        "vient d'un autre membre\u00a0: un relecteur doit confirmer que celle-ci la remplace"
    )
    assert commune.review(waiting["id"], "approve", "vu", commune.actor("cyril")) == "proposed"
    [waiting] = commune.pending()
    assert waiting["hold_reason"] == f"1 of 2 approvals; held first because {OTHER_MEMBERS}"


def test_the_second_curator_still_reads_why_a_revision_was_held(commune, doc):
    # Found by exploring the four-eyes flow: the first approval replaced the reason a revision
    # waited for ("the licence changed ...") by "1 of 2 approvals", so the second curator
    # approved a licence change without being told of it.
    from commune.cli.speech import as_pages_say

    make_key(commune, "cyril", "Ville A", "curator")
    make_key(commune, "celia", "Ville A", "curator")
    commune.add([doc], collection="sport", licence="CC-BY-4.0")
    commune.set_curation_rules("sport", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="CC-BY-NC-4.0")
    [rev] = commune.pending()
    changed = "the licence changed from CC-BY-4.0 to CC-BY-NC-4.0: a reviewer must confirm"
    # Both, on arrival as when the rules are raised later: one approval is not enough.
    assert (
        rev["hold_reason"] == f"the collection needs 2 approval(s) by a curator or above; {changed}"
    )
    assert commune.review(rev["id"], "approve", "ok", commune.actor("cyril")) == "proposed"
    held = f"1 of 2 approvals; held first because {changed}"
    assert commune.pending()[0]["hold_reason"] == held
    assert as_pages_say(held, "fr") == (
        "approbations\u00a0: 1 sur 2\u00a0; retenue d'abord parce que la licence a changé de "
        "CC-BY-4.0 à CC-BY-NC-4.0\u00a0: un relecteur doit confirmer"
    )
    commune.set_curation_rules("sport", 3, "curator")  # counted again in the new rules
    assert commune.pending()[0]["hold_reason"] == held.replace("of 2", "of 3")
    assert commune.review(rev["id"], "approve", "ok", commune.actor("celia")) == "proposed"
    assert commune.pending()[0]["hold_reason"] == held.replace("1 of 2", "2 of 3")


def test_rules_lowered_publish_what_already_has_the_approvals_now_asked(
    commune, doc, tmp_path, home
):
    # Lowered from 2 approvals to 1, a revision approved once kept waiting for a second
    # approval nobody was asked for any more; lowered to none, one held for approvals alone
    # kept waiting too. One held for its licence still waits.
    make_key(commune, "cyril", "Ville A", "curator")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    [rev] = commune.pending()
    assert commune.review(rev["id"], "approve", "ok", commune.actor("cyril")) == "proposed"
    assert commune.set_curation_rules("sport", 3, "curator").released == 0
    assert commune.pending()[0]["hold_reason"] == "1 of 3 approvals"
    # True when it published, as the count it replaced: a dataclass was always true.
    assert not commune.set_curation_rules("sport", 3, "curator")
    done = commune.set_curation_rules("sport", 1, "curator")
    assert done and done.released == 1
    assert commune.pending() == [] and searchable(commune, "dix heures")
    [entry] = [e for e in commune.audit_entries() if e["action"] == "publish"][-1:]
    assert entry["subject"] == "document 1 revision 2"
    other, unknown = tmp_path / "stade.md", tmp_path / "gymnase.md"
    other.write_text("# Stade\n\nLe stade ouvre le samedi à huit heures.\n", encoding="utf-8")
    unknown.write_text("# Gymnase\n\nLe gymnase ferme le lundi.\n", encoding="utf-8")
    commune.add([other], collection="sport", licence="etalab-2.0")
    commune.add([unknown], collection="sport")  # no licence
    assert len(commune.pending()) == 2
    runner = CliRunner()
    said = runner.invoke(
        cli, ["--home", str(home), "curation", "sport", "--approvals", "0"], env={"LANG": "fr"}
    )
    assert said.exit_code == 0, said.output
    # No approvers named for nothing: "0 approbation par un curateur ou au-dessus" (found
    # following docs/fr/guide.md).
    assert said.output.startswith(
        "sport\u00a0: aucune approbation, un document est publié dès son arrivée quand sa "
        "licence est connue\n"
    ), said.output
    assert "1 révision publiée\u00a0: elle n'attendait plus" in said.output
    assert [r["title"] for r in commune.pending()] == ["Gymnase"]
    assert searchable(commune, "huit heures")


def test_rules_changed_say_the_approvals_now_asked_of_what_waits(commune, doc):
    """Raised from 2 to 3 approvals, a revision nobody had approved yet still said "needs 2
    approval(s) by a curator": its curators stopped one approval short. What waits for
    approvals alone says the rules now asked; one held for a licence is left as it was."""
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    assert commune.pending()[0]["hold_reason"] == (
        "the collection needs 2 approval(s) by a curator or above"
    )
    assert commune.set_curation_rules("sport", 3, "member-admin").released == 0
    assert commune.pending()[0]["hold_reason"] == (
        "the collection needs 3 approval(s) by a member-admin or above"
    )
    unknown = doc.with_name("gymnase.md")
    unknown.write_text("# Gymnase\n\nLe gymnase ferme le lundi.\n", encoding="utf-8")
    commune.add([unknown], collection="sport")  # no licence
    commune.set_curation_rules("sport", 1, "curator")
    assert sorted(r["hold_reason"] for r in commune.pending()) == [
        "no licence given: a reviewer must set one before publication",
        "the collection needs 1 approval(s) by a curator or above",
    ]


def test_a_collections_count_is_what_it_publishes(commune, doc, tmp_path):
    """A document waiting for a curator, or retired, was counted in the collection's
    documents on /api/collections, the commons page and `commune collections`, which then
    listed fewer documents than the count said."""
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 1, "curator")
    other = tmp_path / "stade.md"
    other.write_text("# Stade\n\nLe stade ouvre le samedi à huit heures.\n", encoding="utf-8")
    commune.add([other], collection="sport", licence="etalab-2.0")

    def count() -> int:
        return {c["name"]: c["documents"] for c in commune.collections()}["sport"]

    assert count() == 1 and len(commune.pending()) == 1
    commune.review(commune.pending()[0]["id"], "approve", "checked")
    assert count() == 2
    commune.retire(commune.documents(collection="sport")[0]["id"], "superseded")
    assert count() == 1


def test_reject_and_request_changes_keep_the_published_revision(commune, doc, tmp_path):
    commune.add([doc], licence="etalab-2.0")
    commune.set_curation_rules("default", 1, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], licence="etalab-2.0")
    rev = commune.pending()[0]["id"]
    assert commune.review(rev, "request-changes", "say which pool") == "changes-requested"
    assert commune.pending()[0]["status"] == "changes-requested"
    assert commune.review(rev, "reject", "duplicate of the official timetable") == "rejected"
    assert commune.pending() == [] and searchable(commune, "neuf heures")
    with pytest.raises(CommuneError, match="is rejected, not awaiting review"):
        commune.review(rev, "approve", "changed my mind")


def test_licence_conflict_across_revisions_waits_for_a_curator(commune, doc):
    commune.add([doc], licence="CC-BY-4.0")
    doc.write_text(DOC2, encoding="utf-8")
    s = commune.add([doc], licence="CC-BY-NC-4.0")
    assert "licence changed from CC-BY-4.0 to CC-BY-NC-4.0" in s.outcomes[0].held
    [d] = commune.documents()
    assert d["licence"] == "CC-BY-4.0"  # what is published still shows its own licence
    assert searchable(commune, "neuf heures")
    info = commune.show_revision(commune.pending()[0]["id"])
    assert any(line.startswith("-") and "neuf" in line for line in info["diff"])
    assert any(line.startswith("+") and "dix" in line for line in info["diff"])
    commune.review(info["revision"]["id"], "approve", "the author relicensed it")
    history = commune.history(d["id"])
    assert [(r["number"], r["status"], r["licence"]) for r in history] == [
        (1, "superseded", "CC-BY-4.0"),
        (2, "published", "CC-BY-NC-4.0"),
    ]


def test_a_held_revision_older_than_the_published_one_cannot_replace_it(commune, doc):
    # Approving a held edit after a later one was published put the older text back, and
    # adding the current file again changed nothing (review finding).
    commune.add([doc], licence="CC-BY-4.0")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], licence="CC-BY-NC-4.0")  # held: the licence changed
    doc.write_text(DOC2.replace("dix", "onze"), encoding="utf-8")
    commune.add([doc], licence="CC-BY-4.0")  # published on arrival
    [d] = commune.documents()
    held = next(r["id"] for r in commune.history(d["id"]) if r["number"] == 2)
    before = commune.history(d["id"])
    # It left the queue when revision 3 was published (the test below).
    with pytest.raises(CommuneError, match="is outdated, not awaiting review"):
        commune.review(held, "approve", "the author relicensed it")
    assert commune.history(d["id"]) == before  # nothing recorded, nothing replaced
    assert searchable(commune, "onze heures")


def test_a_revision_still_waiting_when_a_newer_one_is_published_leaves_the_queue(commune, doc):
    # Sent back to its contributor, who then added a corrected file that was published:
    # the old one stayed in the queue for ever (approving it is refused as older), and its
    # contributor kept reading "changes requested".
    make_key(commune, "dora", "Ville A", "contributor")
    make_key(commune, "cyril", "Ville A", "curator")
    dora, cyril = commune.actor("dora"), commune.actor("cyril")
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=dora)
    commune.set_curation_rules("sport", 1, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=dora)
    [sent_back] = commune.pending()
    commune.review(sent_back["id"], "request-changes", "say which pool", actor=cyril)
    doc.write_text(DOC2.replace("dix", "onze"), encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=dora)
    newer = commune.pending()[-1]  # beside the one sent back, until it is published
    assert newer["number"] == 3
    assert commune.review(newer["id"], "approve", "good", actor=cyril) == "published"
    assert commune.pending() == []
    mine = {r["number"]: r for r in commune.contributions(dora)}
    assert mine[2]["status"] == "outdated"
    assert mine[2]["hold_reason"] == "revision 3 was published after it"
    [entry] = [e for e in commune.audit_entries() if e["action"] == "outdate"]
    assert entry["subject"].endswith("revision 2")
    # Never published: readers do not see it in the history.
    from commune.commons.curation import PUBLIC_STATUSES

    assert "outdated" not in PUBLIC_STATUSES


def test_an_older_waiting_revision_is_not_approved_over_a_newer_waiting_one(commune, doc):
    # Two uploads of one document waited: approving the older published the text its newer
    # upload replaced (the newer, approved later, replaced it again), and lowered rules
    # published the older while the newer still waited for its licence. The newer is decided
    # first: the curator expects the text as its contributor last left it.
    make_key(commune, "dora", "Ville A", "contributor")
    make_key(commune, "cyril", "Ville A", "curator")
    make_key(commune, "cleo", "Ville A", "curator")
    dora, cyril, cleo = (commune.actor(u) for u in ("dora", "cyril", "cleo"))
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=dora)
    commune.set_curation_rules("sport", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=dora)
    doc.write_text(DOC2.replace("dix", "onze"), encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=dora)
    older, newer = commune.pending()
    assert (older["number"], newer["number"]) == (2, 3)
    # Approved once, the newer still waits; the older is refused, before or after.
    assert commune.review(newer["id"], "approve", "good", actor=cyril) == "proposed"
    for curator in (cyril, cleo):
        with pytest.raises(CommuneError, match="which waits too") as refused:
            commune.review(older["id"], "approve", "good", actor=curator)
        assert str(refused.value) == (
            f"revision {older['id']} is older than revision {newer['id']} of document "
            f"{older['document_id']}, which waits too: approving it would publish the text "
            f"that upload replaces (review revision {newer['id']} first; to publish this "
            "one, reject that one)"
        )
    from commune.text.messages import localise

    assert localise(str(refused.value), "fr") == (
        f"la révision {older['id']} est plus ancienne que la révision {newer['id']} du "
        f"document {older['document_id']}, qui attend aussi\u00a0: l'approuver publierait le texte "
        f"que ce dépôt remplace (décidez d'abord de la révision {newer['id']}\u00a0; pour publier "
        "celle-ci, rejetez celle-là)"
    )
    assert searchable(commune, "neuf heures") and not searchable(commune, "dix heures")
    assert [r["id"] for r in commune.pending()] == [older["id"], newer["id"]]
    # The newer approved: the older leaves the queue. Rejected: the older may be approved.
    assert commune.review(newer["id"], "approve", "good", actor=cleo) == "published"
    assert searchable(commune, "onze heures") and commune.pending() == []

    doc.write_text(DOC, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0", actor=dora)
    [older] = commune.pending()
    commune.review(older["id"], "approve", "good", actor=cyril)  # 1 of 2
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="CC-BY-4.0", actor=dora)  # licence changed
    [newer] = [r for r in commune.pending() if r["id"] != older["id"]]
    # Lowered rules publish what waits only for approvals: not the older, whose newer
    # upload still waits for its licence to be confirmed.
    assert commune.set_curation_rules("sport", 1, "curator").released == 0
    assert searchable(commune, "onze heures")
    commune.review(newer["id"], "reject", "not this licence", actor=cyril)
    assert commune.review(older["id"], "approve", "then this one", actor=cleo) == "published"
    assert searchable(commune, "neuf heures")


def test_an_older_revision_a_newer_one_holds_says_the_changed_rules_numbers(commune, doc, tmp_path):
    # Changed rules skipped the older revisions a newer upload holds (they are not published
    # under it): their reasons kept the old rules' numbers, "1 of 2 approvals" once the
    # collection asked for 1, and curators read a count the collection no longer asks.
    make_key(commune, "dora", "Ville A", "contributor")
    make_key(commune, "cyril", "Ville A", "curator")
    dora, cyril = commune.actor("dora"), commune.actor("cyril")
    other = tmp_path / "stade.md"
    other.write_text("# Stade\n\nLe stade ouvre à huit heures.\n", encoding="utf-8")
    commune.add([doc, other], collection="sport", licence="etalab-2.0", actor=dora)
    commune.set_curation_rules("sport", 2, "curator")
    for text, hour in ((DOC2, "dix"), (DOC2.replace("dix", "onze"), "onze")):
        doc.write_text(text, encoding="utf-8")
        other.write_text(f"# Stade\n\nLe stade ouvre à {hour} heures.\n", encoding="utf-8")
        commune.add([doc, other], collection="sport", licence="etalab-2.0", actor=dora)
        if hour == "dix":  # the pool's older revision approved once; the stadium's not
            [pool] = [r for r in commune.pending() if "Piscine" in r["title"]]
            commune.review(pool["id"], "approve", "good", actor=cyril)

    def reasons() -> dict[tuple[str, int], str]:
        return {(r["title"].split()[0], r["number"]): r["hold_reason"] for r in commune.pending()}

    assert commune.set_curation_rules("sport", 3, "curator").released == 0
    assert reasons()[("Piscine", 2)] == "1 of 3 approvals"
    assert reasons()[("Stade", 2)] == "the collection needs 3 approval(s) by a curator or above"
    assert commune.set_curation_rules("sport", 1, "curator").released == 0  # held by newer
    assert reasons()[("Piscine", 2)] == "1 of 1 approvals"
    assert reasons()[("Stade", 2)] == "the collection needs 1 approval(s) by a curator or above"
    assert searchable(commune, "neuf heures")  # nothing published


def test_a_held_upload_over_another_members_text_waits_when_that_member_publishes(commune, doc):
    # Ville B's upload over Ville A's document waited for a curator; when Ville A published
    # its own newer revision, B's left the queue as "outdated", dropped without a curator's
    # decision: it is not an older draft of A's text but another member's text over it.
    from commune.commons.curation import rival_hold

    make_key(commune, "cora", "Ville A", "contributor")
    make_key(commune, "bob", "Ville B", "contributor")
    make_key(commune, "cyril", "Ville A", "curator")
    cora, bob, cyril = commune.actor("cora"), commune.actor("bob"), commune.actor("cyril")
    commune.add([doc], collection="deliberations", licence="etalab-2.0", actor=cora)
    commune.set_visibility("deliberations", "shared")
    doc.write_text(DOC2, encoding="utf-8")
    held = commune.add([doc], collection="deliberations", licence="etalab-2.0", actor=bob)
    assert "another member" in held.outcomes[0].held
    doc.write_text(DOC2.replace("dix", "onze"), encoding="utf-8")
    commune.add([doc], collection="deliberations", licence="etalab-2.0", actor=cora)
    assert searchable(commune, "onze heures")  # Ville A's own revision, published at once
    [waiting] = commune.pending()  # Ville B's still waits, and says why
    assert (waiting["number"], waiting["status"]) == (2, "proposed")
    assert waiting["hold_reason"] == rival_hold(3)
    [mine] = [r for r in commune.contributions(bob) if r["number"] == 2]
    assert (mine["status"], mine["hold_reason"]) == ("proposed", rival_hold(3))
    [entry] = [e for e in commune.audit_entries() if e["action"] == "hold"]
    assert entry["subject"].endswith("revision 2") and "outdate" not in {
        e["action"] for e in commune.audit_entries()
    }
    from commune.cli.speech import as_pages_say

    assert "autre membre" in as_pages_say(rival_hold(3), "fr")
    # The curator decides: approving it replaces Ville A's newer text, as the hold says.
    assert commune.review(waiting["id"], "approve", "B's is the minutes", actor=cyril) == (
        "published"
    )
    assert searchable(commune, "dix heures") and not searchable(commune, "onze heures")
    [d] = commune.documents()
    statuses = {r["number"]: r["status"] for r in commune.history(d["id"])}
    assert statuses == {1: "superseded", 2: "published", 3: "superseded"}


def test_the_title_follows_the_published_revision(commune, doc):
    # Issue 23: a document kept its first revision's title in listings, results and credits.
    commune.add([doc], licence="etalab-2.0", publisher="Mairie")
    doc.write_text(DOC2.replace("# Piscine", "# Piscine Jean-Bouin"), encoding="utf-8")
    commune.add([doc], licence="etalab-2.0", publisher="Ville de Saint-Exemple")
    [d] = commune.documents()
    assert (d["title"], d["publisher"]) == ("Piscine Jean-Bouin", "Ville de Saint-Exemple")
    [hit] = commune.search("piscine dix heures", k=1)
    assert hit.title == "Piscine Jean-Bouin"
    a = commune.ask("À quelle heure ouvre la piscine municipale le mardi ?", mode="extractive")
    assert a.sources and all(
        s.attribution.startswith("«\u00a0Piscine Jean-Bouin\u00a0», Ville de Saint-Exemple")
        for s in a.sources
    )
    # A revision that waits for curation does not rename what readers see.
    commune.set_curation_rules("default", 1, "curator")
    doc.write_text(DOC.replace("# Piscine", "# Piscine fermée"), encoding="utf-8")
    commune.add([doc], licence="etalab-2.0", publisher="Ville de Saint-Exemple")
    assert commune.documents()[0]["title"] == "Piscine Jean-Bouin"
    commune.review(commune.pending()[0]["id"], "approve", "checked")
    assert commune.documents()[0]["title"] == "Piscine fermée"


def test_retired_documents_are_not_retrieved(commune, doc):
    commune.add([doc], licence="etalab-2.0")
    [d] = commune.documents()
    make_key(commune, "rob", "Ville R", "reader")
    with pytest.raises(CommuneError, match="retiring a document needs the role curator"):
        commune.retire(d["id"], "outdated", commune.actor("rob"))
    commune.retire(d["id"], "the pool closed")
    assert not searchable(commune, "neuf heures")
    assert commune.documents()[0]["status"] == "retired"


def test_a_personal_data_takedown_takes_the_cached_answers_quoting_it_too(commune, tmp_path):
    from sqlalchemy import select

    from commune.store.schema import answer_cache

    p = tmp_path / "arretes.txt"
    p.write_text(
        "Arrêté de stationnement. Monsieur Zorglub Marchandeau habite 12 rue des Lilas.\n",
        encoding="utf-8",
    )
    commune.add([p], licence="etalab-2.0")
    commune.ask("Où habite Monsieur Zorglub Marchandeau ?")

    def cached() -> list[str]:
        with commune.engine.connect() as conn:
            return list(conn.execute(select(answer_cache.c.answer)).scalars())

    assert any("rue des Lilas" in a for a in cached())
    [d] = commune.documents()
    commune.retire(d["id"], "l'adresse d'un habitant", category="personal-data")
    # Nothing else asked since: the address was kept in the cache until the next answer.
    assert not any("rue des Lilas" in a for a in cached())
    # Nor left in the write-ahead log (the document's own history is in the database).
    wal = commune.settings.home / "commune.db-wal"
    assert not wal.exists() or b"rue des Lilas" not in wal.read_bytes()


ZORGLUB = "Arrêté de stationnement. Monsieur Zorglub Marchandeau habite 12 rue des Lilas.\n"


def _stored(commune, document_id: int) -> tuple[list[str], int, list[bool]]:  # type: ignore[no-untyped-def]
    """What the home keeps of a document's texts: its passages' words, their vectors, and
    whether each revision's original file is in blobs/."""
    from sqlalchemy import func, select

    from commune.store.blobs import blob_path
    from commune.store.schema import chunks, embeddings, revisions

    with commune.engine.connect() as conn:
        texts = list(
            conn.execute(
                select(chunks.c.text + " " + chunks.c.terms + " " + chunks.c.heading_path).where(
                    chunks.c.document_id == document_id
                )
            ).scalars()
        )
        vectors = conn.execute(
            select(func.count())
            .select_from(embeddings.join(chunks))
            .where(chunks.c.document_id == document_id)
        ).scalar_one()
        hashes = conn.execute(
            select(revisions.c.content_hash).where(revisions.c.document_id == document_id)
        ).scalars()
        files = [blob_path(commune.settings.home, h).exists() for h in hashes]
    return texts, vectors, files


def test_a_personal_data_takedown_erases_the_texts_and_a_licence_one_keeps_them(commune, tmp_path):
    """A person who asked for erasure stayed stored: the retired document's passages, their
    vectors and its original file were kept as its history. A personal-data takedown erases
    them (the audit keeps the hashes, dates and who decided); a rights takedown keeps them."""
    import json

    from sqlalchemy import select

    from commune.store.schema import audit_log, revisions

    p = tmp_path / "arretes.txt"
    p.write_text(ZORGLUB, encoding="utf-8")
    q = tmp_path / "piscine.txt"
    q.write_text("La piscine ouvre à neuf heures, sauf le lundi.\n", encoding="utf-8")
    commune.add([p, q], licence="etalab-2.0")
    [zorglub] = [d["id"] for d in commune.documents() if "arretes" in d["source_uri"]]
    [pool] = [d["id"] for d in commune.documents() if "piscine" in d["source_uri"]]
    commune.retire(zorglub, "l'adresse d'un habitant", category="personal-data")
    commune.retire(pool, "licence retirée", category="rights")

    texts, vectors, files = _stored(commune, zorglub)
    assert texts and not any("Zorglub" in t or "zorglub" in t for t in texts)
    assert vectors == 0 and files == [False]
    assert [d["title"] for d in commune.documents() if d["id"] == zorglub] == [
        f"document {zorglub}"
    ]
    texts, vectors, files = _stored(commune, pool)  # a licence's takedown keeps its history
    assert any("piscine" in t for t in texts) and vectors > 0 and files == [True]
    with commune.engine.connect() as conn:
        digest = conn.execute(
            select(revisions.c.content_hash).where(revisions.c.document_id == zorglub)
        ).scalar_one()
        log = {
            (e.action, e.subject): json.loads(e.details) for e in conn.execute(select(audit_log))
        }
    assert log["retire", f"document {zorglub}"]["erasure"] == "pending"
    assert log["erase", f"document {zorglub}"]["files_deleted"] == [digest]
    assert ("erase", f"document {pool}") not in log
    # The home is whole as it is: the erased original is not missing, and a backup verifies.
    assert [c for c in commune.check().checks if not c.ok] == []
    assert commune.backup(tmp_path / "backup")
    # The same file added again is "unchanged", and stores nothing back.
    commune.add([p], licence="etalab-2.0")
    assert _stored(commune, zorglub)[2] == [False]


def test_a_personal_data_takedown_leaves_no_word_of_it_in_the_index_files(commune, tmp_path):
    """The search index's bases on disk kept the erased passages' terms (lexical/vocab.json)
    and vectors after a personal-data takedown, and `commune reindex` left them in the base
    it replaced (the one before the newest stays for other processes): "zorglub" could be
    read in index/ for good. The takedown now rebuilds the index without them and removes
    every base that held the document; searches still find the rest."""
    p = tmp_path / "arretes.txt"
    p.write_text(ZORGLUB, encoding="utf-8")
    q = tmp_path / "piscine.txt"
    q.write_text("La piscine ouvre à neuf heures, sauf le lundi.\n", encoding="utf-8")
    commune.add([p, q], licence="etalab-2.0")
    assert commune.search("Zorglub", k=3)  # a base on disk holds it
    index = commune.settings.home / "index"

    def held() -> list[str]:
        return [
            str(f.relative_to(index))
            for f in index.rglob("*")
            if f.is_file() and b"zorglub" in f.read_bytes().lower()
        ]

    assert held()
    [zorglub] = [d["id"] for d in commune.documents() if "arretes" in d["source_uri"]]
    commune.retire(zorglub, "l'adresse d'un habitant", category="personal-data")
    assert held() == []
    commune.reindex()
    assert held() == []
    assert [h.document_id for h in commune.search("piscine lundi", k=3)]
    assert not [h for h in commune.search("Zorglub Marchandeau", k=3) if h.document_id == zorglub]
    # Brought back by a corrected text: its new passages are no erased ones, and the next
    # retirement rebuilds nothing.
    p.write_text("Arrêté de stationnement. Un habitant de la rue a une place réservée.\n")
    commune.add([p], licence="etalab-2.0")
    [waiting] = commune.pending()
    commune.review(waiting["id"], "approve", "corrigé")
    commune.reindex()  # a base holding the document again, by its new passages
    assert [h for h in commune.search("place réservée", k=3) if h.document_id == zorglub]
    rebuilt = []
    real = commune.reindex
    commune.reindex = lambda *a, **k: rebuilt.append(1) or real(*a, **k)  # type: ignore[method-assign]
    [pool] = [d["id"] for d in commune.documents() if "piscine" in d["source_uri"]]
    commune.retire(pool, "périmé", category="outdated")
    assert rebuilt == []


def test_the_server_s_shutdown_during_its_purge_does_not_wait_for_the_index_rebuilt(
    commune, tmp_path, monkeypatch
):
    """The server's purger, stopped by the shutdown while its purge ran, skipped finishing
    the erasures left pending but then rebuilt the index without their words: a whole
    reindex during the shutdown, which stop_purger gave up on after 10 s and the process's
    exit cut short. Stopped, it now rebuilds nothing; the next start's purge does it."""
    import threading

    from commune.charter import records

    p = tmp_path / "arretes.txt"
    p.write_text(ZORGLUB, encoding="utf-8")
    commune.add([p], licence="etalab-2.0")
    assert commune.search("Zorglub", k=3)  # a base on disk holds it
    [zorglub] = [d["id"] for d in commune.documents()]
    with monkeypatch.context() as crash:  # the texts erased, then the process died
        crash.setattr(commune, "finish_erasures", lambda: 0)
        commune.retire(zorglub, "l'adresse d'un habitant", category="personal-data")
    assert commune.charter  # in force already, as in a server that has run
    rebuilt: list[int] = []
    monkeypatch.setattr(commune, "reindex", lambda *a, **k: rebuilt.append(1))
    purged = threading.Event()
    real = records.purge

    def the_shutdown_meanwhile(*a, **k):  # type: ignore[no-untyped-def]
        done = real(*a, **k)
        commune._stop_purge.set()  # the server stops while the purge's transaction ends
        purged.set()
        return done

    monkeypatch.setattr(records, "purge", the_shutdown_meanwhile)
    commune.start_purger()
    assert purged.wait(30)
    commune._purger.join(10)
    assert not commune._purger.is_alive()
    commune.stop_purger()
    assert rebuilt == []


def test_a_purger_not_ended_at_the_shutdown_is_kept_and_no_second_one_starts(commune, monkeypatch):
    """stop_purger waited 10 s for the purger, then forgot it, still running (a statement
    hung on the database): a start in the same process (a server restarted in-process, the
    tests) then ran a second purger beside it, both purging and erasing at once. The one
    still running is now kept, and no second one starts until it has ended."""
    import threading

    import commune.core as core

    def purgers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "commune-purge"]

    assert commune.charter
    # The shutdown's wait run out (raising=False: the same test on code without the name).
    monkeypatch.setattr(core, "PURGER_STOP_WAIT_S", 0.01, raising=False)
    inside, release = threading.Event(), threading.Event()

    def hung(*a, **k):  # type: ignore[no-untyped-def]
        inside.set()
        release.wait(60)  # a statement the stop cannot end
        return 0

    monkeypatch.setattr(commune.charters, "purge", hung)
    commune.start_purger()
    assert inside.wait(60)
    commune.stop_purger()  # the shutdown's wait runs out: the purger still runs
    [first] = purgers()
    commune.start_purger()  # started again in the same process
    assert purgers() == [first]  # no second purger beside the first
    release.set()
    first.join(60)
    assert not first.is_alive()
    commune.start_purger()  # the first has ended: a new one starts
    [second] = purgers()
    assert second is not first
    commune.stop_purger()
    assert not purgers()


def test_the_erased_file_added_again_elsewhere_is_erased_by_its_own_takedown(commune, tmp_path):
    """The erased file added again under another address is held for a curator, its text and
    original stored again. Retired in turn for personal data, it kept them: the takedown
    spares a revision waiting for a curator (a corrected text may bring a document back), and
    its only revision was one, so nothing was erased and the erasure said "done". A waiting
    revision holding the very bytes an erasure removed is no correction: it is erased too."""
    import shutil

    p = tmp_path / "arretes.txt"
    p.write_text(ZORGLUB, encoding="utf-8")
    commune.add([p], licence="etalab-2.0")
    [first] = commune.documents()
    commune.retire(first["id"], "l'adresse d'un habitant", category="personal-data")
    again = tmp_path / "copie" / "arretes-2.txt"
    again.parent.mkdir()
    shutil.copy(p, again)
    commune.add([again], licence="etalab-2.0")
    [second] = [d["id"] for d in commune.documents() if d["id"] != first["id"]]
    assert any("Zorglub" in t for t in _stored(commune, second)[0])  # held, stored again
    commune.retire(second, "l'adresse d'un habitant, de nouveau", category="personal-data")
    texts, vectors, files = _stored(commune, second)
    assert not any("Zorglub" in t or "zorglub" in t for t in texts)
    assert vectors == 0 and files == [False]
    assert commune.pending() == []  # nothing blank left to approve
    assert [d["title"] for d in commune.documents()] == [
        f"document {first['id']}",
        f"document {second}",
    ]
    assert [c for c in commune.check().checks if not c.ok] == []


def test_retire_help_says_a_personal_data_takedown_erases_the_history(tmp_path):
    """`commune retire --help` said "its history stays", a personal-data takedown's too, which
    erases its texts and files: the operator read that the person stayed stored."""
    for env, said in (
        ({"LANGUAGE": "en"}, "but for personal data, whose texts and files are erased"),
        ({"LANGUAGE": "fr"}, "sauf pour des données personnelles, dont les textes et"),
    ):
        out = CliRunner(env=env).invoke(cli, ["--home", str(tmp_path), "retire", "--help"])
        assert out.exit_code == 0 and said in " ".join(out.output.split()), out.output


def test_an_erasure_cut_short_is_finished_by_the_next_purge(commune, tmp_path, monkeypatch):
    """A crash between the takedown's commit and its files' deletion: the record says the
    erasure is pending, nothing of the text is served nor left in the passages, and the next
    purge deletes the file."""
    from commune.store import erasure

    p = tmp_path / "arretes.txt"
    p.write_text(ZORGLUB, encoding="utf-8")
    commune.add([p], licence="etalab-2.0")
    [d] = commune.documents()
    assert commune.search("Zorglub", k=1)  # a base on disk holds its words

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(erasure, "finish", crash)
    with pytest.raises(KeyboardInterrupt):
        commune.retire(d["id"], "l'adresse d'un habitant", category="personal-data")
    monkeypatch.undo()
    texts, _, files = _stored(commune, d["id"])
    assert not any("Zorglub" in t for t in texts) and files == [True]
    with commune.engine.connect() as conn:
        assert erasure.pending(conn) == [d["id"]]
    commune.purge_decisions()
    assert _stored(commune, d["id"])[2] == [False]
    with commune.engine.connect() as conn:
        assert erasure.pending(conn) == []
    assert commune.verify_audit().ok
    # The search index's files too (`commune charter purge`, which commune check names).
    index = commune.settings.home / "index"
    assert not [f for f in index.rglob("*") if f.is_file() and b"zorglub" in f.read_bytes()]


def test_an_original_that_cannot_be_deleted_leaves_the_erasure_pending(
    commune, tmp_path, monkeypatch
):
    """The takedown committed, its texts erased: a file the system refuses to delete must not
    report the retirement as failed (it is done); the file waits, pending, for the next
    purge."""
    from pathlib import Path

    from commune.store import erasure
    from commune.text.messages import localise

    p = tmp_path / "arretes.txt"
    p.write_text(ZORGLUB, encoding="utf-8")
    commune.add([p], licence="etalab-2.0")
    [d] = commune.documents()
    unlink = Path.unlink

    def refused(self, missing_ok=False):  # type: ignore[no-untyped-def]
        if "blobs" in self.parts:
            raise PermissionError(13, "Permission denied", str(self))
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refused)
    assert commune.retire(d["id"], "l'adresse d'un habitant", category="personal-data") == []
    monkeypatch.undo()
    with commune.engine.connect() as conn:
        assert erasure.pending(conn) == [d["id"]]
    assert _stored(commune, d["id"])[2] == [True]
    # commune check says so, and what to do.
    [said] = [c.detail for c in commune.check().checks if c.name == "erasures"]
    assert said == (
        "1 personal-data takedown still has its original files in blobs/ (run commune "
        "charter purge; the server's log says what stops it)"
    )
    assert localise(said, "fr") == (
        "1 retrait pour données personnelles a encore ses fichiers d'origine dans blobs/ "
        "(lancez commune charter purge\u00a0; le journal du serveur dit ce qui l'empêche)"
    )
    commune.purge_decisions()
    assert _stored(commune, d["id"])[2] == [False]
    assert commune.check().ok


def test_an_answer_given_while_its_document_is_taken_down_is_not_cached(
    commune, tmp_path, monkeypatch
):
    """The takedown commits between an answer's search and its caching (two requests of a
    server): the answer, of the generation before, must not bring the address back into
    the cache, where it stayed until the next answer was cached."""
    from sqlalchemy import select

    from commune.answering.cache import AnswerCache
    from commune.store.schema import answer_cache

    p = tmp_path / "arretes.txt"
    p.write_text(
        "Arrêté de stationnement. Monsieur Zorglub Marchandeau habite 12 rue des Lilas.\n",
        encoding="utf-8",
    )
    commune.add([p], licence="etalab-2.0")
    [d] = commune.documents()
    caching = AnswerCache.store

    def taken_down_meanwhile(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        commune.retire(d["id"], "l'adresse d'un habitant", category="personal-data")
        caching(self, *args, **kwargs)

    monkeypatch.setattr(AnswerCache, "store", taken_down_meanwhile)
    assert "rue des Lilas" in commune.ask("Où habite Monsieur Zorglub Marchandeau ?").text
    with commune.engine.connect() as conn:
        cached = list(conn.execute(select(answer_cache.c.answer)).scalars())
    assert not any("rue des Lilas" in a for a in cached)


def test_a_retired_document_comes_back_only_by_a_curators_approval(commune, doc):
    # Retiring may answer a takedown: adding the file again, changed, must not publish it in
    # silence; and a revision held before the retirement must say, when approved, what it does.
    commune.add([doc], licence="etalab-2.0")
    [d] = commune.documents()
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], licence="CC-BY-4.0")  # held: the licence changed
    commune.retire(d["id"], "the pool closed")
    [held_before] = commune.pending()
    assert held_before["hold_reason"] == RETIRED_HOLD  # not "the licence changed"
    assert commune.show_revision(held_before["id"])["revision"]["hold_reason"] == RETIRED_HOLD
    commune.review(held_before["id"], "reject", "the licence change was a mistake")

    doc.write_text(DOC2.replace("dix", "onze"), encoding="utf-8")
    summary = commune.add([doc], licence="etalab-2.0")
    assert summary.outcomes[0].held == RETIRED_HOLD
    assert commune.documents()[0]["status"] == "retired"
    assert not searchable(commune, "onze heures") and not searchable(commune, "neuf heures")
    [waiting] = commune.pending()
    assert waiting["hold_reason"] == RETIRED_HOLD and waiting["document_status"] == "retired"

    assert commune.review(waiting["id"], "approve", "the pool reopened") == "published"
    assert commune.documents()[0]["status"] == "published"
    assert searchable(commune, "onze heures")
    actions = [e["action"] for e in commune.audit_entries()]
    assert actions.count("reinstate") == 1 and commune.verify_audit().ok


def test_the_document_list_says_what_is_not_cited(tmp_path, doc):
    home = str(tmp_path / "home")
    runner = CliRunner()
    other = tmp_path / "marche.md"
    other.write_text("# Marché\n\nLe marché a lieu le dimanche matin.\n", encoding="utf-8")
    for path, licence in ((doc, "etalab-2.0"), (other, "etalab-2.0")):
        assert (
            runner.invoke(cli, ["--home", home, "add", str(path), "--licence", licence]).exit_code
            == 0
        )
    unlicensed = tmp_path / "sans-licence.md"
    unlicensed.write_text("# Salle\n\nLa salle des fêtes se loue.\n", encoding="utf-8")
    assert runner.invoke(cli, ["--home", home, "add", str(unlicensed)]).exit_code == 0
    assert runner.invoke(cli, ["--home", home, "retire", "1", "--reason", "fermée"]).exit_code == 0
    env = {"LANG": "fr_FR.UTF-8", "LC_ALL": "", "LANGUAGE": ""}
    lines = runner.invoke(cli, ["--home", home, "documents"], env=env).output.splitlines()
    assert lines[0].endswith("(retiré)") and lines[1].endswith("Marché")
    assert lines[2].endswith("(non publié)")
    env = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LANGUAGE": ""}
    lines = runner.invoke(cli, ["--home", home, "documents"], env=env).output.splitlines()
    assert lines[0].endswith("(retired)") and lines[2].endswith("(not published)")


# -- the audit log -------------------------------------------------------------------------------


@pytest.fixture
def logged(commune, doc):  # type: ignore[no-untyped-def]
    commune.add([doc], licence="etalab-2.0")  # publish
    make_key(commune, "una", "Ville U", "curator")  # role-grant
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], licence="CC-BY-4.0")  # held: licence change
    commune.review(commune.pending()[0]["id"], "approve", "relicensed")  # publish
    [d] = commune.documents()
    commune.retire(d["id"], "closed")
    result = commune.verify_audit()
    assert result.ok and result.entries == 4, result.problems
    return commune


def tamper(commune, *sql: str) -> list[str]:  # type: ignore[no-untyped-def]
    with commune.engine.begin() as conn:
        for statement in sql:
            conn.exec_driver_sql(statement)
    return commune.verify_audit().problems


def test_audit_detects_an_edited_entry(logged):
    problems = tamper(
        logged, "update audit_log set details = '{\"reason\": \"nothing\"}' where action = 'retire'"
    )
    assert any("does not match its hash (edited)" in p for p in problems)


def test_audit_detects_a_deleted_entry(logged):
    problems = tamper(logged, "delete from audit_log where id = 2")
    assert any("entry 3: does not follow" in p for p in problems)


def test_audit_detects_a_deleted_last_entry(logged):
    problems = tamper(logged, "delete from audit_log where id = (select max(id) from audit_log)")
    assert any("recorded head is entry 4" in p for p in problems)


def test_audit_detects_reordered_entries(logged):
    problems = tamper(
        logged,
        "update audit_log set id = -1 where id = 2",
        "update audit_log set id = 2 where id = 3",
        "update audit_log set id = 3 where id = -1",
    )
    assert any("does not follow" in p for p in problems)


def test_audit_detects_an_inserted_entry(logged):
    problems = tamper(
        logged,
        "insert into audit_log (created_at, actor, action, subject, details, prev_hash, hash) "
        "select created_at, 'mallory', 'publish', subject, details, hash, hash from audit_log "
        "where id = (select max(id) from audit_log)",
    )
    assert problems


def test_audit_cli_exit_codes(logged, home):
    runner = CliRunner()
    ok = runner.invoke(cli, ["--home", str(home), "audit", "verify"])
    assert ok.exit_code == 0 and "audit log intact: 4 entries" in ok.output
    tamper(logged, "update audit_log set actor = 'mallory' where id = 1")
    bad = runner.invoke(cli, ["--home", str(home), "audit", "verify"])
    assert bad.exit_code == 1 and "tampered: entry 1" in bad.output


# -- licence-aware answers and the TDM opt-out ----------------------------------------------------


@pytest.fixture
def licensed(commune, tmp_path):  # type: ignore[no-untyped-def]
    files = {
        "sa.md": (
            "CC-BY-SA-4.0",
            "# Compost\n\nLe compost collectif se fait au jardin "
            "partagé du quartier nord, chaque samedi matin.",
        ),
        "nc.md": (
            "CC-BY-NC-4.0",
            "# Compost urbain\n\nLe guide du compost urbain explique "
            "comment composter en appartement avec un lombricomposteur.",
        ),
    }
    for name, (licence, text) in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        commune.add(
            [tmp_path / name],
            licence=licence,
            publisher="Ville Verte",
            contributor="Jardins partagés",
        )
    reserved = tmp_path / "reserve.html"
    reserved.write_text(
        '<html><head><meta name="tdm-reservation" content="1"><title>Compost privé</title>'
        "</head><body><main><h1>Compost privé</h1><p>Le compost de la société Humus SA est "
        "vendu en sacs de vingt litres dans les jardineries du département.</p>"
        "</main></body></html>",
        encoding="utf-8",
    )
    commune.add([reserved], licence="CC-BY-4.0")
    return commune


def test_citations_carry_attribution_and_share_alike_is_announced(licensed):
    a = licensed.ask("Où se fait le compost collectif ?")
    src = next(s for s in a.sources if s.licence == "CC-BY-SA-4.0")
    # A French question: its credit line is French typography (no-break space before the
    # colon), as its licence notes are French (issue 24).
    assert src.attribution == (
        "«\u00a0Compost\u00a0», Ville Verte, CC-BY-SA-4.0\u00a0: Creative Commons "
        "Attribution-ShareAlike 4.0 (https://creativecommons.org/licenses/by-sa/4.0/) — "
        f"{src.source}"
    )
    assert any("partage à l'identique (CC-BY-SA-4.0)" in n for n in a.licence_notes)


def test_a_credit_line_is_written_in_the_readers_language():
    from commune.govern.licences import attribution_text

    assert attribution_text("Note", None, None, "note.md", "fr") == (
        "«\u00a0Note\u00a0», licence inconnue — note.md"
    )
    assert attribution_text("Note", None, None, "note.md") == "« Note », licence unknown — note.md"
    assert "etalab-2.0\u00a0: " in attribution_text("Note", "Ville", "etalab-2.0", "n.md", "fr")
    assert "etalab-2.0: " in attribution_text("Note", "Ville", "etalab-2.0", "n.md", "en")


def test_commercial_members_do_not_get_non_commercial_sources(licensed):
    from commune.govern.members import add_member

    with licensed.engine.begin() as conn:
        add_member(conn, "Coop Bio", "association", declared_use="commercial")
    make_key(licensed, "paul", "Coop Bio")
    question = "Comment composter en appartement avec un lombricomposteur ?"
    assert any(s.licence == "CC-BY-NC-4.0" for s in licensed.ask(question).sources)
    a = licensed.ask(question, actor=licensed.actor("paul"))
    assert all(s.licence != "CC-BY-NC-4.0" for s in a.sources)
    assert a.excluded[0]["title"] == "Compost urbain"
    assert any("interdit l'usage commercial" in n for n in a.licence_notes)


def test_tdm_reservation_is_honoured_in_answers_not_in_search(licensed):
    question = "Où acheter le compost de la société Humus en sacs ?"
    assert any("Humus" in h.text for h in licensed.search(question, k=3))
    a = licensed.ask(question)
    assert "Humus" not in a.text and all(s.title != "Compost privé" for s in a.sources)
    assert any("fouille de textes et de données" in n for n in a.licence_notes)


def test_a_reservation_given_later_for_the_same_file_is_recorded(commune, doc):
    # Found by an exploratory test: `commune add piscine.md --tdm-reserved` after the file was
    # added without it said "1 unchanged", and answers went on using the text.
    commune.add([doc], licence="etalab-2.0")
    again = commune.add([doc], licence="etalab-2.0", tdm_reserved=True)
    assert (again.updated, again.unchanged) == (1, 0)
    [d] = commune.documents()
    assert d["tdm_reserved"]
    a = commune.ask("Quand la piscine municipale ouvre-t-elle pour les écoles ?")
    assert "neuf heures" not in a.text
    # Added again without the option, the file keeps its reservation.
    assert commune.add([doc], licence="etalab-2.0").unchanged == 1
    assert commune.documents()[0]["tdm_reserved"]


# -- credits ---------------------------------------------------------------------------------


def test_answers_credit_their_contributors(licensed, home):
    from datetime import UTC, datetime

    licensed.ask("Où se fait le compost collectif ?")
    licensed.ask("Le compost collectif a lieu quel jour ?")
    month = datetime.now(UTC).strftime("%Y-%m")
    report = licensed.credits(month)
    top = report["contributors"][0]
    assert top["contributor"] == "Jardins partagés" and top["answers"] >= 2
    assert any(d["title"] == "Compost" for d in report["documents"])
    out = CliRunner().invoke(cli, ["--home", str(home), "credits", "--month", month])
    assert out.exit_code == 0 and "Jardins partagés" in out.output
    assert licensed.credits("2001-01") == {
        "month": "2001-01",
        "contributors": [],
        "documents": [],
        "cited_by_peers": [],
        "from_peers": [],
    }


def test_credits_title_the_peers_section_on_its_own_line(made_home, monkeypatch):
    """ "cited by peers:" was printed on the line of its column heads, which then read
    "cited by peers: peer", unlike the section below it."""
    from commune.core import Commune

    report = {
        "month": "2026-12",
        "contributors": [],
        "documents": [],
        "cited_by_peers": [
            {"peer": "coop-a", "contributor": "Alice", "documents": 1, "citations": 2}
        ],
        "from_peers": [],
    }
    monkeypatch.setattr(Commune, "credits", lambda self, month: report)
    for env, title, heads in (
        ({"LANG": "en_US.UTF-8"}, "cited by peers:", "peer\tcontributor\tdocuments\tcitations"),
        (
            {"LANG": "fr_FR.UTF-8"},
            "cités par les pairs\u00a0:",
            "pair\tcontributeur\tdocuments",
        ),
    ):
        out = CliRunner().invoke(
            cli, ["--home", str(made_home), "credits", "--month", "2026-12"], env=env
        )
        assert out.exit_code == 0, out.output
        lines = out.output.splitlines()
        at = lines.index(title)
        assert lines[at + 1].startswith(heads)
        assert lines[at + 2] == "coop-a\tAlice\t1\t2"


def test_an_answer_citing_two_passages_of_a_document_is_one_answer_for_it(commune, doc):
    # Found by an exploratory test: four answers citing two passages each of one document
    # read "réponses 8"; the citations were right.
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from commune.commons.credits import record
    from commune.govern.policy import OPERATOR

    commune.add([doc], licence="etalab-2.0", contributor="Alice")
    [document] = commune.documents()

    def source(n: int, chunk: int) -> SimpleNamespace:
        return SimpleNamespace(
            n=n, document_id=document["id"], chunk_id=chunk, contributor="Alice", origin=None
        )

    answer = SimpleNamespace(
        sources=[source(1, 1), source(2, 2)],
        sentences=[{"source": 1}, {"source": 2}, {"source": 2}],
    )
    with commune.engine.begin() as conn:
        for _ in range(4):
            record(conn, "api/ask", answer, {1: 1, 2: 1}, OPERATOR)
    [line] = commune.credits(datetime.now(UTC).strftime("%Y-%m"))["documents"]
    assert (line["answers"], line["citations"]) == (4, 12)


def test_an_answer_citing_two_documents_of_a_contributor_is_one_answer_for_them(commune, tmp_path):
    # Found as a member admin reading `commune credits`: three answers, one of which cited
    # both of a town's documents, read "answers 4" on the town's line.
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from commune.commons.credits import record
    from commune.govern.policy import OPERATOR

    for name, text in (("piscine.md", DOC), ("piscine-ecoles.md", DOC2)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    commune.add(
        [tmp_path / "piscine.md", tmp_path / "piscine-ecoles.md"],
        licence="etalab-2.0",
        contributor="Ville A",
    )
    first, second = commune.documents()

    def source(n: int, document: dict) -> SimpleNamespace:  # type: ignore[type-arg]
        return SimpleNamespace(
            n=n, document_id=document["id"], chunk_id=n, contributor="Ville A", origin=None
        )

    both = SimpleNamespace(
        sources=[source(1, first), source(2, second)],
        sentences=[{"source": 1}, {"source": 2}],
    )
    one = SimpleNamespace(sources=[source(1, first)], sentences=[{"source": 1}])
    with commune.engine.begin() as conn:
        record(conn, "api/ask", both, {1: 1, 2: 2}, OPERATOR)
        record(conn, "api/ask", one, {1: 1}, OPERATOR)
        record(conn, "api/ask", one, {1: 1}, OPERATOR)
    report = commune.credits(datetime.now(UTC).strftime("%Y-%m"))
    [town] = report["contributors"]
    assert (town["documents"], town["answers"], town["citations"]) == (2, 3, 4)
    assert sorted(d["answers"] for d in report["documents"]) == [1, 3]


def test_a_user_contributing_is_credited_as_the_contributor(commune, doc, home):
    from datetime import UTC, datetime

    make_key(commune, "dora", "Ville A", "contributor")
    s = commune.add([doc], collection="sport", licence="etalab-2.0", actor=commune.actor("dora"))
    assert s.added == 1
    history = commune.history(commune.documents("sport")[0]["id"])
    assert history[0]["contributor"] == "dora (Ville A)"
    commune.ask("Quand ouvre la piscine ?", collection="sport")
    report = commune.credits(datetime.now(UTC).strftime("%Y-%m"))
    assert [c["contributor"] for c in report["contributors"]] == ["dora (Ville A)"]
    # Her own questions about her own document earn her nothing: asked as often as she
    # liked, they were paid from the fund as readers' use. A colleague's question counts.
    make_key(commune, "max", "Ville A", "reader")
    for question in ("Quand ouvre la piscine ?", "La piscine ouvre-t-elle le mardi ?"):
        answer = commune.ask(question, collection="sport", actor=commune.actor("dora"))
        assert answer.sources  # answered, cited: only the credit is withheld
    report = commune.credits(datetime.now(UTC).strftime("%Y-%m"))
    assert [c["answers"] for c in report["contributors"]] == [1]
    commune.ask(
        "La piscine ouvre-t-elle le mardi ?", collection="sport", actor=commune.actor("max")
    )
    report = commune.credits(datetime.now(UTC).strftime("%Y-%m"))
    assert [c["answers"] for c in report["contributors"]] == [2]


def test_curators_act_only_within_their_members_collections(commune, doc):
    # A curator of Ville B retired and approved documents in Ville A's private collection.
    make_key(commune, "cyrille", "Ville A", "curator")
    make_key(commune, "boris", "Ville B", "curator")
    make_key(commune, "carla", "Ville A", "contributor")
    commune.add([doc], collection="a-privee", licence="etalab-2.0", member="Ville A")
    commune.set_curation_rules("a-privee", 1, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="a-privee", licence="etalab-2.0", actor=commune.actor("carla"))
    waiting = commune.pending()[0]
    document = commune.documents("a-privee")[0]["id"]
    with pytest.raises(CommuneError, match=f"no revision {waiting['id']}"):
        commune.review(waiting["id"], "approve", "ok", actor=commune.actor("boris"))
    with pytest.raises(CommuneError, match=f"no document {document}"):
        commune.retire(document, "spam", actor=commune.actor("boris"))
    assert commune.documents("a-privee")[0]["id"] == document  # nothing changed
    status = commune.review(waiting["id"], "approve", "ok", actor=commune.actor("cyrille"))
    assert status == "published"
    commune.retire(document, "obsolete", actor=commune.actor("cyrille"))


def test_a_curator_outside_the_collection_is_told_in_french_what_to_do(commune, doc):
    # Found by an exploratory test: `commune retire 7 --as bob` ended in English, "(list what
    # you may curate with commune review list)", after a French first half.
    make_key(commune, "cyrille", "Ville A", "curator")
    make_key(commune, "boris", "Ville B", "curator")
    commune.add([doc], collection="a-privee", licence="etalab-2.0", member="Ville A")
    document = commune.documents("a-privee")[0]["id"]
    home = str(commune.settings.home)
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", home, "retire", str(document), "--reason", "spam", "--as", "boris"]
    )
    assert out.exit_code != 0
    assert out.output.strip() == (
        f"erreur\u00a0: aucun document {document} qui ne soit pas déjà retiré (listez ce que "
        "vous pouvez relire avec commune review list)"
    ), out.output


def test_an_approval_that_does_not_publish_says_what_the_revision_still_waits_for(commune, doc):
    # Found by an exploratory test: `commune review approve` printed a bare "proposée", the
    # same after a curator's second approval of one revision, which does not count.
    make_key(commune, "cyrille", "Ville A", "curator")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 2, "curator")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    [waiting] = commune.pending()
    home = str(commune.settings.home)
    approve = ["--home", home, "review", "approve", str(waiting["id"]), "--as", "cyrille"]
    runner = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    out = runner.invoke(cli, [*approve, "--reason", "vérifié"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == (
        f"révision {waiting['id']}\u00a0: proposée (approbations\u00a0: 1 sur 2)"
    ), out.output
    # The second approval of the same curator counts nothing: refused, saying so (it was
    # stored as another review, credited to them in the month's payouts).
    out = runner.invoke(cli, [*approve, "--reason", "vérifié encore"])
    assert out.exit_code == 2, out.output
    assert (
        f"vous avez déjà approuvé la révision {waiting['id']} (approbations\u00a0: 1 sur 2)"
    ) in out.output


def test_a_document_brought_back_keeps_the_text_it_was_retired_with_withdrawn(
    commune, doc, tmp_path
):
    # Found by an exploratory test: retired (a takedown), then brought back with a corrected
    # revision, a document showed the retired text again in the history readers see, and
    # the open export put it in files/history/.
    make_key(commune, "remi", "Ville A", "reader")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    [d] = commune.documents()
    commune.retire(d["id"], "données personnelles")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    [waiting] = commune.pending()
    assert commune.review(waiting["id"], "approve", "corrigé") == "published"
    seen = commune.revisions(d["id"], actor=commune.actor("remi"))
    assert [r["number"] for r in seen] == [2] and "neuf heures" not in str(seen)
    commune.export_collection("sport", tmp_path / "dataset")
    assert not (tmp_path / "dataset" / "files" / "history").exists()
    assert "neuf heures" not in (tmp_path / "dataset" / "documents.jsonl").read_text()
    # The operator's own history still has it, marked for what it is.
    assert [r["status"] for r in commune.history(d["id"])] == ["retired", "published"]


def test_readers_list_only_published_documents(commune, doc, tmp_path):
    # Held and rejected documents were listed to every reader.
    make_key(commune, "remi", "Ville A", "reader")
    make_key(commune, "cecile", "Ville A", "curator")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    held = tmp_path / "sans-licence.md"
    held.write_text("# Brouillon\n\nUn texte dont la licence n'est pas connue du tout.\n")
    s = commune.add([held], collection="sport")  # no licence: held for a curator
    assert s.outcomes[0].held
    reader = [d["title"] for d in commune.documents("sport", actor=commune.actor("remi"))]
    curator = [d["title"] for d in commune.documents("sport", actor=commune.actor("cecile"))]
    assert "Brouillon" not in reader and len(reader) == 1
    assert "Brouillon" in curator and len(curator) == 2


def test_a_name_longer_than_its_column_is_refused_before_anything_is_stored(commune, corpus):
    """PostgreSQL holds 200 characters where SQLite holds any: a longer contributor was
    stored, and every answer citing the document then failed on PostgreSQL."""
    long = "x" * 201
    with pytest.raises(InvalidRequest, match="contributor's name is 201 characters long"):
        commune.add([corpus], collection="mairie", licence="etalab-2.0", contributor=long)
    with pytest.raises(InvalidRequest, match="collection's name is 201 characters long"):
        commune.add([corpus], collection=long, licence="etalab-2.0")
    assert commune.collections() == [] and commune.documents() == []


def test_the_history_shows_waiting_revisions_only_to_those_who_may_approve_them(commune, doc):
    # Library.revisions judged "curator" without the collection's approver role: where only
    # member admins approve, a curator read in the history the waiting text (and why it
    # waits) that the queue and `review show` refuse them.
    make_key(commune, "cyrille", "Ville A", "curator")
    make_key(commune, "adele", "Ville A", "member-admin")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    [d] = commune.documents()
    commune.set_curation_rules("sport", 1, "member-admin")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    assert commune.pending(actor=commune.actor("cyrille")) == []
    seen = commune.revisions(d["id"], actor=commune.actor("cyrille"))
    assert [r["status"] for r in seen] == ["published"]
    admin = commune.revisions(d["id"], actor=commune.actor("adele"))
    assert [r["status"] for r in admin] == ["published", "proposed"]


def test_review_list_as_a_curator_lists_only_what_they_may_review(commune, doc, home):
    # `commune review list` had no --as: a curator on the command line read the operator's
    # whole queue (what the other review commands would then refuse them), or nothing.
    make_key(commune, "cyrille", "Ville A", "curator")
    make_key(commune, "adele", "Ville A", "member-admin")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 1, "member-admin")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    [rev] = commune.pending()

    def listed(*who: str) -> str:
        argv = ["--home", str(home), "review", "list", *who]
        result = CliRunner().invoke(cli, argv, env={"LANG": "en"})
        assert result.exit_code == 0, result.output
        return result.output

    assert listed("--as", "cyrille") == "nothing waits for curation\n"
    assert listed("--as", "adele").startswith(f"{rev['id']}\tsport\t")
    assert listed().startswith(f"{rev['id']}\tsport\t")  # the operator: everything


def test_review_show_as_a_user_shows_what_they_may_review_refused_as_approve_refuses(
    commune, doc, home
):
    # `commune review show` had no --as, where list, approve, reject and request-changes
    # have one: a curator looked at what they were about to approve as the operator, who
    # sees every collection's. Under --as it shows what that user may review, and refuses the
    # rest with the same check and the same words as `review approve --as` the same user.
    make_key(commune, "cyrille", "Ville A", "curator")
    make_key(commune, "adele", "Ville A", "member-admin")
    make_key(commune, "lea", "Ville A", "reader")
    make_key(commune, "boris", "Ville B", "curator")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 1, "member-admin")
    commune.add([doc], collection="a-privee", member="Ville A")  # no licence: it waits
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    sport, private = sorted(commune.pending(), key=lambda r: r["collection"] != "sport")
    assert sport["collection"] == "sport" and private["collection"] == "a-privee"

    def run(lang: str, command: str, revision: int, who: str):  # type: ignore[no-untyped-def]
        argv = ["--home", str(home), "review", command, str(revision), "--as", who]
        if command != "show":
            argv += ["--reason", "vu"]
        return CliRunner().invoke(cli, argv, env={"LANG": lang})

    shown = run("en", "show", sport["id"], "adele")
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"revision {sport['id']} (number 2) of document ")
    for lang in ("en", "fr_FR.UTF-8"):
        # a curator where only member admins approve; a reader; another member's curator,
        # to whom the private collection does not exist
        for revision, who in ((sport, "cyrille"), (sport, "lea"), (private, "boris")):
            refused = run(lang, "show", revision["id"], who)
            approving = run(lang, "reject", revision["id"], who)
            assert refused.exit_code == approving.exit_code != 0, refused.output
            assert refused.output == approving.output, (lang, who)
            assert "Traceback" not in refused.output and refused.output.count("\n") == 1
    assert "aucune révision" in run("fr_FR.UTF-8", "show", private["id"], "boris").output
    # Nothing was decided by the refused decisions, and the operator still sees everything.
    assert {r["id"] for r in commune.pending()} == {sport["id"], private["id"]}
    plain = CliRunner().invoke(cli, ["--home", str(home), "review", "show", str(private["id"])])
    assert plain.exit_code == 0, plain.output


def test_review_list_as_someone_who_reviews_nowhere_says_why_not_that_nothing_waits(
    commune, doc, home
):
    # `commune review list --as` a reader said "nothing waits for curation" while a
    # revision waited: `review approve --as` them refused it with their role, and the
    # curation page refused them the queue; the list now says why, and lists nothing.
    make_key(commune, "lea", "Ville A", "reader")
    commune.add([doc], collection="sport")  # no licence: it waits for a curator
    assert len(commune.pending()) == 1

    def listed(lang: str, *more: str):  # type: ignore[no-untyped-def]
        argv = ["--home", str(home), "review", "list", "--as", "lea", *more]
        return CliRunner().invoke(cli, argv, env={"LANG": lang})

    english = listed("en")
    assert english.exit_code != 0
    assert "nothing waits" not in english.output
    assert english.output.endswith(
        "curating needs the role curator or above; lea is reader (ask your member's admins)\n"
    ), english.output
    french = listed("fr_FR.UTF-8", "--json")
    assert french.exit_code != 0 and "[]" not in french.output
    assert french.output.endswith(
        "faire la curation demande le rôle curateur ou au-dessus\u00a0; lea est lecteur "
        "(demandez aux administrateurs de votre membre)\n"
    ), french.output
    with pytest.raises(CommuneError, match="curating needs the role curator"):
        commune.pending(commune.actor("lea"))


def test_a_collections_rules_are_set_by_its_members_admins_and_no_one_elses(commune, doc):
    # curation.set_rules checked no permission: only the operator's CLI reached it, but the
    # library must check the policy itself, whichever face calls it.
    from commune.commons.curation import rules
    from commune.errors import Forbidden, NotFound
    from commune.store import repository as repo

    make_key(commune, "adele", "Ville A", "member-admin")
    make_key(commune, "cyril", "Ville A", "curator")
    make_key(commune, "carla", "Ville B", "cooperative-admin")
    make_key(commune, "bea", "Ville B", "member-admin")
    for name in ("ville-a", "coop", "rh-b"):
        commune.add([doc], collection=name, licence="etalab-2.0")
    commune.set_visibility("ville-a", "shared", member="Ville A")
    commune.set_visibility("rh-b", "private", member="Ville B")
    adele, cyril, carla = (commune.actor(u) for u in ("adele", "cyril", "carla"))

    done = commune.set_curation_rules("ville-a", 2, "curator", actor=adele)
    assert done.released == 0 and done.reason == (
        "the collection belongs to Ville A, which adele administers"
    )
    [row] = [e for e in commune.audit_entries() if e["action"] == "curation-rules"]
    assert row["actor"] == "adele" and "Ville A" in str(row["details"])
    refusals = [
        (cyril, "ville-a", Forbidden, "needs the role member-admin or above"),
        (adele, "coop", Forbidden, "the cooperative as a whole: its admins set"),
        (adele, "rh-b", NotFound, "no collection named 'rh-b'"),  # its name stays private
        (carla, "ville-a", Forbidden, "belongs to Ville A: its admins set its curation rules"),
    ]
    for actor, name, error, said in refusals:
        with pytest.raises(error, match=said):
            commune.set_curation_rules(name, 0, "reader", actor=actor)
    assert commune.set_curation_rules("coop", 1, "curator", actor=carla).reason == (
        "cooperative admins set the curation rules of the cooperative's collections"
    )
    with commune.engine.connect() as conn:  # refused, nothing changed
        assert rules(conn, repo.collection_id(conn, "ville-a")).approvals_required == 2
        assert rules(conn, repo.collection_id(conn, "rh-b")).approvals_required == 0


def test_nobody_names_approvers_above_their_own_role(commune, doc):
    # A member admin could name cooperative admins as their collection's approvers: the
    # power to approve, above their own role, handed to the cooperative admins of every
    # member (the collection is shared), and out of the member admin's own hands.
    from commune.commons.curation import Rules, rules
    from commune.errors import Forbidden
    from commune.store import repository as repo

    make_key(commune, "adele", "Ville A", "member-admin")
    commune.add([doc], collection="ville-a", licence="etalab-2.0")
    commune.set_visibility("ville-a", "shared", member="Ville A")
    adele = commune.actor("adele")
    said = "approvers of role cooperative-admin would be above adele's own role, member-admin"
    with pytest.raises(Forbidden, match=said) as refused:
        commune.set_curation_rules("ville-a", 1, "cooperative-admin", actor=adele)
    assert "name member-admin or a role below it" in str(refused.value)
    with commune.engine.connect() as conn:  # refused, nothing changed
        assert rules(conn, repo.collection_id(conn, "ville-a")) == Rules(0, "curator")
    home = str(commune.settings.home)
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli,
        ["--home", home, "curation", "ville-a", "--approvals", "1"]
        + ["--role", "cooperative-admin", "--as", "adele"],
    )
    french = (
        "confier les approbations au rôle administrateur de la coopérative dépasse le "
        "rôle d'adele, administrateur de membre (nommez administrateur de membre "
        "ou un rôle en dessous)"
    )
    assert out.exit_code != 0 and french in out.output, out.output
    # Their own role, or below, they name; approvers the operator named above them stay
    # when they change only the number of approvals.
    commune.set_curation_rules("ville-a", 2, "member-admin", actor=adele)
    commune.set_curation_rules("ville-a", 1, "cooperative-admin")
    commune.set_curation_rules("ville-a", 2, "cooperative-admin", actor=adele)
    with commune.engine.connect() as conn:
        assert rules(conn, repo.collection_id(conn, "ville-a")).approvals_required == 2


def test_curation_takes_as_and_says_its_refusal_in_french(commune, doc):
    make_key(commune, "cyril", "Ville A", "curator")
    make_key(commune, "bea", "Ville B", "member-admin")
    commune.add([doc], collection="ville-a", licence="etalab-2.0")
    commune.set_visibility("ville-a", "shared", member="Ville A")
    home = str(commune.settings.home)
    runner = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    out = runner.invoke(
        cli, ["--home", home, "curation", "ville-a", "--approvals", "0", "--as", "bea"]
    )
    assert out.exit_code != 0
    assert "la collection appartient à Ville A\u00a0: ses administrateurs fixent ses règles " in (
        out.output
    ), out.output


def test_curation_without_role_keeps_the_approvers_named_before(commune, doc):
    # Found following docs/fr/guide.md: `commune curation X --approvals 1 --as claire` put
    # the approvers back to curators (--role defaulted to curator), undoing the cooperative
    # admins named above her, though "a role named by someone above stays when only the
    # number changes".
    from commune.commons.curation import Rules, rules
    from commune.store import repository as repo

    make_key(commune, "claire", "Ville A", "member-admin")
    commune.add([doc], collection="ville-a", licence="etalab-2.0")
    commune.set_visibility("ville-a", "shared", member="Ville A")
    commune.set_curation_rules("ville-a", 2, "cooperative-admin")
    home = str(commune.settings.home)
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", home, "curation", "ville-a", "--approvals", "1", "--as", "claire"]
    )
    assert out.exit_code == 0, out.output
    assert out.output == (
        "ville-a\u00a0: 1 approbation par un administrateur de la coopérative ou au-dessus\n"
    )
    with commune.engine.connect() as conn:
        assert rules(conn, repo.collection_id(conn, "ville-a")) == Rules(1, "cooperative-admin")
    # Named, a role at or below her own still replaces it.
    commune.set_curation_rules("ville-a", 1, "curator", actor=commune.actor("claire"))
    with commune.engine.connect() as conn:
        assert rules(conn, repo.collection_id(conn, "ville-a")) == Rules(1, "curator")


def test_a_retirement_that_keeps_the_copies_says_so_in_the_audit_log(commune, doc, tmp_path):
    # `commune retire --keep-copies` wrote the same audit row as a retirement that took the
    # copies down: nothing said the copy still answering had been kept on purpose.
    other = tmp_path / "ailleurs" / doc.name
    other.parent.mkdir()
    other.write_bytes(doc.read_bytes())
    commune.add([doc], collection="mairie", licence="etalab-2.0")
    commune.add([other], collection="mairie", licence="etalab-2.0")
    first, second = sorted(d["id"] for d in commune.documents())
    commune.retire(second, "doublon", copies=False)
    [entry] = [e for e in commune.audit_entries() if e["action"] == "retire"]
    assert entry["subject"] == f"document {second}"
    assert json.loads(entry["details"])["kept_copies"] is True, entry
    assert {d["id"]: d["status"] for d in commune.documents()}[first] == "published"


def test_rules_raised_over_a_revision_held_for_its_licence_say_both(commune, doc, home):
    # A revision held for its licence, then the rules raised: the queue said only the licence
    # until the first approval, so the curators took one approval to be enough.
    from commune.cli.speech import as_pages_say

    make_key(commune, "cyril", "Ville A", "curator")
    commune.add([doc], collection="sport", licence="CC-BY-4.0")
    doc.write_text(DOC2, encoding="utf-8")
    commune.add([doc], collection="sport", licence="CC-BY-NC-4.0")
    changed = "the licence changed from CC-BY-4.0 to CC-BY-NC-4.0: a reviewer must confirm"
    assert commune.pending()[0]["hold_reason"] == changed
    commune.set_curation_rules("sport", 2, "curator")
    both = f"the collection needs 2 approval(s) by a curator or above; {changed}"
    assert commune.pending()[0]["hold_reason"] == both
    assert as_pages_say(both, "fr") == (
        "la collection demande 2 approbations par un curateur ou plus\u00a0; la licence a "
        "changé de CC-BY-4.0 à CC-BY-NC-4.0\u00a0: un relecteur doit confirmer"
    )
    listed = CliRunner().invoke(cli, ["--home", str(home), "review", "list"], env={"LANG": "en"})
    assert "needs 2 approval(s)" in listed.output and "licence changed" in listed.output
    commune.set_curation_rules("sport", 1, "curator")  # one approval: the licence's, said
    assert commune.pending()[0]["hold_reason"] == changed
    commune.set_curation_rules("sport", 3, "curator")  # in the new rules' numbers
    assert commune.pending()[0]["hold_reason"] == both.replace("needs 2", "needs 3")
    [rev] = commune.pending()
    assert commune.review(rev["id"], "approve", "ok", commune.actor("cyril")) == "proposed"
    assert commune.pending()[0]["hold_reason"] == f"1 of 3 approvals; held first because {changed}"


def test_a_retired_files_copy_arriving_in_a_collection_asking_2_approvals_says_both(
    commune, doc, tmp_path
):
    # The copy's reason was set over the gate's decision: in a collection asking 2 approvals
    # it said the retirement alone on arrival, and both once the rules were changed.
    commune.add([doc], collection="sport", licence="CC-BY-4.0")
    [published] = commune.documents()
    commune.retire(published["id"], "personal data", category="personal-data")
    commune.set_curation_rules("sport", 2, "curator")
    copy = tmp_path / "copie.md"
    copy.write_bytes(doc.read_bytes())
    commune.add([copy], collection="sport", licence="CC-BY-4.0")
    retired = f"the same file as document {published['id']}, which was retired: approving it "
    both = f"the collection needs 2 approval(s) by a curator or above; {retired}"
    assert commune.pending()[0]["hold_reason"] == f"{both}publishes it again"
    commune.set_curation_rules("sport", 3, "curator")  # the same form once the rules change
    assert commune.pending()[0]["hold_reason"] == f"{both}publishes it again".replace(
        "needs 2", "needs 3"
    )


def test_whoever_approves_is_a_reviewer_not_a_curator(commune, doc):
    """A collection may name member admins (or contributors) as its approvers, and the English
    said "ask another curator", "a curator must confirm", "a curator of the collection must
    check this file": a curator went to approve and was refused. As in French (« relecteur »,
    docs/fr/glossaire.md), whoever approves is "a reviewer"; "curator" is the role."""
    import re
    from pathlib import Path

    make_key(commune, "cora", "Ville A", "contributor")
    commune.add([doc], collection="sport", licence="etalab-2.0")
    commune.set_curation_rules("sport", 1, "contributor")
    doc.write_text(DOC2, encoding="utf-8")
    s = commune.add([doc], collection="sport", licence="CC-BY-NC-4.0", actor=commune.actor("cora"))
    assert s.outcomes[0].held == (
        "the licence changed from etalab-2.0 to CC-BY-NC-4.0: a reviewer must confirm; the "
        "published revision was contributed by another member: a reviewer must confirm that "
        "this one replaces it"
    )
    with pytest.raises(CommuneError) as own:
        commune.review(commune.pending()[0]["id"], "approve", "mine", commune.actor("cora"))
    assert own.value.hint == "ask another reviewer of the collection: two pairs of eyes"
    # A revision held before keeps the words it was held with, read in today's
    # (test_a_hold_reason_stored_before_reviewers_reads_reviewer_on_every_face).
    root = Path(__file__).resolve().parent.parent
    # What people read: the library's messages (the pages' catalogue has each), the pages, the
    # CLI and its help, the API's descriptions and the English docs.
    src = root / "src/commune"
    said = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in [
            src / "text/messages.py",
            src / "web/i18n.py",
            *(src / "cli").glob("*.py"),
            *(src / "api").rglob("*.py"),
            *(src / "web/templates").glob("*.html"),
            root / "src/commune/web/locale/fr/LC_MESSAGES/messages.po",
            root / "src/commune/cli/locale/fr/LC_MESSAGES/help.po",
            *(root / "docs").glob("*.md"),
        ]
    }
    approver = re.compile(
        r"a curator (must|of the collection (must|will review)|rejected|asked for changes|"
        r"confirms|decides)|another curator|distinct curator|"
        r"(wait|waits|waiting|held|hold it) for a curator|for their curators|"
        r"to their curators|until a curator|own curators, who decide|curators' call|"
        r"curator's decision and reason|curator of its collection also sees|"
        r"curator's reason when one was approved"
    )
    for name, text in said.items():
        # Adjacent literals, plain, raw or f-strings: one Python string.
        joined = re.sub(r'"\s*\n\s*[rfRF]{0,2}"', "", text)
        found = approver.search(" ".join(joined.replace("\\n", " ").split()))
        assert not found, (name, found)


def test_a_personal_data_takedown_from_before_the_category_was_kept_is_not_reinstated(
    commune, tmp_path
):
    """A home retired documents before documents.retired_category (migration 0017 left it
    empty) and before takedowns erased texts: its personal-data takedown, the category only
    in its audit row, was reinstated by `commune reinstate`, the address found again."""
    from sqlalchemy import update

    from commune.store import audit
    from commune.store.schema import documents

    (tmp_path / "c.md").write_text("# Conseil\n\nM. Jean Dupont habite 12 rue des Lilas.\n")
    commune.add([tmp_path / "c.md"], collection="c", licence="etalab-2.0")
    [doc] = commune.documents()
    with commune.engine.begin() as conn:  # as that older home retired it
        conn.execute(update(documents).where(documents.c.id == doc["id"]).values(status="retired"))
        audit.append(
            conn,
            "operator",
            "retire",
            f"document {doc['id']}",
            reason="demande de M. Dupont",
            category="personal-data",
        )
    with pytest.raises(CommuneError, match="retired for personal data"):
        commune.reinstate(doc["id"], "erreur")
    assert [d["status"] for d in commune.documents()] == ["retired"]
    assert commune.search("rue des Lilas", k=5) == []
    shown = commune.retired_document(doc["id"])
    assert shown is not None and shown["retired"]["category"] == "personal-data"
    assert "personal data" in shown["retired"]["refusal"]


def test_a_reinstatement_refused_sends_the_corrected_file_to_a_reviewer(commune, tmp_path):
    """Whoever approves is "a reviewer" (a collection may name member admins or contributors
    its approvers): the refusals of `commune reinstate` still sent the corrected file to "a
    curator of the collection", unlike « un relecteur » in French."""
    (tmp_path / "c.md").write_text("# Conseil\n\nM. Jean Dupont habite 12 rue des Lilas.\n")
    commune.add([tmp_path / "c.md"], collection="c", licence="etalab-2.0")
    [doc] = commune.documents()
    commune.retire(doc["id"], "demande de M. Dupont", category="personal-data")
    with pytest.raises(CommuneError) as refused:
        commune.reinstate(doc["id"], "erreur")
    assert refused.value.hint == (
        "add a corrected file without the personal data: a reviewer of the collection will "
        "review it"
    )


def test_a_revision_sent_while_its_document_was_retired_says_why_it_waits_once_reinstated(
    commune, tmp_path
):
    """A corrected file sent while the document was retired waits « the document was retired:
    approving this revision brings it back »; once `commune reinstate` brought the document
    back, the curation queue still said so. It now says why it waits: the collection's
    approvals, or, where the collection publishes on arrival, that it came meanwhile."""
    from commune.cli.speech import as_pages_say

    texts = {}
    for name in ("a", "b"):
        f = tmp_path / f"{name}.md"
        f.write_text(f"# {name}\n\nUn texte sur la piscine {name}.\n")
        texts[name] = f
    commune.add([texts["a"]], collection="libre", licence="etalab-2.0")
    commune.add([texts["b"]], collection="relue", licence="etalab-2.0")
    commune.set_curation_rules("relue", 1, "curator")
    ids = {d["collection"]: d["id"] for d in commune.documents()}
    for name, coll in (("a", "libre"), ("b", "relue")):
        commune.retire(ids[coll], "pas celui-là", category="error")
        texts[name].write_text(f"# {name}\n\nUn texte sur la piscine {name}, corrigé.\n")
        commune.add([texts[name]], collection=coll, licence="etalab-2.0")
        commune.reinstate(ids[coll], "retiré par erreur")
    said = {p["collection"]: p["hold_reason"] for p in commune.pending()}
    assert said == {
        "libre": "sent while the document was retired, since reinstated: approving this "
        "revision publishes it",
        "relue": "the collection needs 1 approval(s) by a curator or above",
    }
    assert as_pages_say(said["libre"], "fr") == (
        "envoyée pendant que le document était retiré, rétabli depuis\u00a0: approuver cette "
        "révision la publie"
    )


def test_a_hold_reason_stored_before_reviewers_reads_reviewer_on_every_face(commune, home):
    """A revision held before whoever approves was "a reviewer" keeps the words it was held
    with: the pages and the API's `held` (read through the pages' catalogue) said "a reviewer
    must confirm", while the library, `commune review list`, `commune review show` and
    `commune add` of the same file still said "a curator must confirm" in English, the words
    that sent a curator to approve in a collection asking its member admins."""
    from typing import Any

    from fastapi.testclient import TestClient
    from sqlalchemy import update

    from commune.api.app import create_app
    from commune.store.schema import revisions
    from tests.conftest import EN

    key = make_key(commune, "cora", "Ville A", "contributor")
    client = TestClient(create_app(commune), headers={**EN, "Authorization": f"Bearer {key}"})

    def send(text: str, licence: str) -> dict[str, Any]:
        sent = client.post(
            "/api/documents",
            files=[("files", ("piscine.md", text.encode(), "text/markdown"))],
            data={"collection": "sport", "licence": licence},
        )
        return dict(sent.json()["files"][0])

    send(DOC, "etalab-2.0")
    send(DOC2, "CC-BY-4.0")
    now = "the licence changed from etalab-2.0 to CC-BY-4.0: a reviewer must confirm"
    with commune.engine.begin() as conn:
        conn.execute(
            update(revisions)
            .where(revisions.c.status == "proposed")
            .values(hold_reason=now.replace("a reviewer", "a curator"))
        )
    [rev] = commune.pending()
    assert rev["hold_reason"] == now
    assert commune.show_revision(rev["id"])["revision"]["hold_reason"] == now
    listed = CliRunner().invoke(
        cli, ["--home", str(home), "review", "list"], env={"LANG": "en_GB.UTF-8"}
    )
    assert listed.exit_code == 0 and listed.output.rstrip().endswith(now), listed.output
    french = CliRunner().invoke(
        cli, ["--home", str(home), "review", "list"], env={"LANG": "fr_FR.UTF-8"}
    )
    assert french.output.rstrip().endswith(
        "la licence a changé d'etalab-2.0 à CC-BY-4.0\u00a0: un relecteur doit confirmer"
    ), french.output
    sent = send(DOC2, "CC-BY-4.0")
    assert (sent["status"], sent["held"]) == ("unchanged", now), sent
    mine = client.get("/api/contributions").json()["contributions"]
    assert [c["held"] for c in mine if c["status"] == "proposed"] == [now]
