"""Which words of a conversation are searched (commune/conversation.py): a follow-up with the
question it follows, anything else alone, as before."""

from __future__ import annotations

import pytest

from commune.conversation import elliptic, question_of

FINE = "Quel est le délai pour contester une amende ?"


@pytest.mark.parametrize(
    "message",
    [
        "Et pour un stationnement ?",
        "et si je suis en retard ?",
        "Pour un stationnement ?",
        "And for parking?",
        "What about parking fines?",
        "Quid des motos ?",
        "Pareil pour une association ?",
    ],
)
def test_a_follow_up_is_elliptic(message):
    assert elliptic(message)


@pytest.mark.parametrize(
    "message",
    [
        "Piscine ?",  # short, and as likely a new subject
        "Quand passe le camion des ordures ménagères ?",
        "Pour inscrire mon enfant à la cantine, que faut-il fournir ?",  # "pour", but whole
        "Étudiants : quelles aides ?",  # "ét", not "et"
        "Etat civil : quels horaires ?",
        "Andorre : faut-il un passeport ?",
        "Forum des associations ?",
        "Pour quelles raisons un permis est-il suspendu ?",  # "pour", but whole
        # "same-sex", "same-day": one word, not "same" the follow-up
        "Same-sex marriage: which documents?",
        "Same-day appointments for passports?",
        "",
        "?",
    ],
)
def test_a_question_that_stands_alone_is_not(message):
    assert not elliptic(message)


def test_one_turn_is_read_as_it_was_sent():
    for sent in ("Et pour un stationnement ?", "  bac jaune  ", ""):
        assert question_of([sent], 2000) == sent


def test_a_follow_up_is_searched_with_the_question_it_follows():
    turns = [FINE, "Et pour un stationnement ?"]
    assert question_of(turns, 2000) == f"{FINE} Et pour un stationnement ?"
    # A question that stands alone is read alone, whatever came before.
    assert question_of([FINE, "Quand passe le camion ?"], 2000) == "Quand passe le camion ?"
    # A follow-up of a follow-up: joined to the question that set the subject.
    chain = [FINE, "Et pour un stationnement ?", "Et pour une moto ?"]
    assert question_of(chain, 2000) == f"{FINE} Et pour une moto ?"
    # Nothing before it but follow-ups and empty turns: alone.
    assert question_of(["", "Et alors ?", "Et pour une moto ?"], 2000) == "Et pour une moto ?"


def test_nothing_is_joined_past_the_length_a_question_may_have():
    turns = ["x" * 1990 + " ?", "Et pour un stationnement ?"]
    assert question_of(turns, 2000) == "Et pour un stationnement ?"


def test_a_follow_up_in_another_language_is_read_alone():
    """An answer is in the language of the text it answers: "And what about parking?" after a
    question in French was joined to it and answered in French. Read alone, it is answered
    in English; a follow-up in the question's own language is still joined."""
    from commune.text.lang import question_language

    for asker in ("fr", "en", None):
        asked = question_of([FINE, "And what about parking?"], 2000, asker)
        assert asked == "And what about parking?"
        assert question_language(asked, asker) == "en"
        english = "How long do I have to contest a fine?"
        assert question_of([english, "Et pour un stationnement ?"], 2000, asker) == (
            "Et pour un stationnement ?"
        )
        assert question_of([english, "And for parking?"], 2000, asker) == (
            f"{english} And for parking?"
        )
        assert question_of([FINE, "Pour un stationnement ?"], 2000, asker) == (
            f"{FINE} Pour un stationnement ?"
        )
