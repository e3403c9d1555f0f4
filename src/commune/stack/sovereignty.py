"""`commune sovereignty`: the map of what the stack depends on.

From the bill of materials: the components most of the stack hangs on (counted over the
dependency graph), closed or unknown-licence components, models hosted outside the
charter's jurisdictions, the licence obligations of the software as distributed, and what
changed since the previous bill.
"""

from __future__ import annotations

from typing import Any

# Strictness of what a licence asks of whoever distributes (or serves) the software.
FAMILIES = ("none", "notice", "weak-copyleft", "strong-copyleft", "network-copyleft")
WHAT = {
    "none": "no condition (public domain or equivalent)",
    "notice": "keep the copyright and licence notices (and Apache-2.0's NOTICE file) with "
    "every copy",
    "weak-copyleft": "changes to these components themselves are shared under the same "
    "licence (per file for MPL, per library for LGPL, which must stay replaceable)",
    "strong-copyleft": "a work that includes them and is distributed is distributed whole "
    "under the same licence, with its source",
    "network-copyleft": "users who interact with the software over a network must be offered "
    "its complete source, modifications included (AGPL section 13): Commune is AGPL-3.0-or-"
    "later, so a deployment that changes it offers its source to its users",
}
_PREFIXES = (
    ("AGPL-", "network-copyleft"),
    ("GPL-", "strong-copyleft"),
    ("LGPL-", "weak-copyleft"),
    ("MPL-", "weak-copyleft"),
    ("EPL-", "weak-copyleft"),
    ("CDDL-", "weak-copyleft"),
    ("CECILL-2", "strong-copyleft"),
    ("CECILL-C", "weak-copyleft"),
    ("CC-BY-SA-", "strong-copyleft"),
)
_NONE = {"CC0-1.0", "Unlicense", "0BSD", "MIT-0", "WTFPL"}


def family(symbol: str) -> str:
    if symbol in _NONE:
        return "none"
    for prefix, fam in _PREFIXES:
        if symbol.startswith(prefix):
            return fam
    return "notice"


def obligation(expression: str) -> str:
    """The family an expression obliges to: a choice (OR) takes the lightest option, a
    combination (AND) the heaviest."""
    from license_expression import AND, OR, LicenseWithExceptionSymbol

    from commune.govern.licences import spdx_licensing

    def walk(node: Any) -> int:
        if isinstance(node, OR):
            return min(walk(a) for a in node.args)
        if isinstance(node, AND):
            return max(walk(a) for a in node.args)
        if isinstance(node, LicenseWithExceptionSymbol):
            # An exception (Classpath, GCC runtime...) lightens a copyleft licence.
            return max(0, FAMILIES.index(family(node.license_symbol.key)) - 1)
        return FAMILIES.index(family(node.key))

    return FAMILIES[walk(spdx_licensing().parse(expression))]


def _licence(comp: dict[str, Any]) -> str | None:
    for entry in comp.get("licenses", []):
        if "expression" in entry:
            return str(entry["expression"])
        lic = entry.get("license", {})
        if "id" in lic:
            return str(lic["id"])
    return None


def _prop(comp: dict[str, Any], name: str) -> str | None:
    for p in comp.get("properties", []):
        if p["name"] == f"commune:{name}":
            return str(p["value"])
    return None


def depended_on(bom: dict[str, Any], top: int = 10) -> list[dict[str, Any]]:
    """Components by how many others depend on them, directly or through others."""
    edges = {d["ref"]: d.get("dependsOn", []) for d in bom.get("dependencies", [])}
    names = {c["bom-ref"]: c for c in bom.get("components", [])}
    dependents: dict[str, set[str]] = {ref: set() for ref in names}
    for start in edges:
        seen: set[str] = set()
        stack = list(edges.get(start, []))
        while stack:
            ref = stack.pop()
            if ref in seen:
                continue
            seen.add(ref)
            stack.extend(edges.get(ref, []))
        for ref in seen:
            if ref in dependents:
                dependents[ref].add(start)
    total = len(names) + 1  # the deployment itself
    ranked = sorted(dependents.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
    return [
        {
            "component": names[ref]["name"],
            "version": names[ref].get("version"),
            "licence": _licence(names[ref]),
            "dependents": len(deps),
            "share": round(len(deps) / total, 3),
        }
        for ref, deps in ranked
    ]


def closed_or_unknown(bom: dict[str, Any]) -> list[dict[str, Any]]:
    """The components whose licence is closed or unknown, each with its ``reasons`` (one
    message each, for a face to say in its reader's language) and ``why``, the same joined
    with ", "."""
    out = []
    for c in bom.get("components", []):
        licence = _licence(c)
        openness = _prop(c, "openness")
        reasons: list[str] = []
        if c["type"] == "machine-learning-model":
            if licence is None:
                reasons.append("no licence declared")
            if openness in (None, "closed", "unknown"):
                reasons.append(f"openness {openness or 'unknown'}")
            kind = "model"
        elif c["type"] == "data":
            unknown = int(_prop(c, "licence:unknown") or 0)
            if unknown:
                reasons.append(
                    "1 document without a licence"
                    if unknown == 1
                    else f"{unknown} documents without a licence"
                )
            kind = "dataset"
        elif licence is None:
            named = [e.get("license", {}).get("name") for e in c.get("licenses", [])]
            declared = next((n for n in named if n), None)
            reasons.append(_declared(declared))
            kind = "software"
        if reasons:
            out.append(
                {
                    "component": c["name"],
                    "type": kind,
                    "why": ", ".join(reasons),
                    "reasons": reasons,
                }
            )
    return out


# A licence name longer than this, or of several lines, is the licence's whole text (some
# packages' metadata carries it: tiktoken's MIT licence, 1,000 characters of it).
_NAME_AT_MOST = 100


def _declared(name: str | None) -> str:
    """Why a licence name in a package's metadata is no SPDX expression, in one short line."""
    if not name:
        return "its metadata declares no licence"
    if "\n" in name.strip() or len(name) > _NAME_AT_MOST:
        first = next(line.strip() for line in name.splitlines() if line.strip())
        first = first if len(first) <= 60 else first[:59] + "…"
        return f"its metadata holds a licence's whole text ({first!r}), not an SPDX expression"
    return f"its metadata declares {name!r}, not an SPDX expression"


def outside(bom: dict[str, Any], jurisdictions: tuple[str, ...]) -> list[dict[str, Any]]:
    """The models hosted outside the charter's ``jurisdictions`` (as the redirect step reads
    them: "EU" holds its member states)."""
    from commune.charter.rules import hosted_within

    out = []
    for c in bom.get("components", []):
        if c["type"] != "machine-learning-model":
            continue
        where = _prop(c, "jurisdiction")
        if not hosted_within(jurisdictions, where):
            out.append(
                {
                    "component": c["name"],
                    "jurisdiction": where or "unknown",
                    "hosting": _prop(c, "hosting"),
                    "allowed": list(jurisdictions),
                }
            )
    return out


def obligations(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    root = bom.get("metadata", {}).get("component", {})
    for c in [root, *bom.get("components", [])]:
        if c.get("type") not in ("library", "application"):
            continue
        licence = _licence(c)
        if licence is None:
            continue
        groups.setdefault(obligation(licence), []).append(c["name"])
    return {
        fam: {"what": WHAT[fam], "components": sorted(groups[fam])}
        for fam in reversed(FAMILIES)
        if fam in groups
    }


def _index(bom: dict[str, Any]) -> dict[str, tuple[str, str | None, str | None]]:
    return {
        c["bom-ref"]: (c["name"], c.get("version"), _licence(c)) for c in bom.get("components", [])
    }


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any] | None:
    """What changed between two bills: components added, removed, or with another version
    or licence."""
    if old is None:
        return None
    a, b = _index(old), _index(new)
    changed = []
    for ref in sorted(set(a) & set(b)):
        (name, v1, l1), (_, v2, l2) = a[ref], b[ref]
        if v1 != v2 or l1 != l2:
            entry: dict[str, Any] = {"component": name}
            if v1 != v2:
                entry["version"] = [v1, v2]
            if l1 != l2:
                entry["licence"] = [l1, l2]
            changed.append(entry)
    return {
        "since": old.get("metadata", {}).get("timestamp"),
        "added": sorted(b[r][0] for r in set(b) - set(a)),
        "removed": sorted(a[r][0] for r in set(a) - set(b)),
        "changed": changed,
    }


def sovereignty_map(
    bom: dict[str, Any], jurisdictions: tuple[str, ...], previous: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "serial": bom.get("serialNumber"),
        "components": len(bom.get("components", [])),
        "most_depended_on": depended_on(bom),
        "closed_or_unknown": closed_or_unknown(bom),
        "outside_jurisdictions": outside(bom, jurisdictions),
        "obligations": obligations(bom),
        "changes": diff(previous, bom),
    }
