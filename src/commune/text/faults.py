"""The machine's faults — a full or read-only disk, a permission, a locked database, a link
loop — as one line in the reader's language that says what to do next.

Issue 22: these printed 50 to 80 lines of traceback ending in the one that mattered; issue
24: in French too. :func:`kind` names the fault (a stable code the API also sends);
:func:`for_operator` is the CLI's line, with the paths (the operator owns them);
:func:`for_caller` is the API's, without them (a caller is not told the server's paths)."""

from __future__ import annotations

import errno
import re
import sqlite3
from collections.abc import Iterator

from commune.text.say import say

# (errno or SQLite wording) -> the fault's code.
_ERRNOS = {
    errno.EROFS: "read_only",
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EACCES: "permission_denied",
    errno.EPERM: "permission_denied",
    errno.ELOOP: "link_loop",
    errno.ENOENT: "missing_file",
}
_SQLITE = (
    ("readonly database", "read_only"),
    ("disk is full", "disk_full"),
    ("database is locked", "database_locked"),
    ("unable to open database file", "cannot_open_database"),
)


# A file that is not a database, or one damaged (a truncated copy, a disk's fault).
_DAMAGED = ("file is not a database", "database disk image is malformed")

# Two writers at the same moment: a unique key both checked free and both wrote (PostgreSQL
# blocks the second until the first commits, then refuses it), a deadlock, or a
# serialisation failure. The transaction was rolled back: run again, the second sees the
# first's row and says what it is ("already exists"). PostgreSQL's SQLSTATE codes: unique
# violation, deadlock detected, serialisation failure.
_CONFLICTS = ("23505", "40P01", "40001")


# PostgreSQL reached, but taking no write: a hot standby or a replica, or
# default_transaction_read_only on for the role or the database (SQLSTATE 25006,
# read_only_sql_transaction). SQLite's "readonly database" is the same fault, and a caller
# is told the same; the operator's line differs: no disk or --home changes it, database_url
# or the server's setting does. Waiting or running again does not help either.
_READ_ONLY = "25006"


# PostgreSQL out of reach (stopped, restarting, the network): a connection refused or cut.
# SQLSTATE class 08 (connection exception) and 57P01-57P03 (shut down, cannot connect now);
# psycopg sets no code when the socket itself failed. Told as an incident, a caller read a
# bug of Commune's where the operator had a database to start again.
_UNREACHABLE = ("57P01", "57P02", "57P03")


# PostgreSQL reached, but it will not let Commune in: a wrong password, a role or a database
# that does not exist. psycopg sets no SQLSTATE on a failed connection either, so these were
# told "unreachable: retry", and a retry never heals them: database_url is wrong. The
# server's own words (its lc_messages: English, or French on a French-speaking server).
_REFUSED = (
    "password authentication failed",
    "authentication failed for user",
    "no password supplied",
    "no pg_hba.conf entry",
    re.compile(r'database ".*" does not exist'),
    re.compile(r'role ".*" does not exist'),
    "l'authentification par mot de passe a échoué",
    "aucun mot de passe n'a été fourni",
    re.compile(r"la base de données « .* » n'existe pas"),
    re.compile(r"le rôle « .* » n'existe pas"),
)


def _refused(e: BaseException) -> bool:
    if not type(e).__module__.startswith("psycopg") or getattr(e, "sqlstate", None):
        return False
    said = str(e)
    return any(
        words.search(said) if isinstance(words, re.Pattern) else words in said for words in _REFUSED
    )


def _unreachable(e: BaseException) -> bool:
    if not type(e).__module__.startswith("psycopg"):
        return False
    state = getattr(e, "sqlstate", None)
    if state is None:
        # A refusal or a cut is psycopg's OperationalError itself; a host that drops the
        # packets (down, behind a firewall) is its ConnectionTimeout, which was told as a bug
        # (500). Not every subclass: PipelineAborted follows another statement's own error.
        return type(e).__name__ in ("OperationalError", "ConnectionTimeout")
    return str(state).startswith("08") or state in _UNREACHABLE


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: SQLAlchemy keeps SQLite's own error as ``orig``."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        yield e
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]


def machine_fault_classes() -> tuple[type[Exception], ...]:
    """The exception classes a fault of the machine arrives as (the database's driver,
    wrapped by SQLAlchemy, and the system's calls), for a face that answers them by class
    (api/errors.py): what :func:`kind` then names, or logs as an incident."""
    from sqlalchemy.exc import DBAPIError

    return (DBAPIError, OSError)


def kind(exc: BaseException) -> tuple[str, str | None, str] | None:
    """(code, the path concerned or None, the system's own words) for a fault of the
    machine; None for anything else, whose traceback is worth keeping."""
    for e in _causes(exc):
        if isinstance(e, OSError) and e.errno in _ERRNOS:
            return _ERRNOS[e.errno], e.filename, e.strerror or str(e)
        if isinstance(e, sqlite3.OperationalError):
            said = str(e).lower()
            for words, code in _SQLITE:
                if words in said:
                    return code, None, f"SQLite: {e}"
        if isinstance(e, sqlite3.DatabaseError) and any(
            words in str(e).lower() for words in _DAMAGED
        ):
            return "damaged_database", None, f"SQLite: {e}"
        if getattr(e, "sqlstate", None) == _READ_ONLY:
            return "read_only", None, _first_lines(e)
        if getattr(e, "sqlstate", None) in _CONFLICTS:  # psycopg's errors carry their code
            return "conflict", None, _first_lines(e)
        if _refused(e):
            return "database_refused", None, _first_lines(e)
        if _unreachable(e):
            return "database_unreachable", None, _first_lines(e)
        if isinstance(e, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(e):
            return "conflict", None, f"SQLite: {e}"
        if isinstance(e, RuntimeError) and str(e).startswith("Symlink loop"):
            return "link_loop", None, str(e)
    return None


def _first_lines(e: BaseException) -> str:
    """PostgreSQL's message and its DETAIL (which key), without the statement."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return "PostgreSQL: " + " ".join(lines[:2])


def for_operator(exc: BaseException, home: str, language: str | None) -> str | None:
    """The CLI's one line for a fault of the machine, naming the home and the path."""
    found = kind(exc)
    if found is None:
        return None
    code, path, words = found
    where = path or home
    if code == "read_only" and words.startswith("PostgreSQL: "):
        # The home's disk may be writable: what takes no write is the server database_url
        # names (a replica, or default_transaction_read_only), and --home would not help.
        return say(
            language,
            f"la base de données PostgreSQL du service n'accepte aucune écriture ({words})"
            "\u00a0: rien n'a été enregistré\u00a0; faites pointer database_url de commune.toml "
            "vers le serveur primaire, pas un réplica, ou mettez default_transaction_read_only "
            "à off pour son rôle et sa base, puis relancez la commande",
            f"the service's PostgreSQL database takes no write ({words}): nothing was written; "
            "point database_url in commune.toml at the primary server, not a replica, or set "
            "default_transaction_read_only to off for its role and database, then run the "
            "command again",
        )
    lines = {
        "read_only": say(
            language,
            f"le dossier {home} est en lecture seule (impossible d'écrire {where})\u00a0: "
            "vérifiez ses droits ou son montage, ou utilisez --home DOSSIER sur un disque "
            "accessible en écriture",
            f"the home {home} is read-only (cannot write {where}): check its permissions or "
            "mount, or use --home DIR on a writable disk",
        ),
        "disk_full": say(
            language,
            f"le disque qui porte {home} est plein (impossible d'écrire {where})\u00a0: ce qui "
            "était enregistré avant est intact\u00a0; libérez de la place, ou utilisez --home "
            "DOSSIER sur un autre disque, puis relancez la commande",
            f"the disk holding {home} is full (cannot write {where}): what was stored before is "
            "whole; free some space, or use --home DIR on another disk, then run the command "
            "again",
        ),
        "permission_denied": say(
            language,
            f"permission refusée sur {where}\u00a0: vérifiez son propriétaire et ses droits "
            "(ls -l), ou utilisez --home DOSSIER",
            f"permission denied on {where}: check its owner and permissions (ls -l), or use "
            "--home DIR",
        ),
        "link_loop": say(
            language,
            f"une boucle de liens symboliques ({path or words})\u00a0: supprimez ou corrigez le "
            "lien",
            f"a symbolic link loop at {path or words}: remove or fix the link",
        ),
        "missing_file": say(
            language,
            f"{where} n'existe pas\u00a0: vérifiez le chemin",
            f"{where} does not exist: check the path",
        ),
        "database_locked": say(
            language,
            f"la base de {home} est verrouillée par un autre processus ({words})\u00a0: attendez "
            "qu'il finisse (une sauvegarde, un autre commune) et relancez la commande",
            f"the database in {home} is locked by another process ({words}): wait for it to "
            "finish (a backup, another commune) and run the command again",
        ),
        "damaged_database": say(
            language,
            f"la base de {home} n'est pas une base SQLite lisible ({words})\u00a0: restaurez la "
            "dernière sauvegarde (commune restore SAUVEGARDE --force), ou utilisez --home DOSSIER",
            f"the database in {home} is not a readable SQLite database ({words}): restore the "
            "latest backup (commune restore BACKUP --force), or use --home DIR",
        ),
        "conflict": say(
            language,
            f"une autre commande ou requête a écrit la même chose au même moment ({words})\u00a0: "
            "ce changement-ci n'a pas été enregistré\u00a0; relancez la commande",
            f"another command or request wrote the same thing at the same moment ({words}): "
            "this change was not written; run the command again",
        ),
        "database_unreachable": say(
            language,
            f"la base de données du service est injoignable ({words})\u00a0: vérifiez que "
            "PostgreSQL tourne et que database_url est juste, puis relancez la commande",
            f"the service's database cannot be reached ({words}): check that PostgreSQL runs "
            "and that database_url is right, then run the command again",
        ),
        "database_refused": say(
            language,
            f"PostgreSQL refuse la connexion du service ({words})\u00a0: relancer n'y changera "
            "rien, vérifiez database_url dans commune.toml (l'utilisateur, le mot de passe, le "
            "nom de la base), puis relancez la commande",
            f"PostgreSQL refuses the service's connection ({words}): running again will not "
            "help; check database_url in commune.toml (the user, the password, the database "
            "name), then run the command again",
        ),
        "cannot_open_database": say(
            language,
            f"impossible d'ouvrir la base dans {home}\u00a0: vérifiez que le dossier existe et que "
            "ses droits vous permettent d'écrire, ou utilisez --home DOSSIER",
            f"cannot open the database in {home}: check that the directory exists and that "
            "its permissions let you write, or use --home DIR",
        ),
    }
    return lines[code]


def for_caller(exc: BaseException, language: str | None) -> tuple[str, str] | None:
    """(code, line) for an API caller: what is wrong on the server and what to do, without
    its paths; None for anything else (answered as an incident)."""
    found = kind(exc)
    if found is None:
        return None
    code = found[0]
    return code, caller_line(code, language)


def caller_line(code: str, language: str | None) -> str:
    """The API caller's line for a fault of the machine named by its ``code`` ("disk_full"),
    said before any write fails (/healthz)."""
    fr, en = _FOR_CALLER.get(code, _FOR_CALLER["missing_file"])
    return say(language, fr, en)


_FOR_CALLER = {
    "read_only": (
        "le stockage du serveur est en lecture seule\u00a0: prévenez l'opérateur du service",
        "the server's storage is read-only: tell the service's operator",
    ),
    "disk_full": (
        "le disque du serveur est plein, rien de ce qui était enregistré n'est perdu\u00a0: "
        "prévenez l'opérateur du service",
        "the server's disk is full, nothing stored before is lost: tell the service's operator",
    ),
    "permission_denied": (
        "le serveur n'a pas le droit d'écrire dans son stockage\u00a0: prévenez l'opérateur du "
        "service",
        "the server may not write to its storage: tell the service's operator",
    ),
    "database_locked": (
        "la base du serveur est occupée\u00a0: réessayez dans quelques secondes, puis prévenez "
        "l'opérateur du service si cela dure",
        "the server's database is busy: retry in a few seconds, then tell the service's "
        "operator if it lasts",
    ),
    "damaged_database": (
        "la base du serveur est endommagée\u00a0: prévenez l'opérateur du service",
        "the server's database is damaged: tell the service's operator",
    ),
    "conflict": (
        "une autre requête a écrit la même chose au même moment, celle-ci n'a rien "
        "enregistré\u00a0: réessayez",
        "another request wrote the same thing at the same moment, this one wrote nothing: retry",
    ),
    "database_unreachable": (
        "le serveur ne joint plus sa base de données\u00a0: réessayez dans un moment, puis "
        "prévenez l'opérateur du service si cela dure",
        "the server cannot reach its database: retry in a moment, then tell the service's "
        "operator if it lasts",
    ),
    "database_refused": (
        "la base de données du serveur refuse sa connexion (un réglage du serveur)\u00a0: "
        "prévenez l'opérateur du service",
        "the server's database refuses its connection (a setting of the server's): tell the "
        "service's operator",
    ),
    "cannot_open_database": (
        "le serveur ne peut pas ouvrir sa base\u00a0: prévenez l'opérateur du service",
        "the server cannot open its database: tell the service's operator",
    ),
    "missing_file": (
        "le serveur ne trouve pas un de ses fichiers\u00a0: prévenez l'opérateur du service",
        "the server cannot find one of its files: tell the service's operator",
    ),
}
