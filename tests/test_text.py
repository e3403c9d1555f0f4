from commune.text.analysis import analyze, analyze_query, fold_accents, words
from commune.text.lang import detect, question_language


def test_french_elisions_are_split_from_the_word():
    assert words("l'installation d'un paquet qu'il faut jusqu'à lorsqu'on") == [
        "installation",
        "un",
        "paquet",
        "il",
        "faut",
        "à",
        "on",
    ]


def test_typographic_apostrophe_is_an_elision_too():
    assert analyze("L’arrêté municipal", "fr") == analyze("L'arrêté municipal", "fr")


def test_accents_fold_after_stemming_so_unaccented_queries_match():
    assert analyze("système", "fr") == analyze("systeme", "fr")
    assert analyze("élections municipales", "fr") == analyze("elections municipales", "fr")
    assert fold_accents("cœur") == "coeur"


def test_french_and_english_stemming_conflate_inflections():
    assert analyze("installer", "fr") == analyze("installation", "fr")
    assert analyze("packages", "en") == analyze("package", "en")
    assert analyze("installing", "en") == analyze("installed", "en")


def test_stopwords_are_dropped_and_technical_tokens_kept_whole():
    assert analyze("le fichier sources.list et apt-get", "fr") == [
        "fichi",
        "sources.list",
        "apt-get",
    ]


def test_query_analysis_uses_both_languages_without_function_words():
    terms = analyze_query("Comment installer un paquet ?", ["fr", "en"])
    assert "comment" not in terms and "un" not in terms
    assert {"install", "paquet"} <= set(terms)


def test_a_question_too_short_to_tell_its_language_is_in_the_askers():
    # Character n-grams guess on a word or two ("passeport" read as German, "piscine
    # municipale" as Italian): the face's language decides, English when none says.
    assert detect("passeport") not in ("fr", "en")  # why: the guess this replaces
    for question in ("passeport", "piscine municipale", "encombrants"):
        assert question_language(question, "fr") == "fr"
        assert question_language(question, "en") == "en"
        assert question_language(question) == "en"
    # A question that tells its own language keeps it, whoever asks.
    assert question_language("How do I install a package?", "fr") == "en"
    assert question_language("Comment installer un paquet ?", "en") == "fr"
    assert question_language("carte d'identité périmée", "en") == "fr"  # accents
    # A sentence in another language is told by n-grams, as before.
    assert question_language("Wie beantrage ich einen neuen Reisepass", "fr") == "de"


def test_language_detection_on_questions_and_paragraphs():
    assert detect("Comment installer un paquet ?") == "fr"
    assert detect("How do I install a package?") == "en"
    assert detect("configurer le réseau") == "fr"
    assert (
        detect(
            "Les habitants peuvent consulter le registre des délibérations du conseil municipal "
            "à la mairie, aux heures d'ouverture du secrétariat."
        )
        == "fr"
    )
    assert (
        detect(
            "Residents can consult the register of council decisions at the town hall during "
            "the opening hours of the office."
        )
        == "en"
    )
    assert detect("12345", default="en") == "en"


def _snowball(text: str, lang: str) -> list[str]:
    """The terms as a fresh Snowball stemmer gives them, word by word, with nothing kept."""
    import snowballstemmer

    from commune.text.analysis import fold_accents, words
    from commune.text.stopwords import STOPWORDS

    stemmer = snowballstemmer.stemmer({"fr": "french", "en": "english"}[lang])
    stop = STOPWORDS[lang]
    return [
        fold_accents(stemmer.stemWord(w) if w.isalpha() else w)
        for w in words(text)
        if w not in stop and fold_accents(w) not in stop
    ]


def _fresh_words(seed: int, n: int) -> str:
    # Words no call has analysed yet (each (seed, i) spelled apart, in letters, since only
    # words of letters are stemmed), so that every stem is computed, never remembered.
    letters = "abcdefghijklmnopqrstuvwxyz"

    def spelled(k: int) -> str:
        return letters[k % 26] + letters[k // 26 % 26] + letters[k // 676 % 26]

    return " ".join(
        f"configurent{spelled(seed)}{spelled(i)} administrateurs{spelled(i)}{spelled(seed)}"
        for i in range(n)
    )


def test_analysis_is_thread_safe():
    # One Snowball stemmer shared between the API's threads gave wrong stems and IndexErrors.
    import threading
    import uuid

    from commune.text import analysis

    salt = uuid.uuid4().int % 10_000  # another run in this process gets other words
    texts = {n: [_fresh_words(salt + n * 40 + i, 40) for i in range(30)] for n in range(8)}
    words = {w for ts in texts.values() for t in ts for w in t.split()}
    assert len(words) == 8 * 30 * 40 * 2  # every word once: none of them remembered
    before = analysis._kept_term.cache_info().misses
    expected = {n: [_snowball(t, "fr") for t in ts] for n, ts in texts.items()}
    errors: list[str] = []

    def work(n: int) -> None:
        try:
            for text, terms in zip(texts[n], expected[n], strict=True):
                assert analyze(text, "fr") == terms
        except Exception as exc:  # noqa: BLE001 (any failure in a thread is the finding)
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert analysis._kept_term.cache_info().misses - before >= len(words)  # all stemmed here


def test_a_words_term_once_kept_is_the_stemmers_own():
    # Stems are kept once computed (they were half an answer's time): asked again, first
    # word by word and then within other texts, they are still what Snowball gives.
    text = {
        "fr": "Les administrateurs configurent rapidement des serveurs informatiques ; "
        "l'élève a été reçu, les élèves ont réussi leurs examens à Montréal.",
        "en": "The administrators configured the servers quickly; running jobs ran faster "
        "than the configurations they replaced, according to sources.list and apt-get.",
    }
    for lang, sentence in text.items():
        first = analyze(sentence, lang)
        assert first == _snowball(sentence, lang)
        for word in sentence.split():
            analyze(word, lang)
        assert analyze(f"{sentence} {sentence}", lang) == first + first


def test_the_head_of_a_text_in_tokens_by_either_method(monkeypatch):
    """What max_tokens keeps of an answer (api/openai.py): as many tokens as usage counts,
    with cl100k_base or, without its table, the stated estimate (words and punctuation)."""
    from commune.text import tokens

    text = "La collecte a lieu le mardi, à 6 h. Sortez les bacs."
    assert tokens.head(text, 1000) == text
    kept = tokens.head(text, 5)
    assert text.startswith(kept) and tokens.count(kept) == 5
    monkeypatch.setattr(tokens, "_encoding", lambda: None)
    assert tokens.head(text, 6) == "La collecte a lieu le mardi"
    assert tokens.head(text, 7) == "La collecte a lieu le mardi,"
    assert tokens.head(text, 0) == "" and tokens.head(text, 99) == text
