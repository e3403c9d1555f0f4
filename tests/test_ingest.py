import json
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from commune.commons.curation import RETIRED_HOLD
from commune.errors import CommuneError
from commune.store.schema import chunks, documents, embeddings, revisions
from commune.text.messages import localise
from tests.conftest import make_key, read_terminal


def _minutes(folder: Path, n: int, name: str) -> Path:
    """``folder`` holding ``n`` short Markdown minutes of a council (name-0.md, …)."""
    folder.mkdir()
    title = "PV" if name == "pv" else name.capitalize()
    for i in range(n):
        (folder / f"{name}-{i}.md").write_text(
            f"# {title} {i}\n\nLe conseil délibère sur le point {i}.", encoding="utf-8"
        )
    return folder


def _busy_timeout(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """SQLite connections opened from now on wait ``seconds`` for another process's write
    lock (busy_timeout; 30 s in store/db.py), so that a test of a held lock ends sooner."""
    import commune.store.db as db

    pragmas = db._sqlite_pragmas

    def shorter(dbapi_connection, record):  # type: ignore[no-untyped-def]
        pragmas(dbapi_connection, record)
        dbapi_connection.execute(f"PRAGMA busy_timeout={seconds * 1000}")

    monkeypatch.setattr(db, "_sqlite_pragmas", shorter)


def counts(commune):  # type: ignore[no-untyped-def]
    with commune.engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (documents, revisions, chunks, embeddings)
        )


def read_otherwise(commune, document_id: int | None = None) -> None:
    """The stored passages (of ``document_id``, or all) as a former reader made them, other
    than today's reader makes them: a mark more in each. Read again, such a file is a new
    revision; with only its reading's name changed, it is the same passages, and none
    (pipeline._read_alike)."""
    from sqlalchemy import update

    stmt = update(chunks).values(text=chunks.c.text + " ¶")
    if document_id is not None:
        stmt = stmt.where(chunks.c.document_id == document_id)
    with commune.engine.begin() as conn:
        conn.execute(stmt)


def test_every_format_is_ingested_with_provenance(commune, corpus):
    s = commune.add(
        [corpus],
        collection="mairie",
        licence="etalab-2.0",
        contributor="Alice",
        publisher="Ville de Saint-Exemple",
    )
    assert (s.added, s.failed, s.unchanged) == (6, 0, 0)
    docs = {d["title"]: d for d in commune.documents("mairie")}
    assert set(docs) == {
        "Gestion des déchets",
        "Library services",
        "Swimming pool",
        "Restauration scolaire",
        "Parking permits",
        "etat-civil",  # a PDF without title metadata nor heading: its file name
    }
    html = docs["Gestion des déchets"]
    assert html["language"] == "fr" and docs["Library services"]["language"] == "en"
    assert html["licence"] == "etalab-2.0"
    assert html["contributor"] == "Alice" and html["publisher"] == "Ville de Saint-Exemple"
    assert html["source_uri"] == str((corpus / "dechets.html").resolve())
    assert len(html["content_hash"]) == 64 and html["status"] == "published"
    n_docs, n_revs, n_chunks, n_vecs = counts(commune)
    assert (n_docs, n_revs) == (6, 6) and n_chunks == n_vecs and n_chunks >= 9


def test_re_adding_unchanged_files_does_nothing(commune, corpus):
    commune.add([corpus], licence="etalab-2.0")
    before = counts(commune)
    s = commune.add([corpus], licence="etalab-2.0")
    assert (s.added, s.updated, s.unchanged) == (0, 0, 6)
    assert counts(commune) == before


def test_a_file_read_by_a_reader_that_changed_is_read_again_and_the_others_are_not(commune, corpus):
    """An upgrade whose HTML reader keeps what the former one lost (a manual's boxes and
    examples): a page stored before it is read again when added again, as a new revision
    of the same document; a format whose reading did not change is still skipped."""
    from sqlalchemy import update

    from commune.ingest.readers import READINGS, reading
    from tests.test_dila import FICHE_XML

    # A fiche: its reader's reading never changed (ingest/dila.py), and it is not read again.
    (corpus / "F1367.xml").write_text(FICHE_XML, encoding="utf-8")
    commune.add([corpus], licence="etalab-2.0")
    with commune.engine.connect() as conn:
        types = conn.execute(select(revisions.c.media_type)).scalars().all()
    reread = sum(1 for t in types if t in READINGS)  # all but the fiche today
    assert "text/html" in READINGS and "application/xml" not in READINGS
    page = next(d for d in commune.documents() if d["title"] == "Gestion des déchets")
    with commune.engine.begin() as conn:  # as stored by a version that recorded no reading
        conn.execute(update(revisions).values(reading=None))
        html_rev = conn.execute(
            select(revisions.c.id).where(revisions.c.document_id == page["id"])
        ).scalar_one()
    read_otherwise(commune)
    before = counts(commune)
    s = commune.add([corpus], licence="etalab-2.0")
    assert (s.added, s.updated, s.unchanged) == (0, reread, 7 - reread) and reread == 6
    with commune.engine.connect() as conn:
        rows = conn.execute(
            select(revisions.c.id, revisions.c.number, revisions.c.reading, revisions.c.status)
            .where(revisions.c.document_id == page["id"])
            .order_by(revisions.c.number)
        ).all()
        chunk_texts = conn.execute(
            select(chunks.c.text).where(chunks.c.revision_id == rows[-1].id)
        ).scalars()
        assert any("bac jaune" in t for t in chunk_texts)
    assert [(r.number, r.reading) for r in rows] == [(1, None), (2, reading("text/html"))]
    assert rows[0].id == html_rev and rows[-1].status == "published"
    assert counts(commune)[:2] == (before[0], before[1] + reread)  # no new document
    again = commune.add([corpus], licence="etalab-2.0")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7)


def test_a_page_stored_garbled_by_its_wrong_charset_is_read_again(commune, tmp_path):
    # Found in review: a page converted to UTF-8 that still declares ISO-8859-1 was stored
    # as "DÃ©libÃ©ration" by the reading before the bytes were believed over the
    # declaration ("html-5"); added again after the upgrade it was "unchanged", and stayed
    # garbled, since that reading kept its name.
    from sqlalchemy import update

    page = tmp_path / "delib.html"
    page.write_bytes(
        '<html><head><meta charset="iso-8859-1"><title>Délibération</title></head><body>'
        "<p>Le conseil municipal a approuvé les tarifs de la cantine scolaire.</p>"
        "</body></html>".encode()
    )
    commune.add([page], licence="etalab-2.0")
    with commune.engine.begin() as conn:  # as that reading stored it
        conn.execute(update(revisions).values(reading="html-5", title="DÃ©libÃ©ration"))
    s = commune.add([page], licence="etalab-2.0")
    assert (s.updated, s.unchanged) == (1, 0)
    [doc] = commune.documents()
    assert doc["title"] == "Délibération"


def test_a_markdown_file_stored_with_its_front_matter_as_text_is_read_again(commune, tmp_path):
    # Found in review: a Markdown export stored before its YAML front matter was read (a
    # passage "--- title: … ---", the file's name for title) was "unchanged" when added
    # again after the upgrade, and kept both: Markdown's reading had no name to change.
    from sqlalchemy import update

    page = tmp_path / "horaires.md"
    page.write_text(
        '---\ntitle: "Horaires de la mairie"\n---\n\n'
        "La mairie est ouverte du lundi au vendredi, de neuf heures à midi.\n"
    )
    commune.add([page], licence="etalab-2.0")
    with commune.engine.begin() as conn:  # as a version that read no front matter stored it
        conn.execute(update(revisions).values(reading=None, title="horaires"))
    s = commune.add([page], licence="etalab-2.0")
    assert (s.updated, s.unchanged) == (1, 0)
    [doc] = commune.documents()
    assert doc["title"] == "Horaires de la mairie"


def test_a_file_added_again_without_its_licence_is_unchanged(commune, tmp_path):
    # Found by an exploratory test: `commune add p.txt` again without the --licence and
    # --publisher given the first time said "1 updated" and held a new revision without a
    # licence for a curator; a folder added so filled the review queue, nothing changed.
    from sqlalchemy import update

    f = tmp_path / "piscine.txt"
    f.write_text("La piscine municipale ouvre le mercredi après-midi pour les enfants.\n")
    commune.add([f], licence="CC-BY-4.0", publisher="Mairie A")
    before = counts(commune)
    s = commune.add([f])
    assert (s.updated, s.unchanged) == (0, 1) and not any(o.held for o in s.outcomes)
    assert counts(commune) == before and commune.pending() == []
    # What is said is a change, and what is not said stays: a publisher corrected alone is
    # a new revision published under the licence recorded, not one waiting without it.
    s = commune.add([f], publisher="Mairie B")
    assert s.updated == 1 and not s.outcomes[0].held
    [doc] = commune.documents()
    assert (doc["licence"], doc["publisher"], doc["status"]) == (
        "CC-BY-4.0",
        "Mairie B",
        "published",
    )
    # Read again by a newer reader, the file keeps what was recorded of it, published.
    with commune.engine.begin() as conn:
        conn.execute(update(revisions).values(reading="txt-0", media_type="text/html"))
    s = commune.add([f])
    assert s.updated == 1 and not s.outcomes[0].held
    [doc] = commune.documents()
    assert (doc["licence"], doc["publisher"], doc["status"]) == (
        "CC-BY-4.0",
        "Mairie B",
        "published",
    )
    # An exported history replayed says each revision's record whole: a publisher gone is
    # gone, not left unsaid (opendata's import, Library.add(history=True)).
    s = commune.library.add([f], licence="CC-BY-4.0", history=True)
    assert s.updated == 1
    assert commune.documents()[0]["publisher"] is None
    # New bytes take only what is said: their licence is for their contributor to give.
    f.write_text("La piscine municipale ouvre aussi le samedi matin.\n")
    s = commune.add([f])
    assert s.updated == 1 and "no licence given" in (s.outcomes[0].held or "")


def test_the_same_document_read_from_another_path_is_not_stored_twice(commune, tmp_path):
    """The evaluation home held every fiche twice (fetched in two checkouts, each fiche
    giving its own address): each passage was found twice and crowded out the others."""
    from tests.test_dila import FICHE_XML

    first, second = tmp_path / "a", tmp_path / "b"
    for d in (first, second):
        d.mkdir()
        (d / "F1367.xml").write_text(FICHE_XML, encoding="utf-8")
    assert commune.add([first], publisher="DILA").added == 1  # under the fiche's own licence
    before = counts(commune)
    s = commune.add([second], publisher="DILA")
    assert (s.added, s.updated, s.unchanged) == (0, 0, 1)
    assert counts(commune) == before
    # With another publisher now, it is the same document's new revision, not a second one.
    s = commune.add([second], publisher="DILA, service-public.fr")
    assert (s.added, s.updated) == (0, 1)
    with commune.engine.connect() as conn:
        rows = conn.execute(select(documents.c.licence, documents.c.status)).all()
    assert [tuple(r) for r in rows] == [("etalab-2.0", "published")]
    # The same bytes at another address, or in another collection, are a document of their own.
    other = "https://example.org/F1367-bis.xml"
    assert commune.add([second / "F1367.xml"], source=other, licence="etalab-2.0").added == 1
    assert commune.add([second], collection="autre", licence="etalab-2.0").added == 1


def test_a_retired_fiche_read_from_another_path_stays_retired(commune, tmp_path):
    # Review finding: the same bytes at the same address from a second checkout were matched
    # to documents not retired only, so a retired fiche came back published, a new document,
    # with no curator's say.
    from tests.test_dila import FICHE_XML

    first, second = tmp_path / "a", tmp_path / "b"
    for d in (first, second):
        d.mkdir()
        (d / "F1367.xml").write_text(FICHE_XML, encoding="utf-8")
    commune.add([first], publisher="DILA")
    [doc] = commune.documents()
    commune.retire(doc["id"], "takedown asked by the publisher")
    s = commune.add([second], publisher="DILA")
    assert (s.added, s.updated, s.unchanged) == (0, 0, 1)
    s = commune.add([second], publisher="DILA, service-public.fr")  # a new revision: held
    assert (s.added, s.updated) == (0, 1) and s.outcomes[0].held == RETIRED_HOLD
    assert [d["status"] for d in commune.documents()] == ["retired"]
    assert commune.search("inscription listes électorales", k=3) == []


def test_a_retired_file_added_again_at_another_address_waits_for_a_curator(commune, tmp_path):
    # Found by an exploratory test: a folder first added with --source, then again without
    # it, made each file a new document at its path, and a document retired for personal
    # data was published again by the second add.
    from commune.ingest.pipeline import retired_copy

    folder = tmp_path / "guides"
    folder.mkdir()
    (folder / "parking.md").write_text("# Stationnement\n\nM. Dupont, 12 rue des Lilas, 06 12.")
    (folder / "tri.md").write_text("# Tri\n\nLe verre va dans le bac vert.")
    commune.add([folder], licence="etalab-2.0", source="https://example.org/guides")
    parking = next(d for d in commune.documents() if d["title"] == "Stationnement")
    commune.retire(parking["id"], "données personnelles")
    s = commune.add([folder], licence="etalab-2.0")  # the same files, at their paths now
    held = {o.path.rsplit("/", 1)[-1]: o.held for o in s.outcomes}
    assert held == {"parking.md": retired_copy(parking["id"]), "tri.md": None}, held
    # A third address too: the copy held above publishes nothing (a review finding).
    s = commune.add([folder], licence="etalab-2.0", source="https://example.org/autre")
    assert s.outcomes[0].held == retired_copy(parking["id"]), s.outcomes
    assert all("Lilas" not in h.text for h in commune.search("rue des Lilas Dupont", k=5))


def test_a_retired_file_added_to_another_collection_waits_for_a_curator(commune, tmp_path):
    # A takedown answered in one collection was undone by adding the file to another: the
    # hold looked only within the collection the document was retired from.
    from commune.cli.speech import as_pages_say
    from commune.ingest.pipeline import retired_copy

    page = tmp_path / "parking.md"
    page.write_text("# Stationnement\n\nM. Dupont, 12 rue des Lilas, 06 12.")
    commune.add([page], collection="mairie", licence="etalab-2.0")
    [parking] = commune.documents()
    commune.retire(parking["id"], "données personnelles")
    s = commune.add([page], collection="voirie", licence="etalab-2.0")
    # Not named: the other collection may be private to another member.
    assert s.outcomes[0].held == retired_copy(None), s.outcomes
    assert "autre collection" in as_pages_say(retired_copy(None), "fr")
    assert all("Lilas" not in h.text for h in commune.search("rue des Lilas Dupont", k=5))
    # Approving it is a curator's decision there, as in the collection it was retired from.
    [held] = commune.pending()
    assert held["collection"] == "voirie"


def test_a_contributor_is_not_told_that_a_file_was_retired_elsewhere(commune, tmp_path):
    # The held copy's reason told its contributor that the file had been retired in another
    # collection of the home, perhaps another member's private one: whatever they may not
    # read. Its curators, who decide, still read why.
    from commune.cli.speech import as_pages_say
    from commune.ingest.pipeline import HELD_FOR_A_CURATOR, retired_copy

    make_key(commune, "alice", "Ville A", "curator")
    make_key(commune, "bob", "Ville B", "contributor")
    make_key(commune, "berthe", "Ville B", "curator")
    alice, bob, berthe = (commune.actor(u) for u in ("alice", "bob", "berthe"))
    page = tmp_path / "parking.md"
    page.write_text("# Stationnement\n\nM. Dupont, 12 rue des Lilas, 06 12.")
    commune.add([page], collection="mairie-a", licence="etalab-2.0", actor=alice)
    [parking] = commune.documents()
    commune.retire(parking["id"], "données personnelles", alice, "personal-data")
    s = commune.add([page], collection="voirie-b", licence="etalab-2.0", actor=bob)
    assert s.outcomes[0].held == HELD_FOR_A_CURATOR, s.outcomes
    [mine] = commune.contributions(bob)
    assert mine["hold_reason"] == HELD_FOR_A_CURATOR
    [held] = commune.pending(berthe)
    assert held["hold_reason"] == retired_copy(None)
    assert commune.show_revision(held["id"], berthe)["revision"]["hold_reason"] == (
        retired_copy(None)
    )
    assert "retiré" not in as_pages_say(HELD_FOR_A_CURATOR, "fr")
    assert "relecteur" in as_pages_say(HELD_FOR_A_CURATOR, "fr")


def test_retiring_a_document_takes_down_the_copies_of_its_file(commune, tmp_path):
    # A copy of the file published in another collection before the document was retired
    # stayed published: a takedown (personal data) that missed its copies. The same owner's
    # copies that the curator may retire are retired too. Another member's are theirs: held
    # for their curators only for a takedown (personal data, rights), or any curator could
    # take a form every town publishes offline across the cooperative.
    from commune.ingest.pipeline import HELD_FOR_A_CURATOR, retired_copy

    make_key(commune, "alice", "Ville A", "curator")
    make_key(commune, "bob", "Ville B", "contributor")
    make_key(commune, "berthe", "Ville B", "curator")
    alice, bob, berthe = (commune.actor(u) for u in ("alice", "bob", "berthe"))
    form = tmp_path / "formulaire.md"
    form.write_text("# Formulaire\n\nLe formulaire de demande de stationnement résident.")
    page = tmp_path / "parking.md"
    page.write_text("# Stationnement\n\nM. Dupont, 12 rue des Lilas, 06 12.")
    for f in (form, page):
        for where, who, licence in (
            ("mairie-a", alice, "etalab-2.0"),
            ("voirie-a", alice, "etalab-2.0"),
            ("voirie-b", bob, "etalab-2.0"),
            ("archives-b", bob, None),  # waits for a licence
        ):
            commune.add([f], collection=where, licence=licence, actor=who)
    docs = commune.documents()
    ids = {(d["collection"], d["title"]): d["id"] for d in docs}
    # Ville A's curator retires Ville A's form as outdated: Ville A's copy goes with it,
    # Ville B's stays Ville B's, published, and its waiting copy is not touched.
    also = commune.retire(ids["mairie-a", "Formulaire"], "remplacé", alice, "outdated")
    assert also == [ids["voirie-a", "Formulaire"]]
    status = {(d["collection"], d["title"]): d["status"] for d in commune.documents()}
    assert status["voirie-b", "Formulaire"] == "published"
    assert {r["collection"] for r in commune.pending(berthe)} == {"archives-b"}
    # A takedown of personal data, by the same curator: Ville B's copies go to Ville B's
    # curators (a hold they undo, audited), and stop being cited meanwhile.
    also = commune.retire(ids["mairie-a", "Stationnement"], "données", alice, "personal-data")
    assert also == [ids["voirie-a", "Stationnement"]]
    status = {(d["collection"], d["title"]): d["status"] for d in commune.documents()}
    assert status["voirie-b", "Stationnement"] != "published"
    assert all("Lilas" not in h.text for h in commune.search("rue des Lilas Dupont", k=5))
    held = {r["collection"]: r for r in commune.pending(berthe) if r["title"] == "Stationnement"}
    assert held["voirie-b"]["hold_reason"] == retired_copy(None)
    assert held["archives-b"]["hold_reason"] == retired_copy(None)
    assert HELD_FOR_A_CURATOR in {r["hold_reason"] for r in commune.contributions(bob)}
    # The copies' reason says the category, never the curator's words ("données", which
    # may name the person), and the log keeps which document they copy.
    log = [e for e in commune.audit_entries() if e["action"] == "retire"]
    assert [json.loads(e["details"])["reason"] for e in log][-1] == (
        "the same file as a retired document (personal-data)"
    )
    assert commune.verify_audit().ok
    # Approving it publishes it again: Ville B's curator's decision.
    assert commune.review(held["voirie-b"]["id"], "approve", "notre arrêté", berthe) == (
        "published"
    )
    assert [
        h.collection for h in commune.search("rue des Lilas Dupont", k=5) if "Lilas" in h.text
    ] == ["voirie-b"]


def test_a_file_added_after_another_members_retirement_is_held_only_for_a_takedown(
    commune, tmp_path
):
    # The same file added later in another member's collection was held whatever the
    # category: Ville A's "outdated" form held every other town's upload of that form
    # (found by the review helper). A takedown (personal data, rights) still holds it, and
    # the retiring member's own collections hold it whatever the category.
    make_key(commune, "alice", "Ville A", "curator")
    make_key(commune, "bob", "Ville B", "contributor")
    alice, bob = commune.actor("alice"), commune.actor("bob")
    form = tmp_path / "formulaire.md"
    form.write_text("# Formulaire\n\nLe formulaire de demande de stationnement résident.")
    page = tmp_path / "parking.md"
    page.write_text("# Stationnement\n\nM. Dupont, 12 rue des Lilas, 06 12.")
    for f in (form, page):
        commune.add([f], collection="mairie-a", licence="etalab-2.0", actor=alice)
    ids = {d["title"]: d["id"] for d in commune.documents()}
    commune.retire(ids["Formulaire"], "remplacé", alice, "outdated")
    commune.retire(ids["Stationnement"], "données", alice, "personal-data")

    def status(collection: str, title: str) -> str:
        return next(
            d["status"]
            for d in commune.documents()
            if d["collection"] == collection and d["title"] == title
        )

    for f in (form, page):
        commune.add([f], collection="voirie-b", licence="etalab-2.0", actor=bob)
        commune.add([f], collection="archives-a", licence="etalab-2.0", actor=alice)
    assert status("voirie-b", "Formulaire") == "published"
    assert status("voirie-b", "Stationnement") != "published"
    assert status("archives-a", "Formulaire") != "published"  # Ville A's own: held
    assert status("archives-a", "Stationnement") != "published"


def test_changed_file_becomes_a_new_revision_of_the_same_document(commune, tmp_path):
    f = tmp_path / "note.md"
    f.write_text("# Note\n\nLa mairie ferme à midi.\n\n## Bis\n\nParagraphe stable.\n")
    commune.add([f], licence="etalab-2.0")
    f.write_text("# Note\n\nLa mairie ferme à dix-huit heures.\n\n## Bis\n\nParagraphe stable.\n")
    s = commune.add([f], licence="etalab-2.0")
    assert (s.added, s.updated) == (0, 1)
    [doc] = commune.documents()
    with commune.engine.connect() as conn:
        revs = conn.execute(select(revisions).order_by(revisions.c.number)).all()
    assert [r.number for r in revs] == [1, 2] and revs[1].parent_id == revs[0].id
    assert doc["chunks"] == 2
    hits = commune.search("dix-huit heures")
    assert "dix-huit" in hits[0].text
    assert all("midi" not in h.text for h in hits)  # old revision no longer searchable


def test_a_passage_whose_title_changed_is_embedded_again(commune, tmp_path):
    # A passage is embedded with its document's title; its vector was reused across
    # revisions by heading and text alone, so a retitled document kept vectors of its old
    # title for good (a home built afresh embeds the new one).
    f = tmp_path / "note.md"
    body = "\n\nOuvert du lundi au vendredi de 9h à 17h.\n\n## Bis\n\nParagraphe stable.\n"
    f.write_text("# Horaires de la mairie" + body)
    commune.add([f], licence="etalab-2.0")
    f.write_text("# Tarifs de la piscine" + body)
    commune.add([f], licence="etalab-2.0")
    fresh = tmp_path / "ailleurs" / "note.md"  # the same file, embedded from nothing
    fresh.parent.mkdir()
    shutil.copy(f, fresh)
    commune.add([fresh], collection="ailleurs", licence="etalab-2.0")
    with commune.engine.connect() as conn:
        rows = conn.execute(
            select(documents.c.collection_id, chunks.c.text, embeddings.c.vector)
            .join(chunks, chunks.c.revision_id == documents.c.current_revision_id)
            .join(embeddings, embeddings.c.chunk_id == chunks.c.id)
            .order_by(chunks.c.id)
        ).all()
    by_collection: dict[int, dict[str, bytes]] = {}
    for coll, text, vector in rows:
        by_collection.setdefault(coll, {})[text] = vector
    retitled, afresh = by_collection.values()
    assert retitled == afresh


def test_a_reservation_of_text_and_data_mining_given_later_is_recorded(commune, tmp_path):
    # Found by an exploratory test: the same file added again with --tdm-reserved was
    # "unchanged", and the rights holder's opt-out was dropped; answers kept quoting it.
    f = tmp_path / "jardins.md"
    f.write_text("# Jardins\n\nLes parcelles sont attribuées par tirage au sort en mairie.\n")
    commune.add([f], licence="CC-BY-4.0")
    s = commune.add([f], licence="CC-BY-4.0", tdm_reserved=True)
    assert (s.updated, s.unchanged) == (1, 0)
    [doc] = commune.documents()
    with commune.engine.connect() as conn:
        reserved = conn.execute(
            select(documents.c.tdm_reserved).where(documents.c.id == doc["id"])
        ).scalar_one()
    assert reserved
    # Added again without the flag: unchanged, the reservation kept.
    s = commune.add([f], licence="CC-BY-4.0")
    assert (s.updated, s.unchanged) == (0, 1)
    s = commune.add([f], licence="CC-BY-4.0", tdm_reserved=True)
    assert (s.updated, s.unchanged) == (0, 1)


def test_a_link_to_a_folder_is_counted_not_passed_over_in_silence(commune, tmp_path):
    # Found by an exploratory test: the walk does not follow a link to a folder, and the
    # summary said "0 failed" and nothing else while the folder's files were missing.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "gymnase.md").write_text("# Gymnase\n\nLe gymnase ferme en août.\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tri.md").write_text("# Tri\n\nLe verre va dans le bac vert.\n")
    (docs / "sport").symlink_to(elsewhere, target_is_directory=True)
    s = commune.add([docs], licence="etalab-2.0")
    assert (s.added, s.folder_links) == (1, 1)
    from commune.cli.documents import added_line

    assert "1 link to a folder not followed: add that folder by its path" in added_line(s, "en")
    assert "1 lien vers un dossier non suivi" in added_line(s, "fr")


def test_a_bad_file_fails_alone_and_leaves_nothing_half_written(commune, corpus, tmp_path):
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (corpus / "empty.txt").write_bytes(b"")
    s = commune.add([corpus, tmp_path / "missing.txt"], licence="etalab-2.0")
    assert (s.added, s.failed) == (6, 3)
    assert any("broken.pdf: not a readable PDF" in e for e in s.errors)
    assert any("empty.txt: empty file" in e for e in s.errors)
    assert any("missing.txt: no such file" in e for e in s.errors)
    n_docs, n_revs, n_chunks, n_vecs = counts(commune)
    assert n_docs == n_revs == 6 and n_chunks == n_vecs


def test_a_failed_add_leaves_no_collection_behind(commune, tmp_path):
    # Issue 23: a failed add still created its collection, listed with 0 documents.
    from commune.govern.members import add_member

    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    s = commune.add([tmp_path / "missing.txt", tmp_path / "broken.pdf"], collection="ghost")
    assert s.failed == 2
    with commune.engine.begin() as conn:
        add_member(conn, "Ville A", "town")
    commune.add([tmp_path / "missing.txt"], collection="ghost-a", member="Ville A")
    assert commune.collections() == []
    [gone] = [e for e in commune.audit_entries() if e["action"] == "drop-collection"]
    assert gone["subject"] == "collection ghost-a"
    # A collection that was there before the add stays, even empty.
    (tmp_path / "ok.md").write_text("# Marché\n\nLe marché a lieu le samedi.\n")
    commune.add([tmp_path / "ok.md"], collection="kept", licence="etalab-2.0")
    commune.add([tmp_path / "missing.txt"], collection="kept")
    assert [c["name"] for c in commune.collections()] == ["kept"]


def test_a_crash_while_storing_keeps_the_database_unchanged(commune, corpus, monkeypatch):
    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    before = counts(commune)
    import commune.store.repository as repo

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(repo, "bump_generation", explode)  # fails after chunks are inserted
    with pytest.raises(RuntimeError):
        commune.add([corpus / "library.md"], licence="etalab-2.0")
    assert counts(commune) == before


def test_invalid_licence_is_refused_before_anything_is_stored(commune, corpus):
    with pytest.raises(CommuneError, match="invalid licence 'CC-BY-FOO': unknown to SPDX: CC-BY"):
        commune.add([corpus], licence="CC-BY-FOO")
    assert counts(commune) == (0, 0, 0, 0)
    # In French, in our words, not the library's "Unknown license key(s)".
    from commune.text.messages import localise

    try:
        commune.add([corpus], licence="MIT AND FOO")
    except CommuneError as exc:
        said = localise(str(exc), "fr")
    assert said.startswith("licence invalide 'MIT AND FOO'\u00a0: inconnue de SPDX (FOO)"), said


def test_directory_source_uri_is_base_plus_relative_path(commune, corpus):
    sub = corpus / "sub"
    sub.mkdir()
    shutil.copy(corpus / "pool.txt", sub / "pool2.txt")
    (corpus / "logo.png").write_bytes(b"\x89PNG")
    s = commune.add([corpus], source="https://example.org/docs/", licence="etalab-2.0")
    assert s.skipped == 1 and s.failed == 0
    sources = {d["source_uri"] for d in commune.documents()}
    assert "https://example.org/docs/sub/pool2.txt" in sources
    assert "https://example.org/docs/dechets.html" in sources


def test_files_named_with_one_source_stay_separate_documents(commune, tmp_path):
    # Issue 23: six files with one --source became one document (1 added, 5 updated).
    d = tmp_path / "six"
    d.mkdir()
    names = [f"f{i}.md" for i in range(1, 7)]
    for i, name in enumerate(names, 1):
        (d / name).write_text(
            f"# Piscine {i}\n\nLe bassin numéro {i} ouvre à neuf heures tous les jours.\n"
        )
    s = commune.add([d / n for n in names], source="https://example.org/docs", licence="CC-BY-4.0")
    assert (s.added, s.updated, s.failed) == (6, 0, 0)
    docs = commune.documents()
    assert {x["source_uri"] for x in docs} == {f"https://example.org/docs/{n}" for n in names}
    assert {x["title"] for x in docs} == {f"Piscine {i}" for i in range(1, 7)}
    # Added again with the same source: each is its own document, unchanged.
    again = commune.add(
        [d / n for n in names], source="https://example.org/docs", licence="CC-BY-4.0"
    )
    assert (again.added, again.updated, again.unchanged) == (0, 0, 6)
    # One file with a --source keeps that exact address.
    (d / "one.md").write_text("# Seul\n\nUn seul fichier, une seule adresse.\n")
    commune.add([d / "one.md"], source="https://example.org/seul.html", licence="CC-BY-4.0")
    assert "https://example.org/seul.html" in {x["source_uri"] for x in commune.documents()}


def test_two_files_of_one_batch_with_one_address_are_refused_not_merged(commune, tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "readme.md").write_text(f"# {sub}\n\nTexte du dossier {sub}.\n")
    s = commune.add(
        [tmp_path / "a" / "readme.md", tmp_path / "b" / "readme.md"],
        source="https://example.org/",
        licence="CC-BY-4.0",
    )
    assert (s.added, s.updated, s.failed) == (1, 0, 1)
    assert "same source https://example.org/readme.md" in s.errors[0]
    assert "its own --source" in s.errors[0]


def test_same_file_in_two_collections_is_two_documents(commune, corpus):
    commune.add([corpus / "pool.txt"], collection="a", licence="etalab-2.0")
    commune.add([corpus / "pool.txt"], collection="b", licence="etalab-2.0")
    assert {c["name"]: c["documents"] for c in commune.collections()} == {"a": 1, "b": 1}


def test_what_is_not_a_regular_file_or_too_big_is_refused_before_reading(tmp_path, home):
    import os
    from pathlib import Path

    d = tmp_path / "odd"
    d.mkdir()
    os.mkfifo(d / "pipe.txt")  # reading it would block forever
    (d / "zero.txt").symlink_to("/dev/zero")  # reading it would never end
    (d / "loop.txt").symlink_to(d / "loop.txt")
    (d / "big.txt").write_text("mot " * 400_000)  # 1.6 MB
    home.mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text("[limits]\nmax_file_mb = 1\n")
    from commune.core import Commune

    with Commune(home) as c:
        s = c.add(sorted(d.iterdir()), licence="CC0-1.0")
        errors = {Path(o.path).name: o.error for o in s.outcomes}
        assert s.failed == 4 and s.added == 0
        assert "not a regular file" in errors["pipe.txt"]
        assert "not a regular file" in errors["zero.txt"]
        assert "over the 1 MB limit" in errors["big.txt"] and "max_file_mb" in errors["big.txt"]
        assert errors["loop.txt"]  # too many levels of symbolic links, one line
        assert c.documents() == []


def test_a_pdf_with_scanned_pages_says_they_cannot_be_found(commune, home, tmp_path):
    # A typed deliberation and its scanned annexes: "1 added" and nothing else, and the file
    # was taken for searchable whole.
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.ingest.readers import read_file
    from tests.fixtures import make_pdf

    pdf = tmp_path / "deliberation.pdf"
    pdf.write_bytes(make_pdf(["Le conseil approuve la convention.", None, None]))
    note = (
        "deliberation.pdf: pages without text (scanned?): 2 of 3, which no search finds: "
        "run OCR on it (ocrmypdf) and add it again"
    )
    s = commune.add([pdf], licence="etalab-2.0")
    assert s.added == 1 and s.outcomes[0].note == note
    whole = make_pdf(["Page une du texte.", "Page deux du texte."])
    assert read_file(whole, Path("entier.pdf")).missing is None
    # A page that draws nothing at all (left blank for printing on both sides) is no
    # scanned page: said so, the contributor ran an OCR that found nothing either.
    blank = make_pdf(["Page une du texte.", "", "Page trois du texte."])
    assert read_file(blank, Path("recto-verso.pdf")).missing is None
    annexes = tmp_path / "annexes.pdf"
    annexes.write_bytes(make_pdf(["Annexe une : le plan du gymnase.", None]))
    r = CliRunner().invoke(
        cli, ["--home", str(home), "add", str(annexes)], env={"LANG": "fr_FR.UTF-8"}
    )
    assert r.exit_code == 0, r.output
    assert (
        f"à noter\u00a0: {annexes}\u00a0: pages sans texte (numérisées\u00a0?)\u00a0: 1 sur 2, "
        "qu'aucune recherche ne trouve\u00a0: passez-le à la reconnaissance de caractères "
        "(ocrmypdf) et ajoutez-le de nouveau"
    ) in r.stderr


def test_a_file_named_twice_is_read_once(commune, tmp_path, monkeypatch):
    # Found by an exploratory test: `commune add a.txt ./a.txt` said "1 added, 1 unchanged",
    # two files for one, and a folder named with one of its files read that file twice.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dossier").mkdir()
    f = tmp_path / "dossier" / "avis.txt"
    f.write_text("Avis de coupure d'eau lundi matin rue des Lilas.")
    s = commune.add(["dossier/avis.txt", "./dossier/avis.txt", str(f), "dossier"])
    assert (s.added, s.unchanged, len(s.outcomes)) == (1, 0, 1)


def test_a_link_that_leads_nowhere_says_so_whether_named_or_found(commune, tmp_path):
    # Found by an exploratory test: a link loop named on the command line was "no such file
    # or directory" (its target was looked for, not the link), and a link to a file moved
    # away said the same, of a file the user sees in the folder.
    d = tmp_path / "dossier"
    d.mkdir()
    (d / "boucle.txt").symlink_to(d / "boucle.txt")
    (d / "parti.txt").symlink_to(tmp_path / "archives" / "parti.txt")
    (d / "ok.txt").write_text("Les horaires de la mairie changent en été.")
    for paths in ([d / "boucle.txt", d / "parti.txt", d / "ok.txt"], [d]):
        s = commune.add(paths, licence="CC0-1.0")
        errors = {Path(o.path).name: o.error or "" for o in s.outcomes}
        assert s.failed == 2 and s.added + s.unchanged == 1
        assert "a symbolic link loop: remove or fix the link" in errors["boucle.txt"]
        moved = tmp_path / "archives" / "parti.txt"
        assert (
            f"a link to {moved}, which does not exist: fix or remove the link"
            in errors["parti.txt"]
        )
    assert localise(errors["parti.txt"], "fr").endswith(
        f"parti.txt\u00a0: un lien vers {moved}, qui n'existe pas\u00a0: corrigez ou supprimez le "
        "lien"
    )


def test_a_huge_query_is_refused_with_the_limit(commune):
    import pytest

    with pytest.raises(ValueError, match="over the limit of 2000"):
        commune.search("mot " * 1000)
    with pytest.raises(ValueError, match="over the limit of 2000"):
        commune.ask("mot " * 1000)


def test_two_processes_adding_the_same_file_to_a_new_home(tmp_path, corpus):
    # Both ran the migrations ("table already exists") and both inserted the document
    # (IntegrityError): the write lock is now taken before the check.
    import subprocess
    import sys

    home = tmp_path / "fresh-home"
    cmd = [sys.executable, "-m", "commune.cli", "--home", str(home), "add"]
    cmd += [str(corpus / "library.md"), "--collection", "nouvelle", "--licence", "CC0-1.0"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in "ab"]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    joined = "\n".join(outputs)
    assert "1 added" in joined and "1 unchanged" in joined
    from commune.core import Commune

    with Commune(home) as c:
        assert len(c.documents("nouvelle")) == 1


def test_a_folder_that_cannot_be_listed_is_a_failure_not_a_silence(tmp_path, monkeypatch):
    """os.walk passes over a folder it may not list (its permissions; the tests run as root,
    which may list any, so the refusal is played by os.walk's own error callback)."""

    from commune.ingest import pipeline

    (tmp_path / "docs").mkdir()

    def walk(top, onerror=None, **kw):  # type: ignore[no-untyped-def]
        if onerror is not None:
            onerror(PermissionError(13, "Permission denied", str(top)))
        return iter(())

    monkeypatch.setattr(pipeline.os, "walk", walk)
    unreadable: list[tuple[str, str]] = []
    files, skipped, excluded, links, folder_links, archives, _ = pipeline.collect_files(
        [tmp_path / "docs"], unreadable
    )
    assert files == [] and skipped == excluded == links == folder_links == 0 and archives == ()
    where = str(tmp_path / "docs")
    hint = "let the user running Commune open it, or leave it out"
    assert unreadable == [(where, f"{where}: Permission denied ({hint})")]
    assert localise(unreadable[0][1], "fr") == (
        f"{where}\u00a0: permission refusée (permettez à l'utilisateur qui fait tourner Commune de "
        "l'ouvrir, ou laissez-le de côté)"
    )


def test_a_file_that_may_not_be_read_says_what_to_do(commune, tmp_path, monkeypatch):
    """Played by open(), as the tests run as root, which may read any file."""
    from commune.ingest import pipeline

    f = tmp_path / "secret.txt"
    f.write_text("Un compte rendu sur le partage de la mairie.")

    def refused(*args, **kw):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(f))

    monkeypatch.setattr(pipeline, "open", refused, raising=False)
    s = commune.add([f], licence="CC0-1.0")
    (error,) = s.errors
    assert error == (
        "secret.txt: Permission denied (let the user running Commune read it, or leave it out)"
    )
    assert localise(error, "fr") == (
        "secret.txt\u00a0: permission refusée (permettez à l'utilisateur qui fait tourner Commune "
        "de le lire, ou laissez-le de côté)"
    )
    assert commune.documents() == []


@pytest.mark.parametrize(
    ("relative", "pattern", "passed_over"),
    [
        ("guide.pdf", "*.pdf", True),
        ("sub/NOTICE.PDF", "*.pdf", True),  # readers ignore the case of a type; so does this
        ("guide.html", "*.pdf", False),
        ("drafts/old.md", "drafts/*", True),
        ("drafts/deep/old.md", "drafts", True),  # a folder's name: everything in it
        ("drafts/old.md", "./drafts/", True),  # as tar, rsync and git users write it
        ("final/drafts.md", "drafts", False),  # a file's name is matched whole
        ("a/old.md", "old.md", True),
        ("old.md", "", False),  # an empty pattern matches nothing, not everything
    ],
)
def test_exclude_patterns_match_a_path_a_name_or_a_folder(relative, pattern, passed_over):
    from commune.ingest.pipeline import excluded

    assert excluded(relative, [pattern]) is passed_over


def test_a_page_read_again_in_a_curated_collection_waits_and_says_why(commune, tmp_path):
    """A curator who required approvals sees the same file come back, and why: read whole
    by a newer reader; the version readers see stays published meanwhile."""
    from sqlalchemy import update

    from tests.fixtures import HTML_PAGE

    page = tmp_path / "dechets.html"
    page.write_text(HTML_PAGE, encoding="utf-8")
    commune.add([page], collection="mairie", licence="etalab-2.0")
    commune.set_curation_rules("mairie", 1, "curator")
    with commune.engine.begin() as conn:  # stored by a version that recorded no reading
        conn.execute(update(revisions).values(reading=None))
    read_otherwise(commune)  # and read otherwise than today's reader reads it
    s = commune.add([page], collection="mairie", licence="etalab-2.0")
    assert s.updated == 1
    [held] = commune.pending()
    assert held["hold_reason"].startswith("the same file, read again by a newer reader")
    [d] = commune.documents("mairie")
    assert d["status"] == "published"


def test_a_file_read_again_is_compared_by_its_passages_not_its_words_alone(commune, tmp_path):
    # The same words under another heading are found and cited otherwise (the heading is
    # searched and embedded with the passage): a new revision. The same passages throughout
    # record the new reading only (pipeline._read_alike).
    from sqlalchemy import update

    page = tmp_path / "piscine.md"
    page.write_text("# Piscine\n\n## Horaires\n\nOuverte le mercredi après-midi.\n")
    doc_id = commune.add([page], licence="CC0-1.0").outcomes[0].document_id
    with commune.engine.begin() as conn:  # stored by a version that recorded no reading
        conn.execute(update(revisions).values(reading=None))
    before = counts(commune)
    assert commune.add([page], licence="CC0-1.0").unchanged == 1
    assert counts(commune) == before
    with commune.engine.begin() as conn:
        assert conn.execute(select(revisions.c.reading)).scalar_one() is not None
        # As a former reader filed it: the same words, under no section.
        conn.execute(update(revisions).values(reading=None))
        conn.execute(update(chunks).values(heading_path=""))
    s = commune.add([page], licence="CC0-1.0")
    assert (s.updated, s.unchanged) == (1, 0)
    assert len(commune.revisions(doc_id)) == 2


def _stored_otherwise(conn, how: str) -> None:  # type: ignore[no-untyped-def]
    """The stored passages as a former reader may have left them, in one way each."""
    from sqlalchemy import delete, update

    if how == "anchor":  # cited under no anchor
        conn.execute(update(chunks).values(anchor=None))
    elif how == "page":  # cited at a page
        conn.execute(update(chunks).values(page=1))
    elif how == "passages":  # its last passage missing: the others as read today
        last = conn.execute(select(func.max(chunks.c.id))).scalar_one()
        conn.execute(delete(embeddings).where(embeddings.c.chunk_id == last))
        conn.execute(delete(chunks).where(chunks.c.id == last))
    elif how == "vectors":  # embedded by no model searched today
        conn.execute(delete(embeddings))
    elif how == "address":  # the document's own address, as a former reader read it
        conn.execute(update(revisions).values(source_uri="https://ancienne.example/piscine"))


@pytest.mark.parametrize("how", ["anchor", "page", "passages", "vectors", "address"])
def test_a_file_read_again_whose_citations_address_or_vectors_differ_is_a_revision(
    commune, tmp_path, how
):
    # Found in review: each of these is compared (pipeline._read_alike, repo.same_passages),
    # but taken out of the comparison, the re-read was "alike" and every test still passed.
    # An anchor or a page is what an answer cites, a passage missing is text nobody finds, a
    # passage without a vector of today's model is not found by meaning, the address is where
    # a citation links: the newer reading is a new revision, not its name on the old passages.
    from sqlalchemy import update

    page = tmp_path / "piscine.md"
    page.write_text(
        "# Piscine\n\n## Horaires\n\nOuverte le mercredi après-midi.\n\n"
        "## Tarifs\n\nL'entrée coûte trois euros.\n"
    )
    doc_id = commune.add([page], licence="CC0-1.0").outcomes[0].document_id
    with commune.engine.begin() as conn:  # stored by a version that recorded no reading
        conn.execute(update(revisions).values(reading=None))
        assert conn.execute(select(func.count()).select_from(chunks)).scalar_one() == 2
        _stored_otherwise(conn, how)
    s = commune.add([page], licence="CC0-1.0")
    assert (s.updated, s.unchanged) == (1, 0)
    assert len(commune.revisions(doc_id)) == 2


def test_a_folder_holding_nothing_to_read_is_refused_and_nothing_is_written(
    commune, home, tmp_path
):
    # Found in review: `commune add` of a folder of images, or of an empty one, said "0
    # added, 0 failed" and exited 0, which a script took for a success; and it recorded an
    # ingest run, and a new collection's visibility, for nothing.
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.store.schema import audit_log, collections, ingest_runs

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "mairie.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (photos / "plan.jpg").write_bytes(b"\xff\xd8\xff")
    (photos / "annexes.zip").write_bytes(b"PK\x03\x04")
    empty = tmp_path / "vide"
    empty.mkdir()

    def rows():  # type: ignore[no-untyped-def]
        with commune.engine.connect() as conn:
            return tuple(
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (collections, ingest_runs, audit_log, documents)
            )

    before = rows()
    runner = CliRunner()
    fr = runner.invoke(
        cli,
        [
            "--home",
            str(home),
            "add",
            str(photos),
            "--collection",
            "neuve",
            "--visibility",
            "public",
        ],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert fr.exit_code == 2  # as documented: a refusal, not a file that failed (1)
    assert fr.stderr.strip() == (
        f"erreur\u00a0: {photos}\u00a0: aucun fichier que Commune lise, seulement 2 fichiers "
        "d'autres types, 1 archive à décompresser d'abord (pris en charge\u00a0: .docx .htm "
        ".html .json .markdown .md .ods .odt .pdf .text .txt .xhtml .xml, pages de manuel "
        "(.1 à .9), et chacun d'eux compressé (.gz))"
    )
    en = runner.invoke(cli, ["--home", str(home), "add", str(empty)], env={"LANG": "en_GB.UTF-8"})
    assert en.exit_code == 2
    assert en.stderr.strip() == (
        f"error: {empty}: empty, nothing to add (supported: .docx .htm .html .json .markdown "
        ".md .ods .odt .pdf .text .txt .xhtml .xml, man pages (.1 to .9), and any of them "
        "compressed (.gz))"
    )
    # Hidden files are said as such: ".notes.txt" was "1 file of another type", beside a
    # list of what Commune reads that names .txt.
    hidden = tmp_path / "cache"
    hidden.mkdir()
    (hidden / ".notes.txt").write_text("Notes.")
    (hidden / ".DS_Store").write_bytes(b"\x00\x00")
    (hidden / "plan.jpg").write_bytes(b"\xff\xd8\xff")
    dots = runner.invoke(
        cli, ["--home", str(home), "add", str(hidden)], env={"LANG": "fr_FR.UTF-8"}
    )
    assert dots.exit_code == 2
    assert dots.stderr.startswith(
        f"erreur\u00a0: {hidden}\u00a0: aucun fichier que Commune lise, seulement 1 fichier "
        "d'un autre type, 2 fichiers cachés (leur nom commence par un point) (pris en charge"
    ), dots.stderr
    assert rows() == before
    # A file named is read, whatever its type: it fails on its own, as before.
    named = runner.invoke(
        cli, ["--home", str(home), "add", str(photos / "mairie.png")], env={"LANG": "en_GB.UTF-8"}
    )
    assert named.exit_code == 1 and "unsupported type .png" in named.stderr
    # Nothing new is not nothing to read: a folder whose files are all stored already, beside
    # one of images, is added again as unchanged, status 0; and readable files mixed with
    # unreadable ones are added.
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "avis.txt").write_text("Avis de coupure d'eau lundi matin.")
    (notes / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    for _ in range(2):
        mixed = runner.invoke(
            cli, ["--home", str(home), "add", str(notes), str(photos)], env={"LANG": "en_GB.UTF-8"}
        )
        assert mixed.exit_code == 0, mixed.stderr
    assert "1 unchanged" in mixed.stdout


def test_a_licence_a_curator_set_outlives_the_files_own_when_a_newer_reader_reads_it(
    commune, tmp_path, monkeypatch
):
    # Found in review: a fiche declares its Licence Ouverte; a curator approved it under
    # another licence. Read again by a newer reader (its bytes unchanged), the fiche's own
    # declaration was taken over the curator's decision, a new revision under it.
    from commune.ingest import readers
    from tests.test_dila import FICHE_XML

    def current(doc_id):  # type: ignore[no-untyped-def]
        [rev] = [r for r in commune.revisions(doc_id) if r["status"] == "published"]
        return rev

    fiche = tmp_path / "F1367.xml"
    fiche.write_text(FICHE_XML, encoding="utf-8")
    note = tmp_path / "avis.txt"
    note.write_text("Avis de coupure d'eau lundi matin rue des Lilas.")
    commune.add([note], collection="mairie", licence="CC0-1.0")  # the collection, first
    # Set by the curator on approval (the review's --licence).
    commune.set_curation_rules("mairie", 1, "curator")
    s = commune.add([fiche], collection="mairie", source="https://ville.example/F1367")
    doc_id = s.outcomes[0].document_id
    [waiting] = [p for p in commune.pending() if p["document_id"] == doc_id]
    commune.review(waiting["id"], "approve", "the town's re-use terms", licence="CC-BY-4.0")
    # Confirmed by the curator over the file's statement (a --licence it contradicts).
    other = commune.add([fiche], collection="autre", licence="CC-BY-SA-4.0")
    other_id = other.outcomes[0].document_id
    [held] = [p for p in commune.pending() if p["document_id"] == other_id]
    commune.review(held["id"], "approve", "the publisher's own re-use terms")
    # Given over the file's statement, not confirmed yet: it still waits for a curator.
    unconfirmed = commune.add([fiche], collection="tierce", licence="CC-BY-SA-4.0")
    commune.set_curation_rules("mairie", 0, "curator")
    assert current(doc_id)["licence"] == "CC-BY-4.0"
    assert current(other_id)["licence"] == "CC-BY-SA-4.0"

    monkeypatch.setitem(readers.READINGS, "application/xml", "dila-next")  # a newer reader
    read_otherwise(commune)  # that reads the fiche otherwise
    again = commune.add([fiche], collection="mairie", source="https://ville.example/F1367")
    assert (again.updated, again.outcomes[0].held) == (1, None)
    assert (current(doc_id)["licence"], current(doc_id)["number"]) == ("CC-BY-4.0", 2)
    assert commune.add([fiche], collection="autre").updated == 1
    assert current(other_id)["licence"] == "CC-BY-SA-4.0"
    asked = commune.add([fiche], collection="tierce").outcomes[0]
    assert asked.document_id == unconfirmed.outcomes[0].document_id
    assert asked.held == (
        "the file declares licence etalab-2.0, but CC-BY-SA-4.0 was given: a reviewer must confirm"
    )


def test_a_text_file_stored_before_old_mac_line_ends_were_read_is_read_again(
    commune, tmp_path, monkeypatch
):
    # Found in review: plain text had no reading's name, so a .txt with old Mac line ends
    # ("\r" alone) stored as one paragraph before they were read stayed so, "unchanged" on
    # every add after the upgrade.
    from commune.ingest import readers
    from commune.ingest.model import Block, Parsed

    def before_the_fix(data, path):  # type: ignore[no-untyped-def]
        text = readers.decode_text(data, path)
        return Parsed(title=path.stem, media_type="text/plain", blocks=[Block(text.strip())])

    note = tmp_path / "horaires.txt"
    note.write_bytes(
        b"Horaires de la mairie\r\rLa mairie ouvre le lundi de 9 h a 12 h.\r"
        b"\rLa bibliotheque ouvre le mercredi apres-midi.\r"
    )
    with monkeypatch.context() as m:  # as the version before stored it: no reading named
        m.setitem(readers.READERS, ".txt", before_the_fix)
        m.delitem(readers.READINGS, "text/plain", raising=False)
        commune.add([note], licence="CC0-1.0")
    [doc] = commune.documents()

    def passages():  # type: ignore[no-untyped-def]
        with commune.engine.connect() as conn:
            return (
                conn.execute(
                    select(chunks.c.text)
                    .join(revisions, revisions.c.id == chunks.c.revision_id)
                    .where(
                        revisions.c.id == select(documents.c.current_revision_id).scalar_subquery()
                    )
                )
                .scalars()
                .all()
            )

    assert any("\r" in t for t in passages())
    s = commune.add([note], licence="CC0-1.0")
    assert (s.updated, s.unchanged) == (1, 0)
    assert not any("\r" in t for t in passages())
    with commune.engine.connect() as conn:
        read = conn.execute(
            select(revisions.c.number, revisions.c.reading).where(
                revisions.c.document_id == doc["id"]
            )
        ).all()
    assert sorted(read) == [(1, None), (2, readers.reading("text/plain"))]
    assert commune.add([note], licence="CC0-1.0").unchanged == 1


def test_a_licence_a_curator_confirmed_is_not_asked_again_at_the_next_reader_upgrade(
    commune, tmp_path, monkeypatch
):
    # Found in review: the confirmation was looked for on the revision read again only. The
    # first newer reader stored a revision no curator reviewed (published as the confirmed
    # one was), so the next reader upgrade held the fiche again: "the file declares licence
    # etalab-2.0, but CC-BY-SA-4.0 was given: a reviewer must confirm", nothing given.
    from commune.ingest import readers
    from tests.test_dila import FICHE_XML

    fiche = tmp_path / "F1367.xml"
    fiche.write_text(FICHE_XML, encoding="utf-8")
    first = commune.add([fiche], collection="autre", licence="CC-BY-SA-4.0")
    doc_id = first.outcomes[0].document_id
    [held] = [p for p in commune.pending() if p["document_id"] == doc_id]
    commune.review(held["id"], "approve", "the publisher's own re-use terms")
    for version in ("dila-next", "dila-after"):  # two upgrades of its reader
        monkeypatch.setitem(readers.READINGS, "application/xml", version)
        read_otherwise(commune, doc_id)  # that reads the fiche otherwise
        again = commune.add([fiche], collection="autre")
        assert (again.updated, again.outcomes[0].held) == (1, None), version
        [rev] = [r for r in commune.revisions(doc_id) if r["status"] == "published"]
        assert rev["licence"] == "CC-BY-SA-4.0"
    assert not commune.pending()


@pytest.mark.parametrize(
    ("decision", "status"), [("reject", "rejected"), ("request-changes", "changes-requested")]
)
def test_a_file_a_curator_rejected_is_not_brought_back_by_a_newer_reader(
    commune, tmp_path, monkeypatch, decision, status
):
    # Found in review: a rejected file added again was "unchanged" and stayed rejected, until
    # its format's reader changed (txt-2, md-3, odt-6, ods-2): then it was read again as a new
    # revision, back in the curators' queue, or published outright in a collection that no
    # longer asks for approval. A reader upgrade decides nothing: the rejection stands, and
    # so does a request for changes (the same bytes are none: the contributor's next file is).
    from commune.ingest import readers

    note = tmp_path / "avis.txt"
    note.write_text("Avis : la salle des fêtes est louée aux habitants le samedi.")
    commune.add([tmp_path / "avis.txt"], collection="mairie", licence="CC0-1.0")
    commune.set_curation_rules("mairie", 1, "curator")
    note.write_text("Avis : la salle des fêtes est louée à quiconque le samedi.")
    with monkeypatch.context() as m:  # stored by a version whose reading has since changed
        m.setitem(readers.READINGS, "text/plain", "txt-1")
        commune.add([note], collection="mairie", licence="CC0-1.0")
    [held] = commune.pending()
    assert commune.review(held["id"], decision, "not the town's wording") == status
    commune.set_curation_rules("mairie", 0, "curator")
    # Read otherwise by the newer reader: unchanged for the decision alone, not for passages
    # that came out as stored (pipeline._read_alike), which would hide a decision not kept.
    read_otherwise(commune)
    again = commune.add([note], collection="mairie", licence="CC0-1.0")
    assert (again.updated, again.unchanged) == (0, 1)
    assert [p["status"] for p in commune.pending()] == ([status] if status != "rejected" else [])
    [doc] = commune.documents("mairie")
    statuses = sorted(r["status"] for r in commune.revisions(doc["id"]))
    assert statuses == sorted(["published", status])
    [published] = [r for r in commune.revisions(doc["id"]) if r["status"] == "published"]
    assert published["number"] == 1


def test_this_upgrade_reads_again_the_formats_whose_reading_changed_only(commune, corpus):
    # The readings bumped together (txt-4, md-5, html-8, odt-7, ods-3, docx-7): a home stored
    # by the version before holds PDF files under their current reading, which stay as they
    # are; only the formats whose reading changed are read again, and each once.
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P
    from sqlalchemy import update

    from commune.ingest.readers import READINGS
    from tests.test_dila import FICHE_XML
    from tests.test_manpage import MAN

    (corpus / "F1367.xml").write_text(FICHE_XML, encoding="utf-8")
    (corpus / "exports.5").write_text(MAN, encoding="utf-8")
    sheet = OpenDocumentSpreadsheet()
    table, row, cell = Table(name="Tarifs"), TableRow(), TableCell()
    cell.addElement(P(text="Repas à la cantine : 3 €"))
    row.addElement(cell)
    table.addElement(row)
    sheet.spreadsheet.addElement(table)
    sheet.save(str(corpus / "tarifs.ods"))
    commune.add([corpus], licence="etalab-2.0")
    before = {  # the readings of the version before (readers.READINGS then); others none
        "text/html": "html-6",
        "text/markdown": "md-3",
        "text/plain": "txt-2",
        "application/pdf": "pdf-2",
        "application/vnd.oasis.opendocument.text": "odt-6",
        "application/vnd.oasis.opendocument.spreadsheet": "ods-2",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx-5",
    }
    with commune.engine.begin() as conn:
        stored = conn.execute(select(revisions.c.media_type)).scalars().all()
        for media_type in stored:
            conn.execute(
                update(revisions)
                .where(revisions.c.media_type == media_type)
                .values(reading=before.get(media_type))
            )
    assert sorted(stored) == sorted({*READINGS, "application/xml"})  # each format once
    read_otherwise(commune)  # the stored passages as no reader reads them today
    s = commune.add([corpus], licence="etalab-2.0")
    again = {Path(o.path).suffix for o in s.outcomes if o.status == "updated"}
    changed = {".txt", ".md", ".html", ".odt", ".ods", ".docx", ".5"}
    assert again == changed, s.outcomes
    assert s.unchanged == len(stored) - len(changed) and s.failed == 0
    with commune.engine.connect() as conn:
        newest = dict(
            conn.execute(
                select(revisions.c.media_type, revisions.c.reading).join(
                    documents, documents.c.current_revision_id == revisions.c.id
                )
            ).all()
        )
    assert newest == {t: READINGS.get(t) for t in stored}


def test_a_retired_documents_file_is_not_brought_back_by_a_newer_reader(
    commune, tmp_path, monkeypatch
):
    # Found in review: a retired document's file added again was "unchanged", until its
    # format's reader changed: then its text (personal data, retired for that) was stored
    # again as a new revision, waiting in the curators' queue to be brought back.
    from commune.ingest import readers

    note = tmp_path / "avis.txt"
    note.write_text("Avis : M. Dupont, 12 rue des Lilas, doit 340 € à la cantine.")
    with monkeypatch.context() as m:  # stored by a version whose reading has since changed
        m.setitem(readers.READINGS, "text/plain", "txt-1")
        doc_id = commune.add([note], collection="mairie", licence="CC0-1.0").outcomes[0].document_id
    commune.retire(doc_id, "personal data")
    # Read otherwise by the newer reader: unchanged for the retirement alone, not for
    # passages that came out as stored (pipeline._read_alike).
    read_otherwise(commune)
    with commune.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(chunks)).scalar_one()
    again = commune.add([note], collection="mairie", licence="CC0-1.0")
    assert (again.updated, again.unchanged) == (0, 1)
    assert not commune.pending()
    with commune.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(chunks)).scalar_one() == before
        numbers = conn.execute(
            select(revisions.c.number).where(revisions.c.document_id == doc_id)
        ).all()
    assert len(numbers) == 1


def test_a_spreadsheet_row_is_found_with_what_its_amounts_are(commune, tmp_path):
    # A town hall's rates as a sheet of 60 rows: the passages past the first held bare rows
    # ("De 4500 à 4599 € | 3,25 € | 1,63 €"), so that the passage found for a band said
    # nothing of which amount was the meal's. Each row carries its column headers now.
    from tests.fixtures import make_rates_ods

    commune.add([make_rates_ods(tmp_path / "tarifs.ods", 60)], licence="etalab-2.0")
    hits = commune.search("prix du repas quotient familial de 4500 à 4599 €", k=5)
    [found] = [h for h in hits if "De 4500 à 4599 €" in h.text][:1]
    assert "Quotient familial : De 4500 à 4599 € | Prix du repas : 3,25 €" in found.text


class _LocalRay:
    """Ray as `commune add --ray` uses it, run in this process: its Ray Data job prepares
    the files with the workers' own code (distributed._Preparer), a batch at a time."""

    def __init__(self) -> None:
        self.data = self
        self.jobs = 0

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0}

    def shutdown(self) -> None:
        pass

    def ActorPoolStrategy(self, size: int) -> int:  # noqa: N802 (Ray's name)
        return size

    def from_items(self, items):  # type: ignore[no-untyped-def]
        self.jobs += 1
        return _LocalDataset(items)


class _LocalDataset:
    def __init__(self, items) -> None:  # type: ignore[no-untyped-def]
        self.items = items

    def map_batches(self, cls, fn_constructor_kwargs, batch_size, **_):  # type: ignore[no-untyped-def]
        import numpy as np

        worker = cls(**fn_constructor_kwargs)

        def rows():  # type: ignore[no-untyped-def]
            for k in range(0, len(self.items), batch_size):
                batch = self.items[k : k + batch_size]
                out = worker(
                    {
                        "i": np.array([b["i"] for b in batch]),
                        "name": np.array([b["name"] for b in batch]),
                        "data": [b["data"] for b in batch],
                    }
                )
                yield from (
                    {"i": i, "result": r} for i, r in zip(out["i"], out["result"], strict=True)
                )

        return type("Rows", (), {"iter_rows": staticmethod(rows)})()


def test_add_on_ray_sends_an_archive_in_windows_storing_each_before_reading_the_next(
    tmp_path, monkeypatch
):
    # Every file of the folder was read into memory before the first was sent to the
    # cluster: a town's archive of scanned PDFs (10 GB) filled the machine, and nothing was
    # stored until all of it had been read. Now a window is stored before the next is read.
    import commune.ingest.distributed as distributed
    from commune.core import Commune

    folder = tmp_path / "archive"
    folder.mkdir()
    for i in range(6):
        (folder / f"note-{i}.md").write_text(
            f"# Note {i}\n\n" + f"Le conseil municipal délibère sur le point {i}. " * 20
        )
    ray, events = _LocalRay(), []
    monkeypatch.setattr(distributed, "connect", lambda address: ray)
    monkeypatch.setattr(
        distributed, "WINDOW_BYTES", 1500, raising=False
    )  # two files of 970 bytes a window
    read, store = distributed.read_regular_file, distributed.store

    def reading(path, *args):  # type: ignore[no-untyped-def]
        events.append(("read", path.name))
        return read(path, *args)

    def storing(*args, **kwargs):  # type: ignore[no-untyped-def]
        events.append(("store", args[4].name))
        return store(*args, **kwargs)

    monkeypatch.setattr(distributed, "read_regular_file", reading)
    monkeypatch.setattr(distributed, "store", storing)
    with Commune(tmp_path / "ray-home") as on_ray:
        summary = on_ray.add([folder], licence="etalab-2.0", ray_address="127.0.0.1:6379")
        assert (summary.added, summary.failed, ray.jobs) == (6, 0, 3)
        assert events[:5] == [
            ("read", "note-0.md"),
            ("read", "note-1.md"),
            ("store", "note-0.md"),
            ("store", "note-1.md"),
            ("read", "note-2.md"),
        ]
        with Commune(tmp_path / "local-home") as local:
            local.add([folder], licence="etalab-2.0")

            def passages(c):  # type: ignore[no-untyped-def]
                return sorted((d["title"], d["chunks"]) for d in c.documents())

            assert passages(on_ray) == passages(local)


def test_a_folder_named_twice_through_a_link_to_it_is_read_once(commune, tmp_path):
    # `commune add docs/ docs-link/` (a link to docs/): each file failed as "same source ...
    # as ... in this batch; add it on its own with its own --source", and the add ended in
    # status 1, though every file was stored.
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(3):
        (folder / f"pv-{i}.txt").write_text(f"Le conseil municipal a voté le point {i}.")
    (tmp_path / "docs-link").symlink_to(folder)
    summary = commune.add([folder, tmp_path / "docs-link"], licence="etalab-2.0")
    assert (summary.added, summary.failed, summary.errors) == (3, 0, [])
    again = commune.add(
        [folder, tmp_path / "docs-link"], licence="etalab-2.0", source="https://mairie.example/pv"
    )
    assert (again.added, again.failed, again.errors) == (3, 0, [])


def test_the_current_folder_added_with_a_source_gives_each_file_its_own_address(
    commune, tmp_path, monkeypatch
):
    # `commune add . --source URL`: every file was given the address URL itself, and all but
    # the first failed as "same source URL as ... in this batch".
    folder = tmp_path / "pv"
    folder.mkdir()
    for i in range(3):
        (folder / f"pv-{i}.txt").write_text(f"Le conseil municipal a voté le point {i}.")
    monkeypatch.chdir(folder)
    summary = commune.add(["."], licence="etalab-2.0", source="https://mairie.example/pv")
    assert (summary.added, summary.failed, summary.errors) == (3, 0, [])
    assert sorted(d["source_uri"] for d in commune.documents()) == [
        f"https://mairie.example/pv/pv-{i}.txt" for i in range(3)
    ]


def test_exclude_given_as_a_path_from_here_passes_that_folder_over(commune, tmp_path, monkeypatch):
    # `commune add archives --exclude archives/brouillons`: read only against each file's
    # path within archives/, the pattern matched nothing, and the drafts were added, with
    # nothing said.
    folder = tmp_path / "archives"
    (folder / "brouillons").mkdir(parents=True)
    (folder / "pv.txt").write_text("Le conseil municipal a voté le budget.")
    (folder / "brouillons" / "projet.txt").write_text("Projet de délibération, à relire.")
    (folder / "brouillons" / "notes.txt").write_text("Notes de séance, pas encore relues.")
    monkeypatch.chdir(tmp_path)
    summary = commune.add(["archives"], licence="etalab-2.0", exclude=["archives/brouillons"])
    assert (summary.added, summary.excluded) == (1, 2)
    assert [Path(d["source_uri"]).name for d in commune.documents()] == ["pv.txt"]
    absolute = commune.add(
        [folder], licence="etalab-2.0", exclude=[str(folder / "brouillons" / "projet.txt")]
    )
    assert (absolute.added, absolute.unchanged, absolute.excluded) == (1, 1, 1)


def test_exclude_given_as_a_path_through_a_link_to_the_folder_passes_it_over(
    commune, tmp_path, monkeypatch
):
    # `commune add docs-lien --exclude docs/brouillons` (docs-lien a link to docs/), or the
    # other way round: the path named the drafts through the folder's other name, matched
    # nothing, and the drafts were added with nothing said.
    folder = tmp_path / "docs"
    (folder / "brouillons").mkdir(parents=True)
    (folder / "pv.txt").write_text("Le conseil municipal a voté le budget.")
    (folder / "brouillons" / "projet.txt").write_text("Projet de délibération, à relire.")
    (tmp_path / "docs-lien").symlink_to(folder)
    monkeypatch.chdir(tmp_path)
    through = commune.add(["docs-lien"], licence="etalab-2.0", exclude=["docs/brouillons"])
    assert (through.added, through.excluded) == (1, 1)
    back = commune.add(["docs"], licence="etalab-2.0", exclude=["docs-lien/brouillons"])
    assert (back.added, back.unchanged, back.excluded) == (0, 1, 1)
    assert [Path(d["source_uri"]).name for d in commune.documents()] == ["pv.txt"]


def test_an_exclude_name_found_in_the_current_folder_still_matches_it_everywhere(
    commune, tmp_path, monkeypatch
):
    # `cd docs/2024 && commune add .. --exclude notes.txt`: the name was taken for the path
    # of the notes.txt standing here, and only that one was passed over; those of 2023 and
    # of docs/ itself, which the name matched before, were added.
    folder = tmp_path / "docs"
    for year in ("2023", "2024"):
        (folder / year).mkdir(parents=True)
        (folder / year / "pv.txt").write_text(f"Le conseil municipal a voté le budget {year}.")
        (folder / year / "notes.txt").write_text(f"Notes de séance {year}, pas encore relues.")
    (folder / "notes.txt").write_text("Notes de séance, pas encore relues.")
    monkeypatch.chdir(folder / "2024")
    summary = commune.add([".."], licence="etalab-2.0", exclude=["notes.txt"])
    assert (summary.added, summary.excluded) == (2, 3)
    assert sorted(Path(d["source_uri"]).name for d in commune.documents()) == ["pv.txt"] * 2


def test_a_cluster_lost_in_a_later_window_says_the_documents_stored_are_kept(tmp_path, monkeypatch):
    # The cluster lost at the second window of an add --ray (its head stopped): Ray's
    # traceback, and no word that the first window's documents were stored, nor what to do.
    from click.testing import CliRunner

    import commune.ingest.distributed as distributed
    from commune.cli import cli
    from commune.core import Commune

    class Lost(_LocalRay):
        def from_items(self, items):  # type: ignore[no-untyped-def]
            if self.jobs == 1:
                raise ConnectionError("the head node died\nmore of Ray's words")
            return super().from_items(items)

    folder = tmp_path / "archive"
    folder.mkdir()
    for i in range(6):
        (folder / f"note-{i}.md").write_text(
            f"# Note {i}\n\n" + f"Le conseil municipal délibère sur le point {i}. " * 20
        )
    monkeypatch.setattr(distributed, "WINDOW_BYTES", 1500)  # two files a window
    monkeypatch.setattr(distributed, "connect", lambda address: Lost())
    home = tmp_path / "home"
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, [*add, "--ray", "127.0.0.1:6379"])
    assert out.exit_code == 2, out.output
    assert out.stderr.strip().splitlines()[-1] == (
        "erreur\u00a0: le cluster Ray à 127.0.0.1:6379 a échoué, les 2 documents ajoutés ou mis "
        "à jour avant sont gardés\u00a0: the head node died (voyez `ray status`, puis relancez "
        "la même commande pour finir\u00a0: les fichiers déjà enregistrés sont passés)"
    ), out.stderr
    with Commune(home) as c:
        assert len(c.documents()) == 2
        # The run is recorded as stopped, with why and what it stored before.
        [stopped] = [e for e in c.audit_entries() if e["action"] == "add-stopped"]
        details = json.loads(stopped["details"])
        assert details["why"] == (
            "the Ray cluster at 127.0.0.1:6379 failed, 2 documents added or updated before it "
            "are kept: the head node died"
        )
        assert (details["added"], details["left"]) == (2, 4)
    monkeypatch.setattr(distributed, "connect", lambda address: _LocalRay())
    again = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, [*add, "--ray", "127.0.0.1:6379"])
    assert again.exit_code == 0, again.output
    assert "4 ajoutés, 0 mis à jour, 2 inchangés, 0 en échec" in again.output, again.output


def test_a_folder_added_under_a_url_gives_each_file_a_link_that_leads_to_it(commune, tmp_path):
    # `commune add docs --source 'https://mairie.example/docs/?v=1'`: each file's path was
    # written as it is after the query ("...?v=1/compte rendu #3 été?.txt"): its link on the
    # document's page stopped at the "#" or the "?", and spaces and accents stood in a URL.
    folder = tmp_path / "docs"
    (folder / "sous dossier").mkdir(parents=True)
    (folder / "sous dossier" / "compte rendu #3 été?.txt").write_text(
        "Compte rendu numéro trois du conseil municipal."
    )
    (folder / "100%.txt").write_text("Le budget est voté à cent pour cent.")
    (folder / "a\\b.txt").write_text("Un nom venu de Windows, avec sa barre oblique inverse.")
    summary = commune.add([folder], licence="etalab-2.0", source="https://mairie.example/docs/?v=1")
    assert (summary.added, summary.failed) == (3, 0), summary.errors
    assert sorted(d["source_uri"] for d in commune.documents()) == [
        "https://mairie.example/docs/100%25.txt?v=1",
        "https://mairie.example/docs/a%5Cb.txt?v=1",
        "https://mairie.example/docs/sous%20dossier/compte%20rendu%20%233%20%C3%A9t%C3%A9%3F.txt?v=1",
    ]
    # A base that is no link (a urn:) is joined as it was.
    other = commune.add([folder], licence="etalab-2.0", source="urn:mairie:docs", collection="b")
    assert other.added == 3
    assert "urn:mairie:docs/sous dossier/compte rendu #3 été?.txt" in [
        d["source_uri"] for d in commune.documents(collection="b")
    ]


def test_a_file_added_under_its_address_as_written_before_stays_one_document(commune, tmp_path):
    # A file added before links were percent-encoded kept its address as written: added
    # again, it is the same document (unchanged), not a second one beside it.
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "compte rendu.txt").write_text("Compte rendu du conseil municipal.")
    commune.add(
        [folder / "compte rendu.txt"],
        licence="etalab-2.0",
        source="https://mairie.example/docs/compte rendu.txt",
    )
    again = commune.add([folder], licence="etalab-2.0", source="https://mairie.example/docs")
    assert (again.added, again.unchanged) == (0, 1)
    assert [d["source_uri"] for d in commune.documents()] == [
        "https://mairie.example/docs/compte rendu.txt"
    ]


def test_add_on_ray_counts_the_cluster_s_cpus_again_at_each_window(tmp_path, monkeypatch):
    # The CPUs were counted once, at the first window: a worker node that left during a long
    # add left later windows asking for a pool of actors the cluster could not start, and
    # Ray Data waits for them forever, the add silent. Each window now counts them again,
    # and, none left, stops in one line saying what the windows before stored.
    from click.testing import CliRunner

    import commune.ingest.distributed as distributed
    from commune.cli import cli
    from commune.core import Commune

    class Leaving(_LocalRay):
        def __init__(self, cpus: list[float]) -> None:
            super().__init__()
            self.cpus, self.pools = cpus, []

        def cluster_resources(self) -> dict[str, float]:
            return {"CPU": self.cpus[min(self.jobs, len(self.cpus) - 1)]}

        def ActorPoolStrategy(self, size: int) -> int:  # noqa: N802 (Ray's name)
            self.pools.append(size)
            return size

    folder = tmp_path / "archive"
    folder.mkdir()
    for i in range(24):
        text = f"# Note {i:02d}\n\nLe conseil municipal délibère sur le point {i:02d}."
        (folder / f"note-{i:02d}.md").write_text(text)
    size = (folder / "note-00.md").stat().st_size
    monkeypatch.setattr(distributed, "WINDOW_BYTES", 8 * size)  # three windows of 8 files
    monkeypatch.setattr(distributed, "JOIN_SECONDS", 0.0)
    ray = Leaving([2.0, 2.0, 1.0])
    monkeypatch.setattr(distributed, "connect", lambda address: ray)
    with Commune(tmp_path / "h1") as c:
        assert c.add([folder], licence="etalab-2.0", ray_address="127.0.0.1:6379").added == 24
    assert ray.pools == [2, 2, 1]
    gone = Leaving([2.0, 2.0, 0.0])
    monkeypatch.setattr(distributed, "connect", lambda address: gone)
    add = ["--home", str(tmp_path / "h2"), "add", str(folder), "--licence", "etalab-2.0"]
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, [*add, "--ray", "127.0.0.1:6379"])
    assert out.exit_code == 2, out.output
    said = out.stderr.strip().splitlines()[-1]
    assert said.startswith(
        "erreur\u00a0: le cluster Ray à 127.0.0.1:6379 n'a aucun processeur pour "
        "travailler\u00a0: aucun nœud de calcul ne l'a rejoint en 0 s, les 16 documents "
        "ajoutés ou mis à jour avant sont gardés (démarrez-en un avec `ray start --address "
        "127.0.0.1:6379`"
    ), said


def test_a_cluster_of_less_than_one_cpu_is_said_at_once(tmp_path, monkeypatch):
    # A cluster of half a CPU (a node started with --num-cpus=0.5, a container's quota): no
    # worker, which asks for a whole one, could start, and the add waited the two minutes
    # for a worker to join, then said none had. It now says at once what the cluster has
    # and what to do.
    from click.testing import CliRunner

    import commune.ingest.distributed as distributed
    from commune.cli import cli

    class Half(_LocalRay):
        def cluster_resources(self) -> dict[str, float]:
            return {"CPU": 0.5}

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pv.md").write_text("# PV\n\nLe conseil municipal a voté le budget.")
    monkeypatch.setattr(distributed, "connect", lambda address: Half())
    add = ["--home", str(tmp_path / "h"), "add", str(folder), "--ray", "127.0.0.1:6379"]
    t0 = time.monotonic()
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, add)
    assert time.monotonic() - t0 < 30  # not the two minutes of a wait for a worker
    assert out.exit_code == 2, out.output
    assert out.stderr.strip().splitlines()[-1] == (
        "erreur\u00a0: le cluster Ray à 127.0.0.1:6379 a 0,5 processeur, moins du processeur "
        "entier qu'il faut à un nœud de calcul, rien n'a été ajouté (donnez un processeur "
        "entier à son nœud (`ray start --num-cpus=1`) ou démarrez un nœud de calcul avec `ray "
        "start --address 127.0.0.1:6379 --num-cpus=1`, puis relancez la même commande)"
    ), out.stderr
    english = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, add)
    assert "has 0.5 CPU, less than the one a worker needs" in english.stderr, english.stderr


def test_add_on_ray_says_when_it_waits_for_a_worker_and_how_long_at_most(tmp_path, monkeypatch):
    # A head started with --num-cpus=0 has no CPU until a worker joins: the add waited up
    # to two minutes for one, saying nothing, which read as a hang. It now says, as the
    # wait starts, what it waits for and how long at most.
    from click.testing import CliRunner

    import commune.ingest.distributed as distributed
    from commune.cli import cli

    class Joining(_LocalRay):
        def __init__(self) -> None:
            super().__init__()
            self.asked = 0

        def cluster_resources(self) -> dict[str, float]:
            self.asked += 1  # none at first, then a worker of two CPUs joins
            return {"CPU": 0.0 if self.asked < 3 else 2.0}

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pv.md").write_text("# PV\n\nLe conseil municipal a voté le budget.")
    monkeypatch.setattr(distributed, "connect", lambda address: Joining())
    for lang, line in (
        (
            "fr_FR.UTF-8",
            "le cluster Ray à 127.0.0.1:6379 n'a pas encore de processeur\u00a0: attente d'un "
            "nœud de calcul, 120 s au plus",
        ),
        (
            "en_GB.UTF-8",
            "the Ray cluster at 127.0.0.1:6379 has no CPU yet: waiting up to 120 s for a "
            "worker node to join",
        ),
    ):
        home = tmp_path / lang
        add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
        out = CliRunner(env={"LANG": lang}).invoke(cli, [*add, "--ray", "127.0.0.1:6379"])
        assert out.exit_code == 0, out.output
        assert out.stderr.splitlines().count(line) == 1, out.stderr  # said once, not each second


def test_an_exclude_pattern_that_matches_no_file_is_said_after_the_run(tmp_path):
    # `commune add archives --exclude brouilons` (for brouillons): the pattern matched
    # nothing, the drafts were added, and nothing was said. The run still goes on (a
    # pattern a script keeps may match nothing some days); after it, a note names each
    # pattern that matched no file.
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    folder = tmp_path / "archives"
    (folder / "brouillons").mkdir(parents=True)
    (folder / "pv.txt").write_text("Le conseil municipal a voté le budget.")
    (folder / "brouillons" / "projet.txt").write_text("Projet de délibération, à relire.")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main")
    home = tmp_path / "home"
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    # '*.png' matches a file the walk passes over anyway: not a slip, not said.
    patterns = ["--exclude", "brouilons", "--exclude", "*.png", "--exclude", "*.tmp"]
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, [*add, *patterns])
    assert out.exit_code == 0, out.output
    assert (
        "à noter\u00a0: les motifs --exclude 'brouilons', '*.tmp' n'ont écarté aucun "
        "fichier\u00a0: vérifiez leur orthographe"
    ) in out.stderr.splitlines(), out.stderr
    with Commune(home) as c:
        assert len(c.documents()) == 2  # the run went on
    one = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, [*add, "--exclude", "brouilons"])
    assert one.exit_code == 0, one.output
    assert (
        "note: the --exclude pattern 'brouilons' matched no file: check its spelling"
        in one.stderr.splitlines()
    ), one.stderr
    # A folder the walk passes over anyway (.git), named: not a slip either.
    right = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
        cli, [*add, "--exclude", "brouillons", "--exclude", ".git"]
    )
    assert "--exclude" not in right.stderr, right.stderr


def test_an_exclude_pattern_naming_a_folder_link_or_an_empty_folder_is_no_slip(tmp_path):
    # A link to a folder the walk does not follow (Archives -> /mnt/anciens), or a folder
    # empty today, named by --exclude to be sure: the note said the pattern matched no file
    # and to check its spelling, beside "1 link to a folder not followed" in the same run.
    from click.testing import CliRunner

    from commune.cli import cli

    folder = tmp_path / "archives"
    folder.mkdir()
    (folder / "pv.txt").write_text("Le conseil municipal a voté le budget.")
    (tmp_path / "anciens").mkdir()
    (tmp_path / "anciens" / "vieux.txt").write_text("Un ancien compte rendu.")
    (folder / "Archives").symlink_to(tmp_path / "anciens")
    (folder / "a-trier").mkdir()
    add = ["--home", str(tmp_path / "home"), "add", str(folder), "--licence", "etalab-2.0"]
    out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
        cli, [*add, "--exclude", "Archives", "--exclude", "a-trier", "--exclude", "archive"]
    )
    assert out.exit_code == 0, out.output
    assert (
        "note: the --exclude pattern 'archive' matched no file: check its spelling"
        in out.stderr.splitlines()
    ), out.stderr


def test_an_add_stopped_midway_is_recorded_with_what_it_stored_and_no_half_document(
    tmp_path, monkeypatch
):
    # Ctrl-C (or a Ray cluster failing) during `commune add`: the documents stored before
    # stayed, but the run left no record at all, neither in ingest_runs nor anywhere that
    # said it had stopped. It now leaves its row, and the audit log says it stopped, why,
    # and what it stored before; the document being stored when it stopped is not there
    # at all, not in part.
    from click.testing import CliRunner

    import commune.store.repository as repository
    from commune.cli import cli
    from commune.core import Commune
    from commune.store.schema import ingest_runs

    folder = tmp_path / "pv"
    folder.mkdir()
    for i in range(5):
        (folder / f"pv-{i}.md").write_text(
            f"# PV {i}\n\n" + f"Le conseil municipal délibère sur le point {i}. " * 30
        )
    write = repository.write_revision
    calls = []

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        written = write(*args, **kwargs)  # its rows written, its transaction still open
        if len(calls) == 3:
            raise KeyboardInterrupt
        return written

    monkeypatch.setattr(repository, "write_revision", interrupted)
    home = tmp_path / "home"
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, add)
    assert out.exit_code == 130, out.output
    assert "interrupted after 2 of 5 files: 2 documents added or updated, kept" in out.stderr
    with Commune(home) as c:
        assert sorted(d["title"] for d in c.documents()) == ["PV 0", "PV 1"]
        report = c.check()
        assert report.ok, [k for k in report.checks if not k.ok]  # no half document
        with c.engine.connect() as conn:
            runs = conn.execute(select(ingest_runs.c.added, ingest_runs.c.failed)).all()
            orphans = conn.execute(
                select(func.count()).select_from(chunks).where(chunks.c.text.like("%point 2.%"))
            ).scalar_one()
        assert runs == [(2, 0)] and orphans == 0
        [stopped] = [e for e in c.audit_entries() if e["action"] == "add-stopped"]
        assert json.loads(stopped["details"]) == {
            "why": "interrupted (Ctrl-C)",
            "added": 2,
            "updated": 0,
            "unchanged": 0,
            "failed": 0,
            "left": 3,
        }
        assert stopped["subject"] == "collection default"
    monkeypatch.setattr(repository, "write_revision", write)
    again = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, add)
    assert again.exit_code == 0, again.output
    assert "3 added, 0 updated, 2 unchanged, 0 failed" in again.output, again.output
    with Commune(home) as c:
        assert not [e for e in c.audit_entries() if e["action"] == "add-stopped"][1:]
        with c.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ingest_runs)).scalar_one() == 2


def test_an_add_interrupted_while_recording_its_finished_run_keeps_the_run(tmp_path, monkeypatch):
    # Ctrl-C during the final commit of an add that had stored every document (waiting for
    # another process's write lock, most often) rolled back its ingest_runs row and the
    # ledger row of its last work: the run was not accounted for. It is now recorded as
    # stopped, none left, with that ledger row once; and a record whose commit landed before
    # the interrupt is not written twice.
    import contextlib

    from click.testing import CliRunner

    import commune.ingest.batch as batch
    import commune.store.repository as repository
    from commune.cli import cli
    from commune.core import Commune
    from commune.store.schema import ingest_runs, usage

    folder = _minutes(tmp_path / "pv", 3, "pv")
    home = tmp_path / "home"
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    english = CliRunner(env={"LANG": "en_GB.UTF-8"})
    # pv-2 first: unchanged, last of the next run, its work is the run's last ledger row.
    assert english.invoke(cli, [*add[:3], str(folder / "pv-2.md"), *add[4:]]).exit_code == 0
    record, calls = repository.record_ingest_run, []

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        record(*args, **kwargs)  # its row written, its transaction not yet committed
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(repository, "record_ingest_run", interrupted)
    out = english.invoke(cli, add)
    assert out.exit_code == 130, out.output
    assert "interrupted after 3 of 3 files: 2 documents added or updated, kept" in out.stderr

    def counted() -> tuple[list[tuple[int, int]], int, list[dict[str, int]]]:
        with Commune(home) as c:
            with c.engine.connect() as conn:
                runs = conn.execute(
                    select(ingest_runs.c.added, ingest_runs.c.unchanged).order_by(ingest_runs.c.id)
                ).all()
                rows = conn.execute(
                    select(func.count()).select_from(usage).where(usage.c.mode == "ingest")
                ).scalar_one()
            stopped = [
                json.loads(e["details"]) for e in c.audit_entries() if e["action"] == "add-stopped"
            ]
        return [tuple(r) for r in runs], rows, stopped

    runs, rows, stopped = counted()
    assert runs == [(1, 0), (2, 1)]
    # One row per document stored (3), and one for the work after the last one (pv-2 read).
    assert rows == 4
    assert [(s["why"], s["added"], s["unchanged"], s["left"]) for s in stopped] == [
        ("interrupted (Ctrl-C)", 2, 1, 0)
    ]
    # The record committed, then Ctrl-C: not recorded again.
    monkeypatch.setattr(repository, "record_ingest_run", record)
    committing = batch.write_transaction

    @contextlib.contextmanager
    def late(engine):  # type: ignore[no-untyped-def]
        with committing(engine) as conn:
            yield conn
        with engine.connect() as conn:
            runs = conn.execute(select(func.count()).select_from(ingest_runs)).scalar_one()
        if runs == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(batch, "write_transaction", late)
    (folder / "pv-0.md").write_text("# PV 0\n\nLe conseil délibère sur le point 0, revu.")
    assert english.invoke(cli, add).exit_code == 130
    runs, rows, stopped = counted()
    assert runs == [(1, 0), (2, 1), (0, 2)] and rows == 6 and len(stopped) == 1


def test_an_add_whose_database_fails_at_its_last_commit_says_so_at_once(
    tmp_path, monkeypatch, postgres_url
):
    # The PostgreSQL server out of reach as the add recorded its finished run (its packets
    # dropped): the add asked it again whether that record had landed, and waited for the
    # connection's timeout, silent, before saying the first error. A database that failed
    # is asked nothing more (as for a run it stopped midway).
    import psycopg
    import sqlalchemy

    import commune.store.repository as repository
    from commune.core import Commune

    wait_s = 5
    folder = tmp_path / "pv"
    folder.mkdir()
    (folder / "pv-0.md").write_text("# PV 0\n\nLe conseil délibère sur le point 0.")
    (tmp_path / "pv-1.md").write_text("# PV 1\n\nLe conseil délibère sur le point 1.")
    monkeypatch.setenv("COMMUNE_DATABASE_URL", postgres_url)
    connect = psycopg.connect

    def out_of_reach(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(wait_s)
        raise psycopg.errors.ConnectionTimeout("connection timeout expired")

    def server_lost(conn, *args, **kwargs):  # type: ignore[no-untyped-def]
        conn.invalidate()  # the server gone: this connection
        conn.engine.dispose()  # and its others too
        monkeypatch.setattr(psycopg, "connect", out_of_reach)
        raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("server closed"))

    with Commune(tmp_path / "home") as c:
        c.add([tmp_path / "pv-1.md"], collection="pv", licence="etalab-2.0")
        monkeypatch.setattr(repository, "record_ingest_run", server_lost)
        started = time.monotonic()
        with pytest.raises(sqlalchemy.exc.OperationalError, match="server closed"):
            c.add([folder], collection="pv", licence="etalab-2.0")
        said = time.monotonic() - started
        monkeypatch.setattr(psycopg, "connect", connect)
    assert said < wait_s, said


def test_add_on_ray_ends_when_every_worker_leaves_mid_job(tmp_path, monkeypatch):
    # Every worker node lost during a window's job (a worker machine switched off): Ray Data
    # waits for its actors to start again on a node with a CPU, forever, and the add waited
    # with it, silent. While the next row is awaited, the cluster's CPUs are looked at: none
    # for the join time, the add ends in one line saying what it kept and what to do.
    import threading

    from click.testing import CliRunner

    import commune.ingest.distributed as distributed
    from commune.cli import cli
    from commune.core import Commune

    never = threading.Event()  # the job's rows after the first: never come

    class Stalled(_LocalRay):
        def __init__(self) -> None:
            super().__init__()
            self.asked = 0

        def cluster_resources(self) -> dict[str, float]:
            self.asked += 1  # the worker is there for the window's start, then gone
            return {"CPU": 2.0 if self.asked == 1 else 0.0}

        def from_items(self, items):  # type: ignore[no-untyped-def]
            dataset = super().from_items(items)

            class Job:
                def map_batches(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                    rows = dataset.map_batches(*args, **kwargs).iter_rows()

                    def first_then_wait():  # type: ignore[no-untyped-def]
                        yield next(rows)
                        never.wait(600)

                    return type("Rows", (), {"iter_rows": staticmethod(first_then_wait)})()

            return Job()

    folder = _minutes(tmp_path / "archive", 6, "note")
    monkeypatch.setattr(distributed, "connect", lambda address: Stalled())
    monkeypatch.setattr(distributed, "JOIN_SECONDS", 1.0)
    monkeypatch.setattr(distributed, "WATCH_SECONDS", 0.2)
    home = tmp_path / "home"
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    try:
        out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, [*add, "--ray", "127.0.0.1:6379"])
    finally:
        never.set()
    assert out.exit_code == 2, out.output
    assert (
        "le cluster Ray à 127.0.0.1:6379 a perdu ses nœuds de calcul pendant le "
        "travail\u00a0: attente d'un nouveau nœud, 1 s au plus"
    ) in out.stderr.splitlines(), out.stderr  # said as the wait starts
    assert out.stderr.strip().splitlines()[-1] == (
        "erreur\u00a0: le cluster Ray à 127.0.0.1:6379 n'a aucun processeur pour "
        "travailler\u00a0: ses nœuds de calcul sont partis pendant le travail et aucun ne l'a "
        "rejoint en 1 s, le document ajouté ou mis à jour avant est gardé (démarrez-en un avec "
        "`ray start --address 127.0.0.1:6379` (`ray status` liste les nœuds), puis relancez la "
        "même commande)"
    ), out.stderr
    with Commune(home) as c:
        assert len(c.documents()) == 1


def test_an_add_stopped_by_a_locked_database_says_so_without_waiting_for_it_again(
    tmp_path, monkeypatch
):
    # Another process holding the database's write lock past busy_timeout stopped the add
    # with "database is locked"; the recording of the stopped run then waited for the same
    # lock as long again, the add silent, before saying the first error. A database that
    # failed is asked nothing more: its error is said at once.
    import sqlite3

    import sqlalchemy

    import commune.ingest.pipeline as pipeline
    from commune.core import Commune

    wait_s = 3
    _busy_timeout(monkeypatch, wait_s)
    folder = _minutes(tmp_path / "pv", 3, "pv")
    home = tmp_path / "home"
    store, calls, failed = pipeline.store, [], []
    holder = None

    def locked(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal holder
        calls.append(1)
        if len(calls) == 2:  # another process takes the write lock and keeps it
            holder = sqlite3.connect(home / "commune.db", isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
        try:
            return store(*args, **kwargs)
        except sqlalchemy.exc.OperationalError:
            failed.append(time.monotonic())
            raise

    with Commune(home) as c:
        c.add([folder / "pv-0.md"], collection="pv", licence="etalab-2.0")
        monkeypatch.setattr(pipeline, "store", locked)
        try:
            with pytest.raises(sqlalchemy.exc.OperationalError, match="database is locked"):
                c.add([folder], collection="pv", licence="etalab-2.0")
            said = time.monotonic()
        finally:
            if holder is not None:
                holder.rollback()
                holder.close()
    assert len(failed) == 1
    # Said with nothing more than the exception's way up between: not after a second wait.
    assert said - failed[0] < wait_s, said - failed[0]


def test_an_add_stopped_midway_leaves_the_requests_running(commune, tmp_path, monkeypatch):
    # An add stopped by an error kept its meter among the requests running as long as its
    # traceback lived (a server keeps it in its log's record, a caller in a variable): every
    # answer meanwhile had its CPU time divided by one more in its ledger row.
    import commune.ingest.pipeline as pipeline
    from commune.account.energy import _InFlight

    folder = _minutes(tmp_path / "pv", 3, "pv")
    store, calls = pipeline.store, []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the disk went away")
        return store(*args, **kwargs)

    monkeypatch.setattr(pipeline, "store", failing)
    running = _InFlight.running
    with pytest.raises(RuntimeError, match="the disk went away") as stopped:
        commune.add([folder], collection="pv", licence="etalab-2.0")
    assert stopped.value.__traceback__ is not None  # kept, as a log record keeps it
    assert _InFlight.running == running
    [entry] = [e for e in commune.audit_entries() if e["action"] == "add-stopped"]
    assert json.loads(entry["details"])["why"] == "the disk went away"


def test_an_add_the_ray_cluster_refuses_before_storing_anything_writes_nothing(
    tmp_path, monkeypatch
):
    # A cluster refused at once (half a CPU; out of reach; Ray not installed) stopped the add
    # before it stored a thing, and 62bdb91d recorded it all the same: an ingest run of
    # nothing, a ledger row billing the collection's member for the refusal, and an
    # add-stopped entry in the audit log. A refused add writes nothing, as a refused upload
    # or question counts none and a folder with nothing to read writes nothing.
    from click.testing import CliRunner

    import commune.ingest.distributed as distributed
    from commune.cli import cli
    from commune.core import Commune
    from commune.store.schema import audit_log, ingest_runs, usage

    class Half(_LocalRay):
        def cluster_resources(self) -> dict[str, float]:
            return {"CPU": 0.5}

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pv.md").write_text("# PV\n\nLe conseil municipal a voté le budget.")
    home = tmp_path / "h"
    add = ["--home", str(home), "add", str(folder), "--collection", "pv"]
    assert CliRunner().invoke(cli, [*add, "--licence", "etalab-2.0"]).exit_code == 0

    def rows():  # type: ignore[no-untyped-def]
        with Commune(home) as c, c.engine.connect() as conn:
            return tuple(
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (ingest_runs, usage, audit_log)
            )

    before = rows()
    (folder / "budget.md").write_text("# Budget\n\nLe budget primitif est adopté.")
    monkeypatch.setattr(distributed, "connect", lambda address: Half())
    out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, [*add, "--ray", "127.0.0.1:6379"])
    assert out.exit_code == 2, out.output
    assert "has 0.5 CPU, less than the one a worker needs" in out.stderr, out.stderr
    assert rows() == before


# A driver whose cluster loses a worker mid-job: Ray's core writes its own lines on the
# process's stderr itself (file descriptor 2, not Python's sys.stderr), as Ray 2.60 did.
_RAY_CORE_WRITES = """
import os, sys
import commune.ingest.distributed as d
from commune.cli import cli

LINE = b"[2026-12-07 16:00:00,000 E 41 42] core_worker.cc:1234: Failed to push error to driver\\n"
LINE = b"" if os.environ.get("RAY_SAYS_NOTHING") else LINE

class Ray:
    def __init__(self):
        self.data = self
    def cluster_resources(self):
        return {"CPU": 2.0}
    def shutdown(self):
        os.write(2, LINE)
    def ActorPoolStrategy(self, size):
        return size
    def from_items(self, items):
        return self
    def map_batches(self, *args, **kwargs):
        return self
    def iter_rows(self):
        os.write(2, LINE)
        raise RuntimeError("The worker died unexpectedly")
        yield

d.connect = lambda address: Ray()
sys.exit(cli())
"""


def test_ray_s_own_lines_stay_out_of_the_terminal_of_an_add(tmp_path):
    # A worker dying during `commune add --ray`: Ray's core wrote "Failed to push error to
    # driver" lines on the terminal, above and below the add's one line, whatever the level
    # of its Python loggers. They now go to a file of Ray's logs (here the temporary
    # directory: this Ray has none), and the terminal keeps the add's one line.
    import os
    import subprocess
    import sys

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pv.md").write_text("# PV\n\nLe conseil municipal a voté le budget.")
    add = ["--home", str(tmp_path / "h"), "add", str(folder), "--licence", "etalab-2.0"]
    out = subprocess.run(
        [sys.executable, "-c", _RAY_CORE_WRITES, *add, "--ray", "127.0.0.1:1"],
        env={**os.environ, "LANGUAGE": "fr", "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "erreur\u00a0: le cluster Ray à 127.0.0.1:1 a échoué, rien n'a été ajouté\u00a0: The "
        "worker died unexpectedly (voyez `ray status`, puis relancez la même commande pour "
        "finir\u00a0: les fichiers déjà enregistrés sont passés)"
    ], out.stderr
    [kept] = tmp_path.glob("commune-add-*.err")
    assert kept.read_text().count("Failed to push error to driver") == 2
    # A Ray that says nothing leaves no empty file behind.
    kept.unlink()
    quiet = subprocess.run(
        [sys.executable, "-c", _RAY_CORE_WRITES, *add, "--ray", "127.0.0.1:1"],
        env={**os.environ, "LANGUAGE": "fr", "TMPDIR": str(tmp_path), "RAY_SAYS_NOTHING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert quiet.returncode == 2 and not list(tmp_path.glob("commune-add-*.err")), quiet.stderr


# A cluster that refuses each file of its window, Ray's core saying so on file descriptor 2.
_RAY_REFUSES_EACH = """
import os, sys
import commune.ingest.distributed as d
from commune.cli import cli
from commune.ingest.pipeline import FileOutcome

class Ray:
    def cluster_resources(self):
        return {"CPU": 2.0}
    def shutdown(self):
        pass

def prepared(ray, workers, engine, settings, model, coll_id, window, *rest):
    for path, source, data in window:
        os.write(2, b"[2026-12-07 16:00:00,000 E 41 42] core_worker.cc:1234: worker died\\n")
        yield FileOutcome(str(path), "failed", error=f"{path}: lost on the cluster")

d.connect = lambda address: Ray()
d._prepared = prepared
sys.exit(cli())
"""


def test_the_bar_of_an_add_on_ray_stays_on_the_terminal_when_it_began_before_the_cluster(
    tmp_path,
):
    # `commune add --ray` run again to finish: its first files unchanged, the bar began on the
    # terminal before the add connected to the cluster, and kept the stderr it began on, which
    # then went to Ray's file: the bar stood still at 25 % on the terminal, its steps written
    # among Ray's lines in commune-add-PID.err.
    import os
    import pty
    import subprocess
    import sys

    from click.testing import CliRunner

    from commune.cli import cli

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nLe conseil municipal a voté le budget.")
    add = ["--home", str(tmp_path / "h"), "add", str(folder), "--licence", "etalab-2.0"]
    assert CliRunner().invoke(cli, add).exit_code == 0
    for name in "bcd":
        (folder / f"{name}.md").write_text(f"# {name}\n\nLe conseil délibère sur le point {name}.")
    leader, follower = pty.openpty()
    env = {**os.environ, "LANGUAGE": "en", "TMPDIR": str(tmp_path)}
    command = [sys.executable, "-c", _RAY_REFUSES_EACH, *add, "--ray", "127.0.0.1:1"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=follower) as proc:
        os.close(follower)
        shown = read_terminal(leader)
        assert proc.wait(timeout=300) == 1, shown
    os.close(leader)
    terminal = shown.decode()
    assert "25%" in terminal and "100%" in terminal, terminal
    assert terminal.count("lost on the cluster") == 3, terminal
    [kept] = tmp_path.glob("commune-add-*.err")
    assert kept.read_text().count("worker died") == 3
    assert "ingesting" not in kept.read_text()


def test_an_add_on_ray_interrupted_mid_job_ends_in_one_line(tmp_path, monkeypatch):
    # Ctrl-C while a window's job ran on a real cluster: above "interrupted before the first
    # file" came sixty lines of Ray Data's traceback ("Ray has not been started yet"). Since
    # 70c178f7 the job's rows are read on a thread of their own, which the add's shutdown
    # of Ray left inside Ray Data, whose log said its failure. Reproduced on a real head
    # node; Ray Data is played here as it behaved: its logger has a console handler of its
    # own, and its reading thread logs its failure once Ray is shut down under it.
    import logging
    import sys
    import threading

    from click.testing import CliRunner

    import commune.ingest.distributed as distributed
    from commune.cli import cli

    ray_data = logging.getLogger("ray.data")
    level, handlers = ray_data.level, list(ray_data.handlers)

    class Stopped(_LocalRay):
        def __init__(self) -> None:
            super().__init__()
            self.looks, self.down, self.logged = 0, threading.Event(), threading.Event()
            ray_data.addHandler(logging.StreamHandler(sys.stderr))  # as importing ray.data

        def cluster_resources(self) -> dict[str, float]:
            self.looks += 1
            if self.looks == 2:  # the add's second look, while the job's rows are awaited
                raise KeyboardInterrupt
            return {"CPU": 2.0}

        def shutdown(self) -> None:
            self.down.set()
            self.logged.wait(10)

        def from_items(self, items):  # type: ignore[no-untyped-def]
            ray = self

            def rows():  # type: ignore[no-untyped-def]
                ray.down.wait(10)
                try:
                    raise RuntimeError("Ray has not been started yet")
                except RuntimeError:
                    logging.getLogger("ray.data.exceptions").exception("Full stack trace:")
                finally:
                    ray.logged.set()
                yield from ()

            job = type("Rows", (), {"iter_rows": staticmethod(rows)})()
            return type("Job", (), {"map_batches": lambda *a, **k: job})()

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pv.md").write_text("# PV\n\nLe conseil municipal a voté le budget.")
    monkeypatch.setattr(distributed, "connect", lambda address: Stopped())
    monkeypatch.setattr(distributed, "WATCH_SECONDS", 0.05)
    add = ["--home", str(tmp_path / "h"), "add", str(folder), "--licence", "etalab-2.0"]
    try:
        out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, [*add, "--ray", "127.0.0.1:1"])
    finally:
        ray_data.handlers[:] = handlers
        ray_data.setLevel(level)
    assert out.exit_code == 130, out.output
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("interrupted before the first file")


def test_ctrl_c_while_another_process_holds_the_database_ends_the_add_within_a_second(
    tmp_path, monkeypatch
):
    # `commune add` silent, waiting for a write lock another process held (a long purge, a
    # sqlite3 shell left in a transaction): Ctrl-C, and the recording of the stopped run
    # waited for the same lock, busy_timeout's 30 s, silent again, before the add ended.
    # The record of a stopped run waits a second at most: the person asked to stop.
    import sqlite3

    import commune.ingest.pipeline as pipeline
    from commune.core import Commune

    wait_s = 3
    _busy_timeout(monkeypatch, wait_s)
    folder = _minutes(tmp_path / "pv", 3, "pv")
    home = tmp_path / "home"
    store, calls, pressed = pipeline.store, [], []
    holder = None

    def locked(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal holder
        calls.append(1)
        if len(calls) == 2:  # another process holds the write lock; the person presses Ctrl-C
            holder = sqlite3.connect(home / "commune.db", isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            pressed.append(time.monotonic())
            raise KeyboardInterrupt
        return store(*args, **kwargs)

    with Commune(home) as c:
        c.add([folder / "pv-0.md"], collection="pv", licence="etalab-2.0")
        monkeypatch.setattr(pipeline, "store", locked)
        try:
            with pytest.raises(KeyboardInterrupt):
                c.add([folder], collection="pv", licence="etalab-2.0")
            ended = time.monotonic()
        finally:
            if holder is not None:
                holder.rollback()
                holder.close()
    # Not after busy_timeout's wait (3 s here, 30 s in a home).
    assert ended - pressed[0] < wait_s, ended - pressed[0]
