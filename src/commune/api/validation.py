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

from commune.text.messages import localise
from commune.text.numbers import exact, plural
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
    # 1e309 in JSON is read as infinity: "Input should be a finite number" stayed English.
    "finite_number": ("un nombre fini est attendu", "a finite number is expected"),
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
    "string_pattern_mismatch": (
        "valeur non admise (motif {pattern})",
        "value not allowed (pattern {pattern})",
    ),
    "literal_error": ("doit être {expected}", "must be {expected}"),
    "enum": ("doit être {expected}", "must be {expected}"),
    "extra_forbidden": ("champ inconnu", "unknown field"),
}


# The errors that give a count: each said with its plural (numbers.plural), by the count's
# name in ``ctx``. « au moins 1 élément(s) » read as a form to fill in.
_COUNTED: dict[str, tuple[str, str, str, str, str]] = {
    "string_too_short": (
        "min_length",
        "trop court (au moins {n} caractère)",
        "trop court (au moins {n} caractères)",
        "too short (at least {n} character)",
        "too short (at least {n} characters)",
    ),
    "string_too_long": (
        "max_length",
        "trop long (au plus {n} caractère)",
        "trop long (au plus {n} caractères)",
        "too long (at most {n} character)",
        "too long (at most {n} characters)",
    ),
    "too_short": (
        "min_length",
        "trop court (au moins {n} élément)",
        "trop court (au moins {n} éléments)",
        "too short (at least {n} item)",
        "too short (at least {n} items)",
    ),
    "too_long": (
        "max_length",
        "trop long (au plus {n} élément)",
        "trop long (au plus {n} éléments)",
        "too long (at most {n} item)",
        "too long (at most {n} items)",
    ),
}


# pydantic names a union's member in the location ("input", "list[str]"): not a field.
_SIMPLE_TYPES = frozenset({"str", "int", "float", "bool", "bytes", "list", "dict", "none"})


def _field(loc: Iterable[Any], language: str) -> str:
    """The field's path without where it came from ("body", "query") nor a union's member:
    "messages.0.content"; the body itself when nothing is left (a body that is a list)."""
    path = [
        str(p)
        for p in list(loc)[1:]  # the first is the request's part: body, query, path
        if not (isinstance(p, str) and ("[" in p or p in _SIMPLE_TYPES))
    ]
    return ".".join(path) or say(language, "le corps de la requête", "the request body")


def param_of(errors: Iterable[Mapping[str, Any]]) -> str | None:
    """The first wrong field as OpenAI's error object names it in ``param``
    (``messages[0].role``); None for the body as a whole (not JSON, not an object)."""
    first = next(iter(errors), None)
    if first is None or first.get("type") == "json_invalid":
        return None
    name = ""
    for part in list(first.get("loc", ()))[1:]:
        if isinstance(part, int):
            name += f"[{part}]"
        elif not ("[" in part or part in _SIMPLE_TYPES):
            name += f".{part}" if name else str(part)
    return name or None


def _what(error: Mapping[str, Any], language: str) -> str:
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    if kind == "value_error" and "UploadFile" in str(error.get("msg", "")):
        # A form field sent as text where a file is wanted (-F 'files=text' for -F files=@f).
        return say(
            language,
            "un fichier est attendu, pas un texte",
            "a file is expected, not text",
        )
    if kind == "value_error" and "error" in ctx:  # the route's own check, in our words
        # Encoded for JSON, the exception is {} (jsonable_encoder): its words are the msg's.
        own = ctx["error"] if isinstance(ctx["error"], str) and ctx["error"] else ""
        own = own or str(error.get("msg", "")).removeprefix("Value error, ")
        return localise(own, language)
    counted = _COUNTED.get(kind)
    if counted is not None and isinstance(ctx.get(counted[0]), int):
        name, fr_one, fr_many, en_one, en_many = counted
        n = ctx[name]
        return say(language, plural("fr", n, fr_one, fr_many), plural("en", n, en_one, en_many))
    said = _SAID.get(kind)
    if said is not None:
        if language == "fr" and isinstance(ctx.get("expected"), str):  # "'a', 'b' or 'c'"
            ctx["expected"] = ctx["expected"].replace(" or ", " ou ")
        try:
            return say(language, *said).format(**ctx)
        except (KeyError, IndexError):  # a ctx without the value: pydantic's words, below
            pass
    return str(error.get("msg", ""))


def numbers_as_written(
    errors: Iterable[Mapping[str, Any]], language: str
) -> list[Mapping[str, Any]]:
    """``errors`` with the bounds in their ``ctx`` written as a reader of ``language`` writes
    them (numbers.exact): a page read « au plus 9223372036854775807 », nineteen digits in one
    block, where it writes 9 223 372 036 854 775 807 everywhere else. For the web's pages:
    the API's line keeps the digits a program's author copies into code. A count keeps its
    number, which its plural (numbers.plural) writes itself."""
    written: list[Mapping[str, Any]] = []
    for e in errors:
        counted = _COUNTED.get(str(e.get("type", "")), ("",))[0]
        ctx = {
            name: exact(value, language)
            if isinstance(value, int | float) and not isinstance(value, bool) and name != counted
            else value
            for name, value in dict(e.get("ctx") or {}).items()
        }
        written.append({**e, "ctx": ctx} if ctx else e)
    return written


def one_line(errors: Iterable[Mapping[str, Any]], language: str) -> str:
    """Every wrong field and what it should be, then where the API is described."""
    return what_is_wrong(errors, language) + say(
        language, " (l'API est décrite sur /docs)", " (the API is listed at /docs)"
    )


def what_is_wrong(errors: Iterable[Mapping[str, Any]], language: str) -> str:
    """Every wrong field and what it should be ("days : un nombre entier est attendu", with a
    no-break space before the French colon). A field a union types says each of its members'
    wants once, joined by "or"."""
    wants: dict[str, list[str]] = {}
    for e in errors:
        loc = list(e.get("loc", ()))
        if e.get("type") == "json_invalid":  # its loc is ("body", the character's index)
            at = (loc[-1] if len(loc) > 1 and isinstance(loc[-1], int) else 0) + 1
            wants.setdefault("", []).append(
                say(
                    language,
                    f"le corps de la requête n'est pas du JSON valide (au caractère {at})",
                    f"the request body is not valid JSON (at character {at})",
                )
            )
            continue
        said = wants.setdefault(_field(loc, language), [])
        what = _what(e, language)
        if what not in said:
            said.append(what)
    colon = say(language, "\u00a0:", ":")  # French typography: a no-break space before it
    parts = [
        f"{field}{colon} " + say(language, " ou ", " or ").join(said) if field else " ".join(said)
        for field, said in wants.items()
    ]
    # French puts a no-break space before its semicolon too (text/typography.py).
    return say(language, "\u00a0; ", "; ").join(parts) or say(
        language, "requête non valide", "invalid request"
    )
