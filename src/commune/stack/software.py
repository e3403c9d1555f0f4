"""The installed distributions of Commune's environment, their licences and dependencies,
read from the distributions' own metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# Trove classifiers to SPDX, for distributions that declare no SPDX expression.
CLASSIFIERS = {
    "MIT License": "MIT",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "BSD License": "BSD-3-Clause",
    "Apache Software License": "Apache-2.0",
    "ISC License (ISCL)": "ISC",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "The Unlicense (Unlicense)": "Unlicense",
    "Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "Zope Public License": "ZPL-2.1",
    "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "CeCILL-B Free Software License Agreement (CECILL-B)": "CECILL-B",
    "CEA CNRS Inria Logiciel Libre License, version 2.1 (CeCILL-2.1)": "CECILL-2.1",
}
# Free-text License fields people write instead of an SPDX identifier.
ALIASES = {
    "bsd": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "mit license": "MIT",
    "apache 2.0": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "psf": "PSF-2.0",
    "mpl-2.0": "MPL-2.0",
    "mpl 2.0": "MPL-2.0",
    "lgpl": "LGPL-2.1-or-later",
}


@dataclass
class Distribution:
    name: str  # canonical
    display: str
    version: str
    licence: str | None  # SPDX expression, or None when unknown
    licence_source: str  # where it came from: License-Expression, License, classifier, none
    summary: str
    licence_text: str | None = None  # what the metadata says when it is not SPDX
    requires: set[str] = field(default_factory=set)  # canonical names of installed ones


def _spdx(text: str) -> str | None:
    from commune.govern.licences import spdx_licensing

    text = text.strip()
    if not text or "\n" in text or len(text) > 100:
        return None  # a licence's full text pasted in the field: no identifier to read
    text = ALIASES.get(text.lower(), text)
    try:
        parsed = spdx_licensing().parse(text, validate=True, strict=True)
    except Exception:  # license-expression raises several kinds for unknown symbols
        return None
    return str(parsed) if parsed is not None else None


def licence_of(meta: Any) -> tuple[str | None, str]:
    """``meta``: a distribution's metadata (an email.message.Message underneath)."""
    expression = meta.get("License-Expression")
    if expression and (spdx := _spdx(expression)):
        return spdx, "License-Expression"
    field_value = meta.get("License")
    if field_value and (spdx := _spdx(field_value)):
        return spdx, "License"
    found = []
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License ::"):
            label = classifier.split("::")[-1].strip()
            if label in CLASSIFIERS:
                found.append(CLASSIFIERS[label])
    if found:
        return " OR ".join(sorted(set(found))), "classifier"
    return None, "none"


# Commune's name on the package index: "commune" there is an unrelated project of 2020
# (issue 24). The import name stays `commune`.
DISTRIBUTION = "commune-coop"


def own_distribution() -> str:
    """The canonical name of the distribution that installed the `commune` package, read
    rather than assumed: an environment set up before the rename still calls it "commune"."""
    names = metadata.packages_distributions().get("commune") or [DISTRIBUTION]
    return str(canonicalize_name(names[0]))


def installed(root: str | None = None) -> dict[str, Distribution]:
    """Every distribution of this environment, with edges to the installed ones it requires.
    The root (Commune, ``own_distribution()`` by default) keeps its optional extras' edges
    where they are installed: they are part of this deployment; other distributions keep
    their unconditional requirements."""
    dists: dict[str, Distribution] = {}
    raw: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        meta: Any = dist.metadata
        if meta is None or not meta.get("Name"):
            continue
        name = str(canonicalize_name(meta["Name"]))
        if name in dists:
            continue  # the same distribution seen twice on the path: the first one wins
        licence, source = licence_of(meta)
        declared = meta.get("License-Expression") or meta.get("License")
        dists[name] = Distribution(
            name,
            meta["Name"],
            dist.version,
            licence,
            source,
            meta.get("Summary") or "",
            None if licence or not declared else declared.strip()[:200],
        )
        raw[name] = dist.requires or []
    root_name = canonicalize_name(root or own_distribution())
    for name, requirements in raw.items():
        for text in requirements:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            target = str(canonicalize_name(req.name))
            if target not in dists or target == name:
                continue
            if req.marker is not None:
                extras = _extras(req.marker) if name == root_name else []
                environments = [{"extra": e} for e in extras] or [{"extra": ""}]
                if not any(req.marker.evaluate(env) for env in environments):
                    continue
            dists[name].requires.add(target)
    return dists


def _extras(marker: object) -> list[str]:
    return re.findall(r'extra\s*==\s*"([^"]+)"', str(marker))
