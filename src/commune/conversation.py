"""Which words of a conversation are searched, for the faces that receive one (/v1's chat).

A clerk's chat client sends the whole conversation, and only its last user message was read:
after "Quel est le délai pour contester une amende ?", the follow-up "Et pour un
stationnement ?" was searched alone, and found the parking fees, not the delay. Commune
answers one question from the commons; it does not hold a dialogue. So the rule is small and
says what it does: a last message that only makes sense after the one before it is searched
joined to the earlier question it follows; anything else is searched alone, as before.

Elliptic here means it opens with words that say "the same, but": "et", "and", "what about",
"how about", "quid", "idem", "pareil", "same"; or it is at most four words opening with
"pour" or "for" ("Pour un stationnement ?"). Shortness alone is not enough: "Piscine ?" after
a question on fines is as likely a new subject as a follow-up, and joined to the fines it
would be answered with them. A follow-up in another language than the question it follows is
read alone: joined, it was answered in the language of most of the text, the question's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from commune.text.lang import question_language

# The words that open a follow-up, lower case, each a tuple of words as they come.
FOLLOW_UPS: tuple[tuple[str, ...], ...] = (
    ("et",),
    ("and",),
    ("quid",),
    ("idem",),
    ("pareil",),
    ("same",),
    ("what", "about"),
    ("how", "about"),
)
# "Pour un stationnement ?": short, and for what the question before asked.
SHORT_FOLLOW_UPS = ("pour", "for")
SHORT = 4  # words

# A hyphenated word is one word: "Same-sex marriage: which documents?" opened with "same" and
# was joined, as a follow-up, to whatever was asked before it ("same-day" too).
_WORD = re.compile(r"\w+(?:-\w+)*", re.UNICODE)


def elliptic(message: str) -> bool:
    """Whether ``message`` reads as a follow-up of the question before it."""
    words = _WORD.findall(message.lower())
    if not words:
        return False
    if any(tuple(words[: len(opening)]) == opening for opening in FOLLOW_UPS):
        return True
    return words[0] in SHORT_FOLLOW_UPS and len(words) <= SHORT


def question_of(user_turns: Sequence[str], limit: int, asker_language: str | None = None) -> str:
    """What is searched and answered: the last user turn, joined after the earlier question it
    follows when it is elliptic. That earlier question is the last user turn before it that is
    not itself a follow-up ("Et pour une moto ?" after "Et pour un stationnement ?" follows
    the question on fines). Nothing is joined past ``limit`` characters ([limits]
    max_query_chars): the last turn alone is read, rather than a refusal for a length the
    caller did not write. Nor across languages (``asker_language``: the face's, as
    text/lang.question_language takes it): see below."""
    if not user_turns:
        return ""
    last = user_turns[-1]
    if len(user_turns) < 2 or not elliptic(last):
        return last
    earlier = next(
        (t.strip() for t in reversed(user_turns[:-1]) if t.strip() and not elliptic(t)), ""
    )
    joined = f"{earlier} {last.strip()}"
    if not earlier or len(joined) > limit:
        return last
    # An answer is in the language of the text it answers, and the earlier question is most
    # of that text: "And what about parking?" after a question asked in French was answered
    # in French. Read alone, the follow-up is answered in its own language, as it was before
    # follow-ups were joined; the question it follows cannot be carried into another.
    if question_language(joined, asker_language) != question_language(last, asker_language):
        return last
    return joined
