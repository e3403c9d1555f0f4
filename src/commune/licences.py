"""Licences as SPDX expressions, validated with license-expression."""

from __future__ import annotations

from functools import lru_cache

from commune.errors import CommuneError


@lru_cache(maxsize=1)
def _licensing():  # type: ignore[no-untyped-def]
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def normalise(expression: str) -> str:
    """Return the canonical SPDX form of ``expression`` or raise with the reason."""
    info = _licensing().validate(expression.strip())
    if info.errors or info.invalid_symbols:
        detail = "; ".join(info.errors) or f"unknown: {', '.join(info.invalid_symbols)}"
        raise CommuneError(
            f"invalid licence {expression!r}: {detail}",
            "give an SPDX expression such as CC-BY-SA-4.0, etalab-2.0 or "
            "'GPL-2.0-or-later OR CC-BY-SA-3.0'",
        )
    return str(info.normalized_expression)
