"""What others are shown of where a document came from: a policy of visibility, read by the
pages, the API, MCP, search, answers and the open-data export alike."""

from __future__ import annotations

from pathlib import Path


def public_source(source: str) -> str:
    """What others are shown of where a document came from. A document added without
    ``--source`` has for address the file's absolute path on the operator's machine
    (/home/alice/mairie/…): nobody else can follow it, and it tells them a user name and
    folders. They are given the file's name; the operator keeps the whole path."""
    if source.startswith("/"):
        return Path(source).name or source
    return source
