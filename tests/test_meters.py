"""A request that fails leaves the requests at work at once.

Each request's energy is the process's CPU time shared among the requests at work meanwhile
(account/energy.py). A meter dropped unstopped by a failure left that count only when the
collector took it, and an exception kept it alive: its traceback holds the failed request's
frames, and they hold its meter. Until then every answer of the process shared its CPU time
with a request that had ended, and stated a smaller energy than it spent."""

from __future__ import annotations

import pytest

from commune.account.energy import _InFlight
from commune.answering.search import Searcher
from commune.errors import NotFound


def test_an_answer_that_fails_leaves_the_requests_at_work(commune, corpus, monkeypatch):
    commune.add([corpus], collection="mairie", licence="etalab-2.0")

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the index is unreadable")

    monkeypatch.setattr(Searcher, "search", broken)
    running = _InFlight.running
    with pytest.raises(RuntimeError) as failed:
        commune.ask("Quand passe le camion des ordures ?")
    # The exception, held here as a server's error log holds it, keeps the request's frames.
    assert failed.value.__traceback__ is not None
    assert _InFlight.running == running


def test_a_recorded_search_that_fails_leaves_the_requests_at_work(commune, corpus):
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    running = _InFlight.running
    with pytest.raises(NotFound) as failed:
        commune.search("camion", collection="absente", record="search")
    assert failed.value.__traceback__ is not None
    assert _InFlight.running == running
    # A search that succeeds leaves them too, with its row.
    assert commune.search("camion", collection="mairie", record="search")
    assert _InFlight.running == running


def test_a_refused_citation_report_leaves_the_requests_at_work(commune):
    """A peer's malformed citation report (POST /peer/cited, a count of 0) is refused; its
    meter stayed among the requests at work while the exception lived, and every answer of
    the process meanwhile shared its CPU time with it."""
    from commune.errors import InvalidRequest

    commune.admin.issue_peer("coop-a")
    peer = commune.actor("coop-a")
    running = _InFlight.running
    with pytest.raises(InvalidRequest, match="between 1 and 100") as refused:
        commune.peer_cited({1: 0}, actor=peer)
    assert refused.value.__traceback__ is not None
    assert _InFlight.running == running
    # A report taken leaves them too, with its row.
    assert commune.peer_cited({1: 1}, actor=peer)["recorded"] == 0
    assert _InFlight.running == running
