"""A request whose fields do not match the route's, said in one line in the caller's language.

FastAPI answers such a request with pydantic's list (``{"detail": [{"loc", "msg", "type",
…}]}``), which the OpenAPI description declares and programs may read; its ``msg`` is
pydantic's English for developers ("Input should be a valid string"). A town hall's
integrator reading French got English only, and no line to show. :func:`one_line` reads the
list's ``type`` and ``ctx`` (pydantic's stable error codes) into "question : une chaîne de
caractères est attendue"; a code not known here keeps pydantic's own words, so a later
pydantic's new code still says something true.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from commune.text.say import say

# pydantic's error type -> (French, English), formatted with the error's ``ctx``.
_SAID: dict[str, tuple[str, str]] = {
    "missing": ("champ requis", "required"),
    "string_type": ("une chaîne de caractères est attendue", "a string is expected"),
    "int_type": ("un nombre entier est attendu", "an integer is expected"),
    "int_parsing": ("un nombre entier est attendu", "an integer is expected"),
    "int_from_float": ("un nombre entier est attendu", "an integer is expected"),
    "float_type": ("un nombre est attendu", "a number is expected"),
    "float_parsing": ("un nombre est attendu", "a number is expected"),
    "bool_type": ("true ou false est attendu", "true or false is expected"),
    "bool_parsing": ("true ou false est attendu", "true or false is expected"),
    "list_type": ("une liste est attendue", "a list is expected"),
    "dict_type": ("un objet JSON est attendu", "a JSON object is expected"),
    "model_type": ("un objet JSON est attendu", "a JSON object is expected"),
    "model_attributes_type": ("un objet JSON est attendu", "a JSON object is expected"),
    "greater_than": ("doit être supérieur à {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("doit être au moins {ge}", "must be at least {ge}"),
    "less_than": ("doit être inférieur à {lt}", "must be less than {lt}"),
    "less_than_equal": ("doit être au plus {le}", "must be at most {le}"),
    "string_too_short": (
        "trop court (au moins {min_length} caractère(s))",
        "too short (at least {min_length} character(s))",
    ),
    "string_too_long": (
        "trop long (au plus {max_length} caractères)",
        "too long (at most {max_length} characters)",
    ),
    "too_short": (
        "trop court (au moins {min_length} élément(s))",
        "too short (at least {min_length} item(s))",
    ),
    "too_long": (
        "trop long (au plus {max_length} éléments)",
        "too long (at most {max_length} items)",
    ),
    "string_pattern_mismatch": (
        "valeur non admise (motif {pattern})",
        "value not allowed (pattern {pattern})",
    ),
    "literal_error": ("doit être {expected}", "must be {expected}"),
    "enum": ("doit être {expected}", "must be {expected}"),
    "extra_forbidden": ("champ inconnu", "unknown field"),
}


def _field(loc: Iterable[Any], language: str) -> str:
    """The field's path without where it came from ("body", "query"): "messages.0.content";
    the body itself when nothing is left (a body that is a list, not an object)."""
    path = [str(p) for p in loc][1:]  # the first is the request's part: body, query, path
    return ".".join(path) or say(language, "le corps de la requête", "the request body")


def _part(error: Mapping[str, Any], language: str) -> str:
    loc = list(error.get("loc", ()))
    if error.get("type") == "json_invalid":  # its loc is ("body", the character's position)
        at = loc[-1] if len(loc) > 1 else 0
        return say(
            language,
            f"le corps de la requête n'est pas du JSON valide (caractère {at})",
            f"the request body is not valid JSON (character {at})",
        )
    return f"{_field(loc, language)}{say(language, ' :', ':')} {_what(error, language)}"


def _what(error: Mapping[str, Any], language: str) -> str:
    said = _SAID.get(str(error.get("type", "")))
    ctx = error.get("ctx") or {}
    if said is not None:
        try:
            return say(language, *said).format(**ctx)
        except (KeyError, IndexError):  # a ctx without the value: pydantic's words, below
            pass
    return str(error.get("msg", ""))


def one_line(errors: Iterable[Mapping[str, Any]], language: str) -> str:
    """Every wrong field and what it should be, then where the API is described."""
    shown = say(language, " ; ", "; ").join(_part(e, language) for e in errors) or say(
        language, "requête non valide", "invalid request"
    )
    return shown + say(language, " (l'API est décrite sur /docs)", " (the API is listed at /docs)")
