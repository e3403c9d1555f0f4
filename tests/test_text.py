from commune.text.analysis import analyze, analyze_query, fold_accents, words
from commune.text.lang import detect


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


def test_analysis_is_thread_safe():
    # One Snowball stemmer shared between the API's threads gave wrong stems and IndexErrors.
    import threading

    text = "les administrateurs configurent rapidement des serveurs informatiques " * 20
    expected = analyze(text, "fr")
    errors: list[str] = []

    def work() -> None:
        try:
            for _ in range(30):  # each call long enough for the threads to interleave
                assert analyze(text, "fr") == expected
        except Exception as exc:  # noqa: BLE001 (any failure in a thread is the finding)
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
