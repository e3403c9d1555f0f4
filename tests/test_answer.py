import pytest


@pytest.fixture
def loaded(commune, corpus):  # type: ignore[no-untyped-def]
    commune.add([corpus], collection="mairie", licence="etalab-2.0", publisher="Ville")
    return commune


def passage(text: str, language: str):  # type: ignore[no-untyped-def]
    """One passage found, in ``language``, as :func:`candidates` reads it."""
    from commune.answering.retrieve import Hit

    return Hit(1, 1, "t", "", "", 1.0, None, text, "c", language, None, None, None, None,
               1, 1, 0.5, 0.5)  # fmt: skip


def death_passages():  # type: ignore[no-untyped-def]
    """Two passages found: a sentence, and a list announced by a sentence ending in a colon."""
    other = passage(
        "Le décès doit être déclaré dans les 24 heures qui suivent sa constatation.", "fr"
    )
    papers = passage(
        "La personne qui déclare le décès doit se rendre en mairie avec :\n\n"
        "- sa pièce d'identité\n\n- le certificat de décès",
        "fr",
    )
    return other, papers


def test_french_question_gets_cited_french_sentences(loaded):
    a = loaded.ask("Quel jour a lieu la collecte des ordures ménagères ?")
    assert a.found and a.language == "fr" and a.mode == "extractive"
    assert "mardi matin" in a.text
    assert "[1]" in a.text
    cited = {s["source"] for s in a.sentences}
    assert cited == {s.n for s in a.sources}
    src = a.sources[0]
    assert src.title == "Gestion des déchets" and src.licence == "etalab-2.0"
    assert src.source.endswith("dechets.html")


def test_english_question_gets_cited_english_sentences(loaded):
    a = loaded.ask("How long can I keep borrowed books?")
    assert a.found and a.language == "en"
    assert "three weeks" in a.text
    assert all(f"[{s['source']}]" in a.text for s in a.sentences)


def test_every_sentence_is_quoted_verbatim_from_its_source(loaded):
    a = loaded.ask("Comment s'inscrire à la cantine ?")
    for s in a.sentences:
        hit_texts = [h.text for h in loaded.search(s["text"], k=3)]
        assert any(s["text"] in t for t in hit_texts)


def test_nothing_relevant_says_so_plainly(loaded):
    a = loaded.ask("Quelle est la recette de la tarte aux pommes ?")
    assert not a.found and a.sources == []
    assert "aucun passage pertinent" in a.text
    a = loaded.ask("What is the boiling point of mercury in kelvin?")
    assert not a.found and "no relevant passage" in a.text


def test_empty_question_is_refused(loaded):
    with pytest.raises(ValueError, match="question is empty"):
        loaded.ask(" ")


def test_a_sentence_found_in_two_documents_is_quoted_once(commune, tmp_path):
    text = (
        "# Recherche\n\nUse dpkg -S to find which package contains a given file on the system. "
        "The command apt-file searches packages that are not installed yet.\n"
    )
    for name in ("fr.md", "en.md"):
        (tmp_path / name).write_text(text, encoding="utf-8")
    commune.add([tmp_path / "fr.md", tmp_path / "en.md"], licence="etalab-2.0")
    a = commune.ask("Which package contains a given file?")
    quoted = [s["text"] for s in a.sentences]
    assert len(quoted) == len(set(quoted)) and quoted


def test_a_passage_with_no_sign_of_the_question_is_not_quoted(commune, tmp_path):
    """No passage passes the fixed bars, yet the question is answerable: the best passages
    found serve, and in a commons of two documents they included a DNS manual's, with no
    word of the question and a cosine below 0 (found by an exploratory test)."""
    (tmp_path / "dechets.md").write_text(
        "# Gestion des déchets\n\n## Collecte\n\nLa collecte des ordures ménagères a lieu le "
        "mardi matin. Les bacs doivent être sortis la veille au soir après 19 heures.\n\n"
        "## Déchetterie\n\nLa déchetterie municipale est ouverte du lundi au samedi de 9 "
        "heures à 18 heures. L'accès est gratuit pour les habitants sur présentation d'un "
        "justificatif de domicile.\n",
        encoding="utf-8",
    )
    (tmp_path / "dns.md").write_text(
        "# Configuring a DNS server\n\n## Installing bind9\n\nTo configure a DNS server on "
        "Debian, install the bind9 package with apt. The main configuration file is "
        "/etc/bind/named.conf.\n\n## Zones\n\nEach zone is declared in named.conf.local and "
        "its records are kept in a zone file under /var/cache/bind.\n",
        encoding="utf-8",
    )
    commune.add([tmp_path / "dechets.md", tmp_path / "dns.md"], licence="CC0-1.0")
    a = commune.ask("Horaires de la déchetterie ?")
    assert a.found and "de 9 heures à 18 heures" in a.sentences[0]["text"]
    assert {s.title for s in a.sources} == {"Gestion des déchets"}, a.text


def test_the_kind_of_fact_asked_for_and_held():
    from commune.answering.answer_types import asked, held

    wants = asked("Ma femme a accouché, on a combien de temps pour déclarer le bébé ?")
    assert wants["duration"] and not wants["file"]
    assert asked("Which file holds the list of package sources?")["file"]
    assert asked("How much does a passport cost?")["amount"]
    assert held("La déclaration est faite dans les 5 jours qui suivent.")["duration"]
    assert not held("La déclaration est faite à la mairie.")["duration"]
    assert held("Le timbre fiscal coûte 86 €.")["amount"]
    assert held("Les dépôts sont listés dans /etc/apt/sources.list.")["file"]
    # Kept once computed, and shared between answers: nobody can change it for the next one.
    kinds = held("Le timbre fiscal coûte 86 €.")
    assert kinds is held("Le timbre fiscal coûte 86 €.")
    with pytest.raises(TypeError):
        kinds["amount"] = False  # type: ignore[index]


def test_a_name_the_passages_never_mention_counts_against_answering(loaded):
    from commune.answering.refusal import FEATURES, features

    hits = loaded.search("Quel jour a lieu la collecte des ordures ménagères ?", k=5)
    column = FEATURES.index("names_missing")
    near = features("Quel jour a lieu la collecte des ordures à Villeurbanne ?", "fr", hits, True)
    plain = features("Quel jour a lieu la collecte des ordures ménagères ?", "fr", hits, True)
    assert near[column] == 1 and plain[column] == 0


def test_companions_are_the_best_documents_other_passages(commune, tmp_path):
    # One document of several sections: its other passages come beside a hit, closest in
    # meaning first, never one already among the hits, and with no rank of their own.
    sections = [
        ("Horaires", "La piscine ouvre à 9 heures et ferme à 20 heures en semaine."),
        ("Tarifs", "L'entrée coûte 3 euros pour les adultes et 1,50 euro pour les enfants."),
        ("Accès", "La piscine se trouve rue des Lilas, derrière le gymnase municipal."),
        ("Règlement", "Le bonnet de bain est obligatoire dans les bassins de la piscine."),
    ]
    page = "\n\n".join(f"# {title}\n\n{body}" for title, body in sections)
    (tmp_path / "piscine.md").write_text(f"# La piscine\n\n{page}\n", encoding="utf-8")
    commune.add([tmp_path / "piscine.md"], collection="mairie", licence="etalab-2.0")
    hits = commune.search("Combien coûte l'entrée de la piscine ?", k=1)
    others = commune.searcher.companions(
        "Combien coûte l'entrée de la piscine ?", hits[0], {hits[0].chunk_id}, 2
    )
    assert 1 <= len(others) <= 2
    assert all(o.document_id == hits[0].document_id for o in others)
    assert hits[0].chunk_id not in {o.chunk_id for o in others}
    assert all(o.lexical_rank is None and o.dense_rank is None for o in others)
    assert [o.cosine for o in others] == sorted((o.cosine for o in others), reverse=True)
    assert commune.searcher.companions("piscine", hits[0], set(), 0) == []


def test_an_answer_keeps_to_its_word_budget_best_sentence_first():
    import numpy as np

    from commune.answering.answer import Candidate, choose

    long = " ".join(["mot"] * 50)
    cands = [
        Candidate(0, 0, "Première phrase du passage, sans le fait demandé.", False),
        Candidate(0, 1, long, False),
        Candidate(1, 0, "Le délai est de cinq jours après la naissance.", False),
        Candidate(0, 2, "Une troisième phrase du même passage, encore une.", False),
    ]
    scores = np.asarray([0.5, 0.4, 0.9, 0.3])
    chosen = choose(cands, scores, max_words=30)
    assert chosen[0] == 2  # the best first, whatever its place
    assert 1 not in chosen  # fifty words do not fit a budget of thirty
    assert sum(len(cands[i].text.split()) + 1 for i in chosen) <= 30
    # The first sentence is always given, even past the budget: an answer is never empty.
    assert choose(cands, np.asarray([0.1, 0.9, 0.2, 0.0]), max_words=10) == [1]


def test_a_sentence_within_one_already_quoted_is_not_quoted_again():
    """A fiche's reference line "Où s'adresser : X — URL" and X alone in another passage:
    the second adds nothing. Whole words only: "5 ans." is not within "15 ans."."""
    import numpy as np

    from commune.answering.answer import Candidate, choose

    where = "Mairie délivrant des passeports — https://passeport.ants.gouv.fr/"
    cands = [
        Candidate(0, 0, f"Où s'adresser : {where}", False),
        Candidate(1, 0, where, False),
        Candidate(1, 1, "La concession dure 15 ans.", False),
        Candidate(2, 0, "dure 5 ans.", False),
        Candidate(2, 1, "Le passeport est valable 10 ans pour un majeur.", False),
    ]
    chosen = choose(cands, np.asarray([0.9, 0.8, 0.7, 0.6, 0.5]), max_words=60)
    assert chosen == [0, 2, 3, 4]
    # A line of code within a sentence that names it is still shown: it is the line to type.
    code = [
        Candidate(0, 0, "Run apt update first.", False),
        Candidate(1, 0, "apt update", True),
    ]
    assert choose(code, np.asarray([0.9, 0.8]), max_words=60) == [0, 1]


def test_a_sentence_whose_translated_aside_differs_is_quoted_once():
    """The French handbook keeps some boxes in English with their cross-references
    translated: the same sentence, but for its aside. An aside that is the only difference
    between two lines of code still keeps both (set apart as code, each is a line to type)."""
    import numpy as np

    from commune.answering.answer import Candidate, choose

    en = "To find the package a local file belongs to, use dpkg -S file (see Section 5.4.3)."
    fr = "To find the package a local file belongs to, use dpkg -S file (voir la section 5.4.3)."
    cands = [
        Candidate(0, 0, en, False),
        Candidate(1, 0, fr, False),
        Candidate(1, 1, "dpkg -L package lists the files of an installed package.", False),
    ]
    assert choose(cands, np.asarray([0.9, 0.8, 0.7]), max_words=60) == [0, 2]
    bare = en.replace(" (see Section 5.4.3)", "")  # the same sentence without an aside
    for pair in ([en, bare], [bare, en]):
        two = [Candidate(0, 0, pair[0], False), Candidate(1, 0, pair[1], False)]
        assert choose(two, np.asarray([0.9, 0.8]), max_words=60) == [0]
    code = [Candidate(0, 0, "ls (a)", True), Candidate(1, 0, "ls (b)", True)]
    assert choose(code, np.asarray([0.9, 0.8]), max_words=60) == [0, 1]


def test_a_list_item_or_a_label_is_not_quoted_alone():
    """A fiche's list items ("Siège social,") and labels ("Modification des statuts") rank
    high for their words but tell a reader nothing alone; a short sentence still counts."""
    import numpy as np

    from commune.answering.answer import Candidate, choose

    cands = [
        Candidate(0, 0, "La déclaration est faite dans les 3 mois.", False),
        Candidate(0, 1, "Modification des statuts", False),
        Candidate(1, 0, "Siège social,", False),
        Candidate(1, 1, "Ouverture ou fermeture d'un établissement", False),
        Candidate(2, 0, "C'est gratuit.", False),
        Candidate(2, 1, "apt update", True),
    ]
    chosen = choose(cands, np.asarray([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), max_words=60)
    assert chosen == [0, 4, 5]


def test_an_answer_whose_best_sentence_stands_out_is_the_shorter_one():
    import numpy as np

    from commune.answering.answer import Candidate, sentence_model

    scorer = sentence_model()
    # The shipped model keeps a longer budget for the least sure answers (train_answer.py).
    assert scorer.uncertain_words > scorer.max_words and scorer.confident_gap > 0
    cands = [
        Candidate(0, 0, "La déclaration est faite dans les 5 jours.", False),
        Candidate(1, 0, "La déclaration est faite à la mairie du lieu de naissance.", False),
        Candidate(2, 0, "Le livret de famille est mis à jour.", False),
    ]
    far = scorer.confident_gap + 1.0
    assert scorer.budget(cands, np.asarray([far, 0.0, -1.0])) == scorer.max_words
    close = np.asarray([1.0, 1.0 - scorer.confident_gap / 2, 0.0])
    assert scorer.budget(cands, close) == scorer.uncertain_words
    # The same sentence in two documents is no rival: the gap is read to the next one.
    twins = [cands[0], Candidate(1, 0, cands[0].text, False), cands[2]]
    assert scorer.budget(twins, np.asarray([far, far, 0.0])) == scorer.max_words
    assert scorer.budget(cands[:1], np.asarray([2.0])) == scorer.max_words  # nothing to weigh


def test_equal_sentences_share_a_rank_and_more_of_the_question_never_scores_lower():
    """The dpkg case of the demo: the line holding every term of "which package contains a
    file" was ranked below one holding two of them, since a copy of it, first in another
    page, took rank one and the trees had learned a dip between feature values."""
    import numpy as np

    from commune.answering.answer import (
        FEATURES,
        Candidate,
        candidate_features,
        sentence_model,
    )
    from commune.answering.retrieve import Hit

    def hit(doc: int) -> Hit:
        return Hit(
            document_id=doc,
            chunk_id=doc,
            title="t",
            source="",
            section="",
            score=1.0,
            licence=None,
            text="x",
            collection="c",
            language="en",
            anchor=None,
            page=None,
            contributor=None,
            publisher=None,
            lexical_rank=1,
            dense_rank=1,
            cosine=0.5,
            coverage=0.5,
        )

    search = "--search file (or -S), which finds the package(s) containing the file;"
    cands = [
        Candidate(0, 0, search, True),
        Candidate(1, 0, "--contents file.deb (or -c), which lists the files of a package;", True),
        Candidate(1, 1, search, True),
    ]
    q = "How can I find which package contains a file?"
    x = candidate_features(q, "en", cands, [hit(1), hit(2)], np.asarray([0.5, 0.4, 0.5]))
    cos_rank, ov_rank = FEATURES.index("cosine_rank"), FEATURES.index("overlap_rank")
    assert x[0, cos_rank] == x[2, cos_rank] == 1.0  # both first, neither second
    assert x[0, ov_rank] == x[2, ov_rank] == 1.0 > x[1, ov_rank]
    # The shipped ranker (trained with monotone constraints, bench/train_answer.py): raising
    # a sentence's overlap or meaning, all else equal, never lowers its score.
    scorer = sentence_model()
    scores = scorer.score(x)
    assert scores[0] > scores[1] < scores[2]  # the line with every term above the other
    for name in ("overlap", "cosine", "overlap_rank", "cosine_rank", "cosine_gap", "overlap_gap"):
        f = FEATURES.index(name)
        rows = np.repeat(x[1:2], 11, axis=0)
        low = -1.0 if name.endswith("_gap") else 0.0  # a gap to the best is at most 0
        rows[:, f] = np.linspace(low, low + 1.0, 11)
        assert np.all(np.diff(scorer.score(rows)) >= 0), name


def test_a_sentence_that_announces_a_list_is_quoted_with_its_first_item():
    """ "… doit se rendre en mairie avec :" was quoted without what it announced: its list's
    items are fragments, never quoted alone, and score below the sentence."""
    import numpy as np

    from commune.answering.answer import candidates, choose, gap

    delay = passage(
        "La déclaration de décès doit être faite dans les 24 heures qui suivent le décès.", "fr"
    )
    papers = passage(
        "La personne qui déclare le décès doit se rendre en mairie avec :\n\n"
        "- sa pièce d'identité\n\n- le certificat de décès",
        "fr",
    )
    cands = candidates([delay, papers])
    texts = [c.text for c in cands]
    announce = texts.index("La personne qui déclare le décès doit se rendre en mairie avec :")
    scores = np.zeros(len(cands))
    scores[announce], scores[0] = 2.0, 1.0
    quoted = [texts[i] for i in choose(cands, scores, max_words=60)]
    assert quoted == [texts[announce], "sa pièce d'identité", texts[0]]
    # An item not announced stays unquoted, however it scores.
    scores[:] = 0.0
    scores[texts.index("le certificat de décès")], scores[0] = 3.0, 1.0
    assert "le certificat de décès" not in [texts[i] for i in choose(cands, scores, 60)]
    # No room for the pair after a first sentence: the announcement alone, as before.
    scores[:] = 0.0
    scores[0], scores[announce] = 2.0, 1.0
    tight = len(texts[0].split()) + len(texts[announce].split()) + 2
    assert [texts[i] for i in choose(cands, scores, max_words=tight)] == [
        texts[0],
        texts[announce],
    ]
    # The announcement first, with no room for its item: alone too, the budget kept.
    scores[:] = 0.0
    scores[announce], scores[0] = 2.0, 1.0
    assert [texts[i] for i in choose(cands, scores, max_words=5)] == [texts[announce]]
    # The rival the budget reads (how far the best stands out) is the next sentence by its
    # own score, not the item the best one brings.
    scores[:] = -1.0
    scores[announce], scores[0] = 2.0, 1.5
    assert gap(cands, scores) == pytest.approx(0.5)


def test_a_list_item_chosen_first_comes_after_the_sentence_announcing_it():
    """A list's item scoring best opened the answer with a lowercase fragment ("une amende
    civile d'un maximum de 10 000 €,"), the sentence that says what it answers left out: it
    now comes first, the item right after it. Not for a command, nor for an item chosen
    after the first sentence."""
    import numpy as np

    from commune.answering.answer import Candidate, candidates, choose

    fine = passage(
        "La personne ainsi condamnée risque alors :\n\n"
        "- une amende civile d'un maximum de 10 000 €,\n\n- des dommages et intérêts.",
        "fr",
    )
    other = passage("Cette condamnation est prononcée par le tribunal qui a jugé l'affaire.", "fr")
    cands = candidates([fine, other])
    texts = [c.text for c in cands]
    lead = texts.index("La personne ainsi condamnée risque alors :")
    item = texts.index("une amende civile d'un maximum de 10 000 €,")
    last = texts.index(other.text)
    scores = np.zeros(len(cands))
    scores[item], scores[last], scores[lead] = 3.0, 2.0, -1.0
    assert [texts[i] for i in choose(cands, scores, max_words=60)] == [
        texts[lead],
        texts[item],
        texts[last],
    ]
    # The margin is read from the best one's score, not from its announcement's.
    assert [texts[i] for i in choose(cands, scores, max_words=60, margin=0.5)] == [
        texts[lead],
        texts[item],
    ]
    # No room for both: the item alone, as before.
    assert [texts[i] for i in choose(cands, scores, max_words=12)][0] == texts[item]
    # The item second: it keeps its place, its announcement unquoted, as before.
    scores[item], scores[last] = 2.0, 3.0
    chosen = [texts[i] for i in choose(cands, scores, max_words=60)]
    assert chosen[:2] == [texts[last], texts[item]] and texts[lead] not in chosen
    # A command first stands alone: what to type answers "how do I" as it is.
    cands = [
        Candidate(0, 0, "Pour l'installer, on exécute :", False),
        Candidate(0, 1, "apt install paquet-exemple", True),
    ]
    assert [cands[i].text for i in choose(cands, np.asarray([0.0, 1.0]), 60)] == [
        "apt install paquet-exemple"
    ]
    # The same short announcement before a prose item: quoted, though never alone.
    cands[1] = Candidate(0, 1, "la commande apt install suivie du nom du paquet,", False)
    assert [cands[i].text for i in choose(cands, np.asarray([0.0, 1.0]), 60)] == [
        "Pour l'installer, on exécute :",
        "la commande apt install suivie du nom du paquet,",
    ]


def test_what_the_first_sentence_announces_follows_it_in_the_answer(commune, monkeypatch):
    """The answer orders the sentences after the first by passage: the item the first
    sentence announces came after the other passages' sentences, away from its "avec :"."""
    from commune.answering import answer as answer_module
    from commune.answering.answer import candidates, extractive_answer

    other, papers = death_passages()
    cands = candidates([other, papers])
    assert [c.hit for c in cands] == [0, 1, 1, 1]
    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [other, papers])
    monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([1, 2, 0]))
    a = extractive_answer("Que faut-il apporter à la mairie ?", [other, papers], commune.embedder)
    assert [s["text"][:20] for s in a.sentences] == [
        "La personne qui décl",
        "sa pièce d'identité",  # right after what announces it, not after the other passage
        "Le décès doit être d",
    ]
    # The list goes on in the source ("le certificat de décès"): a mark says so, outside the
    # quote itself, so that the first item does not read as the whole list.
    assert a.text.startswith(
        "La personne qui déclare le décès doit se rendre en mairie avec : [1] "
        "sa pièce d'identité […] [1] Le décès"
    )
    assert a.sentences[1]["text"] == "sa pièce d'identité" and a.sentences[1]["more"]
    # Its last item quoted: nothing left out, no mark; a sentence after a list is no item.
    monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([1, 2, 3]))
    whole = extractive_answer("Que faut-il apporter ?", [other, papers], commune.embedder)
    assert "[…]" not in whole.text
    one = passage(
        "La personne qui déclare le décès doit se rendre en mairie avec :\n\n"
        "- sa pièce d'identité\n\nLa mairie établit ensuite l'acte de décès.",
        "fr",
    )
    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [other, one])
    monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([1, 2]))
    a = extractive_answer("Que faut-il apporter ?", [other, one], commune.embedder)
    assert "sa pièce d'identité [1]" in a.text and "[…]" not in a.text


def test_an_announcement_quoted_without_what_it_announces_is_marked(commune, monkeypatch):
    """A sentence ending in a colon whose item the answer does not quote (it did not fit the
    budget) ended the answer in mid-air: "[…]" says the source goes on. A sentence without a
    colon, or one whose item the answer quotes, before or after it, has no mark."""
    from dataclasses import replace

    from commune.answering import answer as answer_module
    from commune.answering.answer import extractive_answer

    other, papers = death_passages()
    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [other, papers])
    for first in ([1, 0], [0, 1]):  # the announcement first, or after another sentence
        monkeypatch.setattr(answer_module, "choosing", lambda *a, f=first, **k: iter(f))
        a = extractive_answer("Que faut-il apporter ?", [other, papers], commune.embedder)
        assert "doit se rendre en mairie avec : […] [" in a.text
        announcement = next(s for s in a.sentences if s["text"].endswith("avec :"))
        assert announcement["more"] and announcement["text"].endswith("en mairie avec :")
        assert "sa constatation. [" in a.text  # the other sentence has no mark
    # Quoted with its item, the announcement needs none: the item says whether more follows;
    # so too where the item was chosen first, and keeps its place before it.
    for order in ([1, 2, 3], [0, 1, 2], [2, 1]):
        monkeypatch.setattr(answer_module, "choosing", lambda *a, o=order, **k: iter(o))
        a = extractive_answer("Que faut-il apporter ?", [other, papers], commune.embedder)
        assert "avec : [" in a.text and "avec : […]" not in a.text
    # A passage ending on its announcement: the rest is in the next passage, which another
    # sentence of the same document quoted may be; of another document, it is not.
    cut = passage(
        "Pour la déclaration, il faut se rendre en mairie avec les papiers suivants :", "fr"
    )
    rest = passage("Le livret de famille est demandé dans tous les cas.", "fr")
    for document, marked in ((1, False), (2, True)):
        hits = [cut, replace(rest, document_id=document, chunk_id=2)]
        monkeypatch.setattr(answer_module, "answer_context", lambda *a, h=hits, **k: h)
        monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([0, 1]))
        a = extractive_answer("Que faut-il apporter ?", hits, commune.embedder)
        assert ("suivants : […] [1]" in a.text) is marked


def test_a_list_goes_on_as_its_passage_says():
    """What the "[…]" mark after an announced item reads: whether the passage goes on with
    its list, whatever the candidates kept (a short line between two lists is none)."""
    from commune.answering.answer import candidates

    hit = passage(
        "Pour un majeur :\n\n- sa pièce d'identité\n\nMineur :\n\n"
        "- le livret de famille. Il doit être à jour.\n\n- un justificatif\n\n"
        "Exemple :\n\nnameserver 192.0.2.1\nnameserver 192.0.2.2\n\n"
        "- chaque minute :\n\n* * * * * root /usr/local/bin/sonde\n*/5 * * * * root /bin/true\n\n"
        "Fin du passage ici.",
        "fr",
    )
    more = {c.text: c.more for c in candidates([hit])}
    assert more == {
        "Pour un majeur :": False,  # prose: no list's item
        "sa pièce d'identité": False,  # the next block ("Mineur :", too short to quote) is no item
        "le livret de famille.": True,  # its own item goes on
        "Il doit être à jour.": True,  # the next block is an item
        "un justificatif": False,
        "nameserver 192.0.2.1": True,
        "nameserver 192.0.2.2": False,
        "chaque minute :": False,  # a crontab follows: a listing, though "* " opens it
        "* * * * * root /usr/local/bin/sonde": True,
        "*/5 * * * * root /bin/true": False,
        "Fin du passage ici.": False,
    }


def test_a_numbered_item_is_one_candidate_however_short():
    """The sentence splitter read "1." as a sentence's end: "1. Passeport" became "1." and
    "Passeport", each too short to quote, and neither read as the list's item."""
    from commune.answering.answer import candidates

    hit = passage(
        "Pièces à fournir :\n\n1. Passeport\n\n2. Photo. Elle doit dater de moins de 6 mois."
        "\n\n3) Justificatif de domicile\n\n100. Timbre fiscal\n\n- $ apt update\n\n- Redémarrez",
        "fr",
    )
    assert [(c.text, c.more, c.code) for c in candidates([hit])] == [
        ("Pièces à fournir :", False, False),  # prose: no list's item
        ("Passeport", True, False),
        ("Photo.", True, False),  # its item goes on with a sentence of its own
        ("Elle doit dater de moins de 6 mois.", True, False),
        ("Justificatif de domicile", True, False),
        ("Timbre fiscal", True, False),
        ("$ apt update", True, True),  # an item that is a command: the line to type
        ("Redémarrez", False, False),
    ]


def test_a_listing_line_without_a_letter_is_never_quoted():
    """A brace closing a block, a line's number or an elision ("}", "2", "[..]") filled an
    answer's budget after its sentences: nothing a reader can use alone."""
    import numpy as np

    from commune.answering.answer import candidates, choose

    hit = passage(
        "Add the zone to the file:\n\n"
        'zone "falcot.com" {\n  type master;\n}\n2\n[..]\n# rndc reload',
        "en",
    )
    cands = candidates([hit])
    lines = [c.text for c in cands if c.code]
    assert lines == ['zone "falcot.com" {', "type master;", "}", "2", "[..]", "# rndc reload"]
    # The lines without a letter score best, and are still passed over for the others
    # (two lines of a passage at most).
    bare = ("}", "2", "[..]")
    scores = np.asarray([3.0 if c.code and c.text in bare else 1.0 for c in cands])
    quoted = [cands[i].text for i in choose(cands, scores, max_words=200)]
    assert quoted == ['zone "falcot.com" {', "type master;"]


def test_a_list_item_is_prose_and_a_listing_comment_is_never_quoted():
    """A fiche's list items were quoted as code, bullet and all ("`- Avoir 18 ans`"), and a
    configuration file's comments as root commands ("`# The router is auto-configured`")."""
    import numpy as np

    from commune.answering.answer import candidates, choose, is_comment

    text = (
        "Vous devez remplir les conditions suivantes :\n\n"
        "- Avoir au moins 18 ans la veille du scrutin\n\n- Passeport\n\n"
        "# The router is auto-configured\n# apt install radvd\niface eth0 inet6 auto"
    )
    hit = passage(text, "fr")
    cands = candidates([hit])
    item = next(c for c in cands if "18 ans" in c.text)
    assert item.text == "Avoir au moins 18 ans la veille du scrutin" and not item.code
    assert "Passeport" in [c.text for c in cands]  # one word can be the answer
    assert [c.text for c in cands if c.code] == [
        "# The router is auto-configured",  # kept as a candidate: it announces the next line
        "# apt install radvd",
        "iface eth0 inet6 auto",
    ]
    assert is_comment("# ne pas modifier ce fichier à la main")
    assert is_comment("# TAG: localip")  # a label opens a remark too (pptpd.conf)
    assert is_comment("# or")  # small words alone join two lines: no command
    # Remarks in brackets (pptpd.conf), and a sign in brackets opening one
    assert is_comment("# (Recommended)")
    assert is_comment("# (must match the second field in /etc/ppp/chap-secrets entries)")
    assert is_comment("# (C) 2011 Truc Bidule, GPL2+")
    for command in (
        "# (cd ./source && tar cf - . ) | (cd /dest && tar xvfp - )",  # subshells
        "# (cd /usr/src/linux; make)",
        "# (apt update)",  # a subshell of one command
        "# (cat /etc/passwd)",
        "# (Xorg :1 &)",
        "# dpkg -S /usr/bin/ls",
        "# apt update",
        "# LANG=C sort fichier",
        "# X11Forwarding yes",
        "# apt install radvd  # the daemon for the router",
    ):
        assert not is_comment(command), command
    comment = next(i for i, c in enumerate(cands) if c.text.startswith("# The"))
    scores = np.zeros(len(cands))
    scores[comment] = 1.0
    assert comment not in choose(cands, scores, max_words=60)


def test_a_command_alone_in_its_listing_is_a_line_to_type():
    """A listing of one line reads as a paragraph once parsed: "$ debdiff old.dsc new.dsc"
    was prose, dropped as a fragment (a few words, no full stop) or never a candidate (fewer
    than four words), and never quoted as code (bench/README.md, item 37)."""
    from dataclasses import replace

    import numpy as np

    from commune.answering.answer import candidates, choose, is_listing

    text = (
        "To compare two versions of a package, run:\n\n"
        "$ debdiff old-package.dsc new-package.dsc\n\n"
        "# apt remove package1+ package2\n\n"
        "# The router is auto-configured\n\n"
        "The cost is $ 5 per month."
    )
    hit = passage(text, "en")
    cands = candidates([hit])
    code = [c.text for c in cands if c.code]
    assert code == ["$ debdiff old-package.dsc new-package.dsc", "# apt remove package1+ package2"]
    # A remark written as prose, a price, a text file's heading and a manual's definition
    # list stay prose: no command starts after the prompt.
    for prose in (
        "# The router is auto-configured",
        "$ 5 per month, billed yearly.",
        "# Installation",
        "# 1. Introduction",
        "$ — Correspondre à la dernière ligne.",
        "# See /usr/share/postfix/main.cf.dist for a commented, more complete version",
    ):
        assert not is_listing(prose), prose
    for command in ("$ :>file", "$ LANG=C sort x", "$ ./configure", "#  genisoimage -r -J"):
        assert is_listing(command), command
    assert is_listing("iface eth0 inet static\n    address 192.168.0.3/24")
    # Chosen first, it is quoted as code, not dropped as a fragment.
    scores = np.array([1.0 if c.text.startswith("$ debdiff") else 0.0 for c in cands])
    first = cands[choose(cands, scores, max_words=60)[0]]
    assert first.text.startswith("$ debdiff") and first.code
    # A command typed alone is kept whole up to prose's 90 words (PROSE_WORDS); a line of a
    # listing of several lines past 20 words is not.
    long = "# find / -perm 777 " + " ".join(["-a -type s"] * 8)
    assert [c.text for c in candidates([replace(hit, text=long)])] == [long]
    two = f"{long}\n$ ls"
    assert [c.text for c in candidates([replace(hit, text=two)])] == ["$ ls"]


def test_the_stream_sends_the_first_sentence_before_the_rest_is_chosen_or_recorded(
    loaded, monkeypatch
):
    """Issue 24: an answer's first sentence waited for the whole extraction, and a cached
    one for the accounting. The log interleaves what the stream sends with the work done:
    later candidates' checks, the energy record; the final answer is the one `ask` gives."""
    from commune.account.metering import Metering
    from commune.answering import answer as answer_module
    from commune.answering.answer import Answer

    log: list[str] = []
    checked = answer_module.gives_instructions
    recorded = Metering.record_usage

    def check(text):  # type: ignore[no-untyped-def]
        log.append("checked")  # a candidate considered for the answer
        return checked(text)

    def record(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        log.append("recorded")
        return recorded(self, *args, **kwargs)

    monkeypatch.setattr(answer_module, "gives_instructions", check)
    monkeypatch.setattr(Metering, "record_usage", record)
    question = "Quel jour a lieu la collecte des ordures ménagères ?"

    def streamed(**kwargs):  # type: ignore[no-untyped-def]
        log.clear()
        events = []
        for event in loaded.ask_stream(question, mode="extractive", **kwargs):
            log.append("answer" if isinstance(event, Answer) else "sentence")
            events.append(event)
        return events, list(log)

    events, order = streamed(use_cache=False)
    *texts, answer = events
    assert len(texts) == len(answer.sentences) >= 2 and "".join(texts) == answer.text
    first = order.index("sentence")
    assert "checked" in order[first:]  # the others were chosen after the first was sent
    assert first < order.index("recorded") < order.index("answer") == len(order) - 1

    def same(a):  # type: ignore[no-untyped-def]
        data = a.to_json()
        del data["decision_id"]  # each answer has its own record
        data["energy"] = {k: v for k, v in data["energy"].items() if k not in ("wh", "gco2e")}
        return data

    assert same(answer) == same(loaded.ask(question, mode="extractive", use_cache=False))

    loaded.ask(question, mode="extractive")  # kept in the cache
    events, order = streamed()
    assert events[-1].decisions[-1]["reason"] == "aucun modèle\u00a0: réponse du cache"
    assert order[0] == "sentence" and order.index("recorded") > order.index("sentence")


def test_sentences_in_the_question_language_come_before_a_translated_page_s_leftovers(
    commune, monkeypatch
):
    """The French handbook keeps some paragraphs in English: a French answer quoted one of
    them before the French sentences that followed it in its page (the passage's language is
    French, so it ranked with them). Its own words decide now, and a listing stays after the
    sentence that announces it. The first sentence, the best, keeps its place."""
    from commune.answering import answer as answer_module
    from commune.answering.answer import candidates, extractive_answer, sentence_language

    text = (
        "Le fichier /etc/apt/sources.list liste les dépôts de paquets utilisés par la machine."
        "\n\nThe extract below uses the proposed-updates alias, which is both more explicit "
        "and more consistent with the other releases."
        "\n\ndeb https://deb.debian.org/debian bookworm main\n"
        "deb-src https://deb.debian.org/debian bookworm main"
        "\n\nIl faut ensuite lancer la commande de mise à jour de la liste des paquets."
    )
    hit = passage(text, "fr")
    cands = candidates([hit])
    assert [c.code for c in cands] == [False, False, True, True, False]
    assert [sentence_language(cands, i, [hit]) for i in range(5)] == ["fr", "en", "en", "en", "fr"]

    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [hit])
    monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([0, 1, 2, 4]))
    a = extractive_answer("Où sont listés les dépôts de paquets ?", [hit], commune.embedder)
    assert [s["text"][:14] for s in a.sentences] == [
        "Le fichier /et",
        "Il faut ensuit",  # before the English paragraph, which came first in the page
        "The extract be",
        "deb https://de",  # still after the sentence that announces it
    ]


def test_a_sentence_of_another_language_than_its_passage_is_read_in_its_own():
    """The French handbook keeps English paragraphs: an English sentence of a French passage
    shares the English question's words once it is read by the English analyser."""
    import numpy as np

    from commune.answering.answer import FEATURES, Candidate, candidate_features

    english = "For any work with APT, the list of available packages needs to be updated."
    french = "Cette commande met à jour la liste des paquets disponibles sur le système."
    text = f"{french} {english}"
    hit = passage(text, "fr")
    cands = [Candidate(0, 0, french, False), Candidate(0, 1, english, False)]
    q = "How do I update the list of available packages?"
    x = candidate_features(q, "en", cands, [hit], np.asarray([0.5, 0.5]))
    overlap = FEATURES.index("overlap")
    # "list", "available", "packages", "updated": every content word of the question, read
    # by the English analyser; read as French, the question's "the", "of" and "how" count
    # as terms too, and the sentence holds about half of them.
    assert x[1, overlap] >= 0.75, x[1, overlap]
    assert x[0, overlap] < x[1, overlap]
    # A line of four words, and a listing's line, keep their passage's language.
    short = [
        Candidate(0, 0, "Update the packages list", False),
        Candidate(0, 1, english, True),
    ]
    x = candidate_features(q, "en", short, [hit], np.asarray([0.5, 0.5]))
    assert x[0, overlap] < 0.75 and x[1, overlap] < 0.75


def test_each_quoted_sentences_language_is_read_once(commune, monkeypatch):
    """A sentence after the first had its language detected twice (its place in the order,
    then its citation): once now, the same language."""
    from commune.answering import answer as answer_module
    from commune.answering.answer import extractive_answer

    other, papers = death_passages()
    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [other, papers])
    monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([0, 1]))
    read: list[int] = []
    detect = answer_module.sentence_language

    def counted(cands, i, hits):  # type: ignore[no-untyped-def]
        read.append(i)
        return detect(cands, i, hits)

    monkeypatch.setattr(answer_module, "sentence_language", counted)
    a = extractive_answer("Que faut-il apporter ?", [other, papers], commune.embedder)
    assert [s["language"] for s in a.sentences] == ["fr", "fr"]
    assert sorted(read) == [0, 1]


def test_an_item_scoring_best_is_streamed_after_its_announcement(commune, monkeypatch):
    """The real choice and the stream together: a list's item scoring best is sent after the
    sentence announcing it, the first event a reader sees, the mark of a list going on after
    the item, and the other passage's sentence after them."""
    import numpy as np

    from commune.answering import answer as answer_module
    from commune.answering.answer import Answer, candidates, extractive_stream

    other = passage("Cette condamnation est prononcée par le tribunal qui a jugé l'affaire.", "fr")
    fine = passage(
        "La personne ainsi condamnée risque alors :\n\n"
        "- une amende civile d'un maximum de 10 000 €,\n\n- des dommages et intérêts.",
        "fr",
    )
    texts = [c.text for c in candidates([other, fine])]
    item = texts.index("une amende civile d'un maximum de 10 000 €,")
    lead = item - 1
    assert texts[lead] == "La personne ainsi condamnée risque alors :"

    class Scorer:
        margin = float("inf")

        def score(self, features):  # type: ignore[no-untyped-def]
            scores = np.zeros(len(texts))
            scores[item], scores[texts.index(other.text)], scores[lead] = 3.0, 2.0, -1.0
            return scores

        def budget(self, cands, scores):  # type: ignore[no-untyped-def]
            return 60

    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [other, fine])
    monkeypatch.setattr(answer_module, "sentence_model", lambda: Scorer())
    events = list(extractive_stream("Que risque-t-on ?", [other, fine], commune.embedder))
    assert events[0] == "La personne ainsi condamnée risque alors : [1]"
    a = events[-1]
    assert isinstance(a, Answer) and "".join(str(e) for e in events[:-1]) == a.text
    assert [s["text"][:20] for s in a.sentences] == [
        "La personne ainsi co",
        "une amende civile d'",
        "Cette condamnation e",
    ]
    # The list goes on in the source ("des dommages et intérêts"), and the announcement is
    # followed by what it announces: the mark after the item, none after the announcement.
    assert a.text == (
        "La personne ainsi condamnée risque alors : [1] "
        "une amende civile d'un maximum de 10 000 €, […] [1] "
        "Cette condamnation est prononcée par le tribunal qui a jugé l'affaire. [1]"
    )
    assert not a.sentences[0].get("more") and a.sentences[1]["more"]


def test_a_box_quoted_from_its_first_words_shows_its_title(commune, monkeypatch):
    """A fiche's box reads "À noter : le nombre de témoins…" on its page, its first words
    written to follow the title: quoted alone they opened an answer in lowercase, as a
    fragment. The title is shown before them, outside the quote, which stays verbatim."""
    from dataclasses import replace

    from commune.answering import answer as answer_module
    from commune.answering.answer import extractive_answer

    box = replace(
        passage(
            "le nombre de témoins est de 2 minimum et 4 maximum. "
            "Ils doivent être majeurs et savoir signer.",
            "fr",
        ),
        section="Mariage > Témoins > À noter",
    )
    other = passage("Les futurs époux déclarent leurs témoins à la mairie, avant le mariage.", "fr")
    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [box, other])
    monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([0, 1, 2]))
    a = extractive_answer("Combien de témoins pour un mariage ?", [box, other], commune.embedder)
    assert a.text.startswith(
        "À noter\u00a0: le nombre de témoins est de 2 minimum et 4 maximum. [1] "
        "Ils doivent être majeurs et savoir signer. [1] Les futurs"
    ), a.text  # only the words that follow the title on the page
    assert a.sentences[0]["lead"] == "À noter"
    assert a.sentences[0]["text"] == "le nombre de témoins est de 2 minimum et 4 maximum."
    assert "lead" not in a.sentences[1] and "lead" not in a.sentences[2]
    # A section of another name is no box: its lowercase first words stay as they are.
    plain = replace(box, section="Mariage > Témoins")
    monkeypatch.setattr(answer_module, "answer_context", lambda *a, **k: [plain, other])
    a = extractive_answer("Combien de témoins pour un mariage ?", [plain, other], commune.embedder)
    assert a.text.startswith("le nombre de témoins") and "lead" not in a.sentences[0]
