"""What an answer owes its sources: attribution, share-alike, and what was left out and why."""

from __future__ import annotations

from typing import Any

from commune.govern.licences import attribution_text, terms_for_use
from commune.text.say import prose, say


def finish_licensing(answer: Any, excluded: list[dict[str, Any]]) -> None:
    """Give every source its attribution line; say what the answer's sources require."""
    share_alike = []
    quoted: dict[str, str] = {}  # no-derivatives sources, by title, with their licence
    # The notes and the credit lines are read beside the answer: in the question's language.
    lang = getattr(answer, "language", "en")
    for source in answer.sources:
        source.attribution = attribution_text(
            source.title,
            source.publisher or source.contributor,
            source.licence,
            source.source,
            lang,
        )
        origin = getattr(source, "origin", None)
        if origin:
            # A peer's passage is cited with its origin, and under its collection's policy.
            source.attribution += f" — via {origin['peer']}"
            if origin.get("policy", {}).get("share_alike"):
                # The clause's name in the reader's words, as the rest of the note
                # (French readers were given "coop-b: share-alike").
                share_alike.append(
                    say(
                        lang,
                        f"{origin['peer']} : partage à l'identique",
                        f"{origin['peer']}: share-alike",
                    )
                )
        terms = terms_for_use(source.licence)
        if terms is not None and terms.share_alike:
            share_alike.append(source.licence)
        if terms is not None and terms.no_derivatives:
            quoted[source.title] = source.licence
    notes = []
    if share_alike:
        names = ", ".join(sorted(set(share_alike)))
        notes.append(
            prose(
                lang,
                f"Cette réponse s'appuie sur des sources en partage à l'identique ({names}) : "
                "ce que vous en tirez doit être partagé aux mêmes conditions.",
                f"This answer builds on share-alike sources ({names}): whatever you make "
                "from it must be shared under the same terms.",
            )
        )
    for title, licence in sorted(quoted.items()):
        notes.append(
            prose(
                lang,
                "« {title} » ({licence}) ne peut pas être modifié (pas de modification) : il "
                "est cité mot pour mot, jamais paraphrasé ; citez-le tel quel, avec son "
                "attribution.",
                "« {title} » ({licence}) may not be adapted (no derivatives): it is quoted "
                "word for word, never paraphrased; quote it as it stands, with its attribution.",
                title=title,  # the document's own words: not respaced (text/say.prose)
                licence=licence,
            )
        )
    for e in excluded:
        notes.append(
            prose(lang, "Écarté : « {title} » : ", "Left out « {title} »: ", title=e["title"])
            + f"{e['reason']}."
        )
    answer.licence_notes = notes
    answer.excluded = excluded


def usable_for_answers(
    hits: list[Any],
    declared_use: str | None,
    tdm_policy: str,
    language: str = "en",
    for_peer: bool = False,
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Leave out of answers what the charter or the licence forbids, saying why.

    ``for_peer``: the use is the one a peer cooperative declared for its key (the serving
    side of peering): the asking member, who reads the reason, declared nothing of it. A
    peer's passage left out says which peer it came from, as its own refusals do."""
    kept: list[Any] = []
    excluded: list[dict[str, Any]] = []
    for h in hits:
        terms = terms_for_use(h.licence)
        if h.tdm_reserved and tdm_policy == "exclude":
            why = prose(
                language,
                "son ayant droit s'est opposé à la fouille de textes et de données (opt-out TDM)",
                "its rights holder reserved text and data mining (TDM opt-out)",
            )
        elif declared_use == "commercial" and terms is not None and terms.non_commercial:
            why = (
                prose(
                    language,
                    f"sa licence {h.licence} interdit l'usage commercial, que votre coopérative a "
                    "déclaré pour sa clé de pair",
                    f"its licence {h.licence} forbids commercial use, which your cooperative "
                    "declared for its peer key",
                )
                if for_peer
                else prose(
                    language,
                    f"sa licence {h.licence} interdit l'usage commercial, que votre membre a "
                    "déclaré",
                    f"its licence {h.licence} forbids commercial use, which your member declared",
                )
            )
        else:
            kept.append(h)
            continue
        origin = getattr(h, "origin", None)
        withhold(excluded, h, f"{why} (via {origin['peer']})" if origin else why)
    return kept, excluded


def withhold(excluded: list[dict[str, Any]], hit: Any, reason: str) -> None:
    """List ``hit``'s document among those left out of the answer, with why, once."""
    if all(e["document_id"] != hit.document_id for e in excluded):
        excluded.append(
            {
                "document_id": hit.document_id,
                "title": hit.title,
                "licence": hit.licence,
                "reason": reason,
            }
        )


def for_generation(hits: list[Any]) -> tuple[list[Any], list[Any]]:
    """The hits a model may paraphrase, and the no-derivatives ones it may not.

    A generated sentence rewords its passage: for a source whose licence allows no
    derivatives (CC-BY-ND, CC-BY-NC-ND), that is an adaptation the licence forbids. Such a
    source may only be quoted, as the extractive answer does, word for word."""
    free: list[Any] = []
    quote_only: list[Any] = []
    for h in hits:
        terms = terms_for_use(h.licence)
        (quote_only if terms is not None and terms.no_derivatives else free).append(h)
    return free, quote_only


def left_out_of_generation(quote_only: list[Any], language: str = "en") -> list[dict[str, Any]]:
    """Why each no-derivatives source is not in a generated answer, once per document. The
    reason names no face's option: the CLI's --mode, the API's "mode" and the page's choice
    all read it."""
    out: list[dict[str, Any]] = []
    for h in quote_only:
        if any(e["document_id"] == h.document_id for e in out):
            continue
        out.append(
            {
                "document_id": h.document_id,
                "title": h.title,
                "licence": h.licence,
                "reason": prose(
                    language,
                    f"sa licence {h.licence} n'autorise pas de modification : une réponse "
                    "générée ne peut pas la paraphraser ; demandez une réponse extractive "
                    "pour qu'elle soit citée mot pour mot",
                    f"its licence {h.licence} allows no derivatives, so a generated "
                    "answer may not paraphrase it; ask for an extractive answer "
                    "to have it quoted word for word",
                ),
            }
        )
    return out
