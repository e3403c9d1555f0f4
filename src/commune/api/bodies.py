"""A request body the framework could not parse, said in Commune's words.

Starlette and FastAPI refuse such a body with their own English ("There was an error parsing
the body", "Missing boundary in multipart."): a 400 that says nothing of what to do, in
English to a French caller. :func:`unreadable` reads their refusal into one of Commune's
lines, "what happened (what to do)", which text/messages.py says in French.
"""

from __future__ import annotations

import re

from starlette.requests import Request

# A client that sets Content-Type: multipart/form-data itself leaves out the boundary its
# form support would have added: the usual cause of the first line below.
_FORM = "send the files with your client's form support, e.g. curl -F files=@FILE"
_SEVERAL = "send them in several requests"

# starlette/formparsers.py's MultiPartException messages, which its Request.form() raises
# as the detail of a 400; NAME is what the line says when the pattern matches.
_MULTIPART = [
    (
        re.compile(r"Missing boundary in multipart\."),
        f"the multipart body has no boundary in its Content-Type ({_FORM})",
    ),
    (re.compile(r"Invalid multipart data\."), f"the multipart body is not readable ({_FORM})"),
    (
        re.compile(r'The Content-Disposition header field "name" must be provided\.'),
        f"a part of the multipart body has no name ({_FORM})",
    ),
    (
        re.compile(r"Too many files\. Maximum number of files is (?P<n>\d+)\."),
        f"more than {{n}} files in one request ({_SEVERAL})",
    ),
    (
        re.compile(r"Too many fields\. Maximum number of fields is (?P<n>\d+)\."),
        f"more than {{n}} form fields in one request ({_SEVERAL})",
    ),
    (
        re.compile(r"(?:Field|Part) exceeded maximum size of (?P<n>\d+)KB\."),
        "a form field is over {n} KB (shorten it)",
    ),
]


def unreadable(request: Request, detail: str, cause: BaseException | None) -> str:
    """Commune's line for the framework's 400 ``detail`` on ``request``; ``cause`` is the
    exception FastAPI's "There was an error parsing the body" was raised from, if any."""
    for pattern, line in _MULTIPART:
        found = pattern.fullmatch(detail)
        if found:
            return line.format(**found.groupdict())
    if isinstance(cause, UnicodeDecodeError):  # json.loads guesses UTF-8, -16 or -32
        return "the request body is not text in UTF-8 (send JSON encoded in UTF-8)"
    if isinstance(cause, RecursionError):  # deeper than Python's JSON parser goes
        return "the request body is nested too deeply to be read (send flatter JSON)"
    kind = request.headers.get("content-type", "").split(";")[0].strip()[:80] or "none"
    return (
        f"the request body could not be read as {kind} "
        "(check its Content-Type and its encoding; the API is listed at /docs)"
    )
