"""A shared collection's usage policy: what it says, whether it lets a member use it (with
the reason), and how it reads in ODRL, the W3C's language for usage policies.

Attribution is always required: a cooperative shares its commons, never its contributors'
names. The other clauses are chosen per collection (`commune share`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commune.errors import InvalidRequest
from commune.govern.members import KINDS
from commune.govern.policy import Decision
from commune.text.say import say

# The clauses `commune share --policy` takes, besides attribution (always required).
CLAUSES = ("non-commercial", "share-alike", "tdm-reserved")

ODRL = "http://www.w3.org/ns/odrl/2/"
# W3C TDM Reservation Protocol: its ODRL profile names text and data mining "tdm:mine".
TDM = "http://www.w3.org/ns/tdmrep#"
CC = "http://creativecommons.org/ns#"
COMMUNE = "https://commune.coop/ns#"
# The kinds of a policy whose kinds could not be read: a kind no member has, so none may.
NO_KIND = "(none)"
# What a peer's policy may name: more kinds than members have (members.KINDS), each longer
# than any of theirs.
MAX_KINDS, MAX_KIND = 20, 50


@dataclass(frozen=True)
class Policy:
    non_commercial: bool = False
    share_alike: bool = False
    tdm_reserved: bool = False
    kinds: tuple[str, ...] = ()  # the member kinds that may use it; empty: every kind

    def to_json(self) -> dict[str, Any]:
        return {
            "attribution": True,
            "non_commercial": self.non_commercial,
            "share_alike": self.share_alike,
            "tdm_reserved": self.tdm_reserved,
            "kinds": list(self.kinds),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Policy:
        """A policy as a peer sent it; a clause it does not mention is read as set (the
        strictest reading), and no kinds (absent or empty) as every kind. Kinds given but not
        as a list cannot be read, so they are read the strictest way: no kind may use it.
        Not an object at all: TypeError (the peer's reply cannot be read)."""
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise TypeError(f"a policy is an object, got {type(data).__name__}")
        kinds = data.get("kinds")
        if not kinds:
            named: tuple[str, ...] = ()
        elif isinstance(kinds, list):
            # Cut as the reply's other texts are (answering/federation.py): kept whole, a
            # kind of a megabyte, or a hundred thousand kinds, went into every passage's
            # origin and, named in the reason, into every withheld one. Cutting allows no
            # kind more: a kind dropped past MAX_KINDS is one fewer allowed, and a name cut
            # at MAX_KIND is longer than any of ours (members.KINDS), so matches none.
            named = tuple(dict.fromkeys(str(k)[:MAX_KIND] for k in kinds[:MAX_KINDS]))
        else:
            named = (NO_KIND,)
        return cls(
            non_commercial=bool(data.get("non_commercial", True)),
            share_alike=bool(data.get("share_alike", True)),
            tdm_reserved=bool(data.get("tdm_reserved", True)),
            kinds=named,
        )

    def clauses(self) -> list[str]:
        on = (self.non_commercial, self.share_alike, self.tdm_reserved)
        return ["attribution", *(c for c, set_ in zip(CLAUSES, on, strict=True) if set_)]


def parse(policy: str = "", kinds: str = "") -> Policy:
    """``commune share``'s ``--policy`` and ``--kinds`` (comma-separated), checked."""
    given = [c.strip() for c in policy.split(",") if c.strip()]
    unknown = [c for c in given if c not in (*CLAUSES, "attribution")]
    if unknown:
        raise InvalidRequest(
            f"unknown policy clause {unknown[0]!r}: use {', '.join(CLAUSES)} "
            "(attribution is always required)"
        )
    named = tuple(dict.fromkeys(k.strip() for k in kinds.split(",") if k.strip()))
    strange = [k for k in named if k not in KINDS]
    if strange:
        raise InvalidRequest(
            f"unknown member kind {strange[0]!r}: use one or more of {', '.join(KINDS)}"
        )
    return Policy(
        non_commercial="non-commercial" in given,
        share_alike="share-alike" in given,
        tdm_reserved="tdm-reserved" in given,
        kinds=named,
    )


def permits(
    policy: Policy, kind: str | None, declared_use: str | None, language: str = "en"
) -> Decision:
    """May a member of ``kind``, which declared ``declared_use``, use a passage under
    ``policy``? The reason is in ``language``: it reaches the member with the answer."""
    if policy.non_commercial and declared_use == "commercial":
        return Decision(
            False,
            say(
                language,
                "la coopérative qui la partage en interdit l'usage commercial, que votre "
                "membre a déclaré",
                "the cooperative sharing it forbids commercial use, which your member declared",
            ),
        )
    if policy.kinds and kind not in policy.kinds:
        allowed = ", ".join(policy.kinds)
        return Decision(
            False,
            say(
                language,
                f"la coopérative qui la partage la réserve aux membres de type {allowed} "
                f"(le vôtre\u00a0: {kind or 'aucun'})",
                f"the cooperative sharing it keeps it for members of kind {allowed} "
                f"(yours: {kind or 'none'})",
            ),
        )
    return Decision(True, say(language, "permis par sa politique", "its policy allows it"))


def odrl(policy: Policy, target: str, assigner: str) -> dict[str, Any]:
    """The policy as an ODRL 2.2 Offer (JSON-LD, under the context of :func:`context`)."""
    duties: list[dict[str, Any]] = [{"odrl:action": {"@id": "odrl:attribute"}}]
    if policy.share_alike:
        # The Creative Commons vocabulary's requirement, as ODRL's own examples use it.
        duties.append({"odrl:action": {"@id": "cc:ShareAlike"}})
    permission: dict[str, Any] = {
        "odrl:target": {"@id": target},
        "odrl:action": {"@id": "odrl:use"},
        "odrl:duty": duties,
    }
    if policy.kinds:
        permission["odrl:constraint"] = [
            {
                "odrl:leftOperand": {"@id": "commune:memberKind"},
                "odrl:operator": {"@id": "odrl:isAnyOf"},
                "odrl:rightOperand": list(policy.kinds),
            }
        ]
    prohibitions: list[dict[str, Any]] = []
    if policy.non_commercial:
        prohibitions.append(
            {
                "odrl:target": {"@id": target},
                "odrl:action": {"@id": "odrl:use"},
                "odrl:constraint": [
                    {
                        "odrl:leftOperand": {"@id": "odrl:purpose"},
                        "odrl:operator": {"@id": "odrl:eq"},
                        "odrl:rightOperand": "commercial",
                    }
                ],
            }
        )
    if policy.tdm_reserved:
        prohibitions.append({"odrl:target": {"@id": target}, "odrl:action": {"@id": "tdm:mine"}})
    offer: dict[str, Any] = {
        "@id": f"{target}:policy",
        "@type": "odrl:Offer",
        "odrl:uid": {"@id": f"{target}:policy"},
        "odrl:assigner": {"@type": "odrl:Party", "foaf:name": assigner},
        "odrl:permission": [permission],
    }
    if prohibitions:
        offer["odrl:prohibition"] = prohibitions
    return offer


def context() -> dict[str, str]:
    return {"odrl": ODRL, "tdm": TDM, "cc": CC, "commune": COMMUNE}
