"""Wrong API keys and passwords, counted per address and per key or account they claim: the
one count for the API, /mcp and the web's sign-in page (``app.state.failed_sign_ins``)."""

from __future__ import annotations

import ipaddress
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from commune.govern.guesses import WrongTries
from commune.govern.quotas import QuotaExceeded, waiting

if TYPE_CHECKING:
    from starlette.requests import Request


def key_prefix(key: str) -> str | None:
    """The public part of a key (``cmn_<prefix>_<secret>``), which names the key it claims to
    be: guesses at one key are counted under it, whatever address they come from."""
    parts = key.split("_")
    return f"key cmn_{parts[1]}" if len(parts) >= 3 and parts[0] == "cmn" and parts[1] else None


def user_claim(user: str | None) -> str | None:
    """The count a password typed for ``user`` is a guess under: the name casefolded, as the
    sign-in compares it (govern/accounts._signing_in). Counted in lower case, each spelling
    that opens one account ("stephanie", "ſtephanie" with the long s, "straße" and
    "STRASSE") had a count of its own, and the limit per account was the limit per
    spelling."""
    return f"user {user.casefold()}" if user else None


# The longest claim counted as itself: "user " and a name (govern/members.MAX_NAME: 200
# characters), or a key's prefix. A longer one names no account; kept whole, each wrong
# sign-in's user field (up to [limits] max_body_kb, a megabyte) stayed in memory for the
# window, a megabyte a request from anyone who can reach the sign-in page (and was hashed
# whole, now that the count is kept in the database by its SHA-256).
MAX_CLAIM = 256


def source(host: str) -> str:
    """Whom the count by address counts: an IPv4 address, or the /48 network of an IPv6 one.
    A single IPv6 subscriber (a home, a rented server) is given a whole /64, 2**64 addresses
    to choose from: counted per address, each guess came from a new one, and the limit by
    address, which bounds guessing across accounts (password spraying), never applied. The
    limit per account held, but twenty tries a minute at every account of the cooperative
    is what the limit by address is there to stop. A /48, not the /64: a home is commonly
    delegated a /56 (256 /64s), a site or a free tunnel broker's account a /48 (65,536), each
    /64 of which was a fresh count. A /48 shared by many (a mobile carrier's) is a NAT's
    address: their wrong guesses share a count, and a right credential is still accepted."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # "?" (no client), or a test client's name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1, a dual-stack socket's IPv4
            return str(address.ipv4_mapped)
        if address.sixtofour is not None:  # 2002:c000:201::/48, 6to4: one IPv4's own
            return str(address.sixtofour)
        return str(ipaddress.IPv6Network(f"{address}/48", strict=False))
    return str(address)


class FailedSignIns:
    """Wrong keys and passwords, counted per address and per key or account they claim.

    Past ``limit`` in ``window_s`` on either count, a further WRONG credential is answered
    429 with Retry-After instead of 401, which tells a guesser to stop. A right one is always
    checked and always accepted: twenty guesses from behind a shared address (a NAT, a
    proxy) used to lock out every key of the cooperative (issue 22). What guessing is up
    against is the credentials' strength: keys carry 190 bits of randomness, passwords are
    argon2id hashes of checked strength.

    Counted in the database (``tries``: Commune.wrong_tries, govern/guesses.py), one count
    for every server process of the deployment: counted in each process's memory, N
    processes behind a proxy allowed a guesser N times the limit. Without ``tries`` (a test
    of the rule alone), in a database of its own in memory.

    Once the database has said a count is past the limit, this process refuses the next
    wrong tries under it from memory, until the wait it gave ends, without writing: each was
    a write, refused ones too, and a flood of wrong keys kept SQLite's one write lock busy
    (some 240 a second), every answer's ledger row waiting behind them. A guesser is then
    checked again at the end of each wait: the limit's tries a window, no more."""

    def __init__(
        self, limit: int = 20, window_s: float = 60.0, tries: WrongTries | None = None
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.tries = tries or WrongTries()
        self.refused: dict[str, float] = {}  # a count's name: refused until (time.time())
        self.lock = threading.Lock()

    def clear(self) -> None:
        """Forget every wrong try counted so far, in every process."""
        with self.lock:
            self.refused.clear()
        self.tries.clear()

    def failed(self, host: str, claimed: str | None, what: str = "API keys") -> None:
        """Count one wrong credential from ``host`` claiming ``claimed`` (a key's prefix or a
        user name; None when it names nothing); QuotaExceeded when either count had already
        reached the limit, else return (the caller answers 401)."""
        host = source(host)
        names = [f"address {host}"]
        claimed = claimed[:MAX_CLAIM] if claimed else claimed
        if claimed:
            names.append(f"claimed {claimed}")
        at = time.time()
        with self.lock:  # refused already: nothing written (a wait past the window: the
            # clock was set back since, and the database decides)
            held = [w for n in names if 0 < (w := self.refused.get(n, 0.0) - at) <= self.window_s]
        full = None if held else self.tries.count(names, self.limit, self.window_s, at)
        if full is not None:
            with self.lock:
                if len(self.refused) > 10000:  # forget the refusals that ended
                    self.refused = {n: u for n, u in self.refused.items() if u > at}
                for name, left in full.items():
                    self.refused[name] = at + left
            held = list(full.values())
        if held:
            wait = max(1, int(max(held)) + 1)
            raise QuotaExceeded(
                f"too many failed {what}: retry in {waiting(wait)}",
                "failed sign-ins",
                wait,
                datetime.now(UTC) + timedelta(seconds=wait),
                said_in_full=True,
            )


async def guessed(request: Request, user: str | None) -> None:
    """Count a wrong password the signed-in ``user`` typed to confirm an action (a password
    change, a key made, another's password reset: the web's forms and the API's) as a guess
    at it, as on the sign-in page: against the address and the account, 429 past the limit.
    Without the count, a stolen session or key could try passwords there without end. In a
    thread: the count is a write to the database, which may wait for another writer, and
    from the event loop that wait held every request of the process."""
    from starlette.concurrency import run_in_threadpool

    failures: FailedSignIns = request.app.state.failed_sign_ins
    host = request.client.host if request.client else "?"
    await run_in_threadpool(failures.failed, host, user_claim(user), "sign-ins")
