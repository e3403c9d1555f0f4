"""``GET /metrics`` in Prometheus' text format, when ``[metrics] enabled`` (docs/operations.md).

Two kinds of figures. What the HTTP layer sees (requests by route and status, their latency,
quota refusals) is counted here, by this process. What the service has done (answers by the
charter's outcome, energy, the commons, the index generation and its lag) is read from the
database (``Commune.observed``): those totals are the ledger's, the same in every process and
after a restart; each ledger row is summed once (account/observed.Totals).

Who may read it: by default only a client on this machine that connected straight to the
server (loopback, and no forwarded header: behind a proxy on the same machine every request
comes from loopback); with ``[metrics] token``, whoever sends it as a bearer token."""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.middleware.base import RequestResponseEndpoint
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from commune.api import middleware
from commune.api.errors import error_response
from commune.config import MetricsSettings
from commune.core import Commune

PATH = "/metrics"
# Seconds to the response's first byte: a search takes tens of milliseconds, an extractive
# answer a few hundred, a generated one seconds (a streamed answer's stream comes after).
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Headers a proxy adds: a request that carries one did not come straight from this machine.
FORWARDED = ("x-forwarded-for", "forwarded", "x-real-ip")
# The state key an error handler sets on a 429 from a quota (api/errors.py, api/gate.py).
QUOTA_STATE = "quota_refused"


def install(app: FastAPI, commune: Commune) -> None:
    """The middleware that counts, and the route that shows; nothing when not enabled."""
    settings = commune.settings.metrics
    if not settings.enabled:
        return
    from prometheus_client import CollectorRegistry, Counter, Histogram

    # One registry per application, not the library's global one: two applications in one
    # process (the tests, a second home) never mix their counts.
    registry = CollectorRegistry(auto_describe=True)
    requests = Counter(
        "commune_http_requests",
        "HTTP requests by route (its template), method and status",
        ["route", "method", "status"],
        registry=registry,
    )
    latency = Histogram(
        "commune_http_request_duration_seconds",
        "Seconds to the response's first byte, by route",
        ["route"],
        buckets=BUCKETS,
        registry=registry,
    )
    refusals = Counter(
        "commune_quota_refusals",
        "Requests refused (HTTP 429) by a quota or by the failed sign-ins limit, by quota",
        ["quota"],
        registry=registry,
    )
    registry.register(_Recorded(commune))

    @app.middleware("http")
    async def measure(request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _route(request)
            requests.labels(route, _method(request), str(status)).inc()
            latency.labels(route).observe(time.perf_counter() - started)
            quota = request.scope.get("state", {}).get(QUOTA_STATE)
            if status == 429 and quota:
                refusals.labels(str(quota)).inc()

    async def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        refused = refusal(request, settings)
        if refused is not None:
            # Through the API's own error answer, so that the refusal is said in the caller's
            # language (French unless Accept-Language prefers English), as every other one:
            # an operator behind nginx, or a Prometheus without its token, read English.
            return error_response(request, 403, refused)
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(PATH, metrics, methods=["GET"], include_in_schema=False)


def refusal(request: Request, settings: MetricsSettings) -> str | None:
    """Why this request may not read the metrics, or None when it may."""
    if settings.token:
        given = request.headers.get("authorization", "").encode()
        if hmac.compare_digest(given, f"Bearer {settings.token}".encode()):
            return None
        return "/metrics needs the bearer token of [metrics] token in commune.toml"
    direct = not any(h in request.headers for h in FORWARDED)
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if direct and loopback:
        return None
    return (
        "/metrics answers only on this machine, straight to the server (not through a "
        "proxy): scrape it from here, or set [metrics] token in commune.toml"
    )


# The methods counted by name; any other a client makes up ("FOO1", "FOO2"…) is one label,
# as an unmatched address is: each made-up method was a new series, held for good, that
# anyone could add without a key.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(request: Request) -> str:
    return request.method if request.method in METHODS else "other"


def _route(request: Request) -> str:
    """The matched route's template (/documents/{doc_id}, not /documents/42): a label per
    address would grow without end. Anything unmatched (scanners' 404s) is one label."""
    path = getattr(request.scope.get("route"), "path", None) or _route_of(request.scope)
    return path if isinstance(path, str) else "unmatched"


def _route_of(scope: Scope) -> str | None:
    """The template of the route a request was for, when the router never marked it: one
    the middleware answered before the router (a missing key's 401, an overload's 503, a
    body too large), a HEAD among them (read as the GET it stands for). They were all
    counted as "unmatched", with the scanners' 404s, and which route was refused did not
    show. A HEAD that reached its route needs no search: api/middleware.HeadAsGet writes
    the route back on its scope. Found as the router would: a full match first, else one
    by path alone (a method the route does not take)."""
    app = scope.get("app")
    if app is None:
        return None
    method = "GET" if scope["method"] == "HEAD" else scope["method"]
    path = middleware.served(scope["path"])
    partial = None
    for prefix, route in _leaves(getattr(app, "routes", []), ""):
        if not path.startswith(prefix):
            continue
        probe = {**scope, "path": path[len(prefix) :], "root_path": "", "method": method}
        match, _ = route.matches(probe)
        template = getattr(route, "path", None)
        if not isinstance(template, str):
            continue
        if match is Match.FULL:
            return prefix + template
        if match is Match.PARTIAL and partial is None:
            partial = prefix + template
    return partial


def _leaves(routes: Iterable[BaseRoute], prefix: str) -> Iterator[tuple[str, BaseRoute]]:
    """The routes that answer, with the prefix they were included under: FastAPI keeps a
    router included with ``include_router`` as one entry that matches without saying which
    of its routes did."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            inner = prefix + str(getattr(context, "prefix", ""))
            yield from _leaves(getattr(included, "routes", []), inner)
        else:
            yield prefix, route


class _Recorded:
    """The figures read from the database at each scrape (the ledger's: the rows added since
    the last, account/observed.Totals)."""

    def __init__(self, commune: Commune) -> None:
        self.commune = commune

    def describe(self) -> list[Any]:
        return []  # not known before a scrape: nothing to check against at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        seen = self.commune.observed()
        answers = CounterMetricFamily(
            "commune_answers",
            "Questions by the charter's outcome (decision records, those purged after the "
            "charter's retention included)",
            labels=["outcome"],
        )
        for outcome, n in sorted(seen["answers"].items()):
            answers.add_metric([outcome], n)
        yield answers
        yield CounterMetricFamily(
            "commune_metered_requests",
            "Metered requests (rows of the usage ledger, ingestion's apart)",
            seen["requests"],
        )
        yield CounterMetricFamily(
            "commune_energy_wh",
            "Energy of the metered requests, Wh (measured or estimated; ingestion's apart)",
            seen["wh"],
        )
        yield CounterMetricFamily(
            "commune_carbon_gco2e",
            "Carbon of the metered requests, gCO2e (ingestion's apart)",
            seen["gco2e"],
        )
        # Beside the requests', never in them: the energy of documents added (uploads
        # included), enriched with the second embedder, imported.
        for name, what, figures in (
            ("commune_ingestion_energy_wh", "Energy", seen["ingestion_wh"]),
            ("commune_ingestion_carbon_gco2e", "Carbon", seen["ingestion_gco2e"]),
        ):
            family = CounterMetricFamily(
                name,
                f"{what} of ingestion (documents added, enriched, imported), by kind",
                labels=["kind"],
            )
            for kind, value in figures.items():
                family.add_metric([kind], value)
            yield family
        yield GaugeMetricFamily("commune_documents", "Published documents", seen["documents"])
        yield GaugeMetricFamily("commune_passages", "Their searchable passages", seen["passages"])
        yield GaugeMetricFamily(
            "commune_index_generation", "The database's index generation", seen["generation"]
        )
        done = self.commune.enrichment()
        if done is not None:  # [enrich] model set: how far its vectors have come
            enriched = GaugeMetricFamily(
                "commune_enriched_passages",
                "Searchable passages with a vector from the second embedder ([enrich] model)",
                labels=["model"],
            )
            enriched.add_metric([done.model], done.enriched)
            yield enriched
            share = GaugeMetricFamily(
                "commune_enrichment_ratio",
                "Share of the searchable passages enriched (1: all; ranking uses the rest's "
                "first embedder alone)",
                labels=["model"],
            )
            share.add_metric([done.model], done.share)
            yield share
        served = seen["served_generation"]
        if served is not None:
            yield GaugeMetricFamily(
                "commune_index_served_generation",
                "The generation this process searches",
                served,
            )
            yield GaugeMetricFamily(
                "commune_index_lag_generations",
                "Changes to the commons not yet searchable by this process",
                max(0, seen["generation"] - served),
            )
