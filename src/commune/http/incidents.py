"""A failure of ours, told to whoever asked: a named fault of the server's machine, or an
incident number; the traceback goes to the operator's log only. One piece for the 500s of
api/errors.py and the streams that fail after their 200 (http/sse.py)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from commune.text import faults

log = logging.getLogger("commune.api")


@dataclass(frozen=True)
class Incident:
    code: str
    message: str  # a fault's line in the caller's language; otherwise English, to localise
    number: str


def incident(exc: BaseException, language: str, where: str) -> Incident:
    """Log ``exc`` under a new incident number (``where``: what failed), and say what the
    caller is told. A fault of the machine (full disk, read-only storage, locked database)
    is named, without its paths, so that the caller knows whom to tell (text/faults.py)."""
    number = uuid.uuid4().hex[:8]
    found = faults.kind(exc)
    if found is not None and found[0] == "database_unreachable":
        # One line, the driver's own, without the traceback: a load balancer's /healthz probe
        # every few seconds wrote some forty lines of the same trace each while PostgreSQL was
        # down, and buried the journal the operator reads to find when it went.
        log.error("incident %s %s: database unreachable: %s", number, where, found[2])
    elif found is not None and found[0] == "database_refused":
        # Neither a traceback nor "unreachable": the operator's own setting is wrong, and the
        # line says which one to check.
        log.error(
            "incident %s %s: PostgreSQL refuses the connection (%s): check database_url in "
            "commune.toml (the user, the password, the database name)",
            number,
            where,
            found[2],
        )
    else:
        log.error("incident %s %s", number, where, exc_info=exc)
    fault = faults.for_caller(exc, language)
    if fault is not None:
        code, line = fault
        return Incident(code, f"{line} (incident {number})", number)
    return Incident(
        "internal_error", f"internal error (incident {number}): the operator's log has it", number
    )
