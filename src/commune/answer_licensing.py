"""What an answer owes its sources: attribution, share-alike, and what was left out and why."""

from __future__ import annotations

from typing import Any

from commune.licences import attribution_text, terms_of


def finish_licensing(answer: Any, excluded: list[dict[str, Any]]) -> None:
    """Give every source its attribution line; say what the answer's sources require."""
    share_alike = []
    for source in answer.sources:
        source.attribution = attribution_text(
            source.title, source.publisher or source.contributor, source.licence, source.source
        )
        terms = terms_of(source.licence)
        if terms is not None and terms.share_alike:
            share_alike.append(source.licence)
    notes = []
    if share_alike:
        notes.append(
            "This answer builds on share-alike sources ("
            + ", ".join(sorted(set(share_alike)))
            + "): whatever you make from it must be shared under the same terms."
        )
    for e in excluded:
        notes.append(f"Left out « {e['title']} »: {e['reason']}.")
    answer.licence_notes = notes
    answer.excluded = excluded
