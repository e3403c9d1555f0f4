"""Where Commune keeps its data, and its settings.

The *commune home* is one directory: the SQLite database, the derived search
indexes and ``commune.toml``. It comes from ``--home``, else ``COMMUNE_HOME``,
else ``./commune-data``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from commune.errors import ConfigError

DEFAULT_HOME = "commune-data"
CONFIG_FILE = "commune.toml"


def as_written(value: Any) -> str:
    """``value`` as TOML writes it, for an error that quotes what the operator wrote: Python's
    repr said True, 'x' and ['a'] of a file that says true, "x" and ["a"]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # TOML's basic strings escape as JSON does (\", \\, \n, \uXXXX).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list | tuple):
        return f"[{', '.join(as_written(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {as_written(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _key(name: str) -> str:
    """A key as TOML writes it: bare when it may be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name, ensure_ascii=False)


# Model Openness Framework classes (Linux Foundation, 2024), then the weaker categories. Both
# a model's configuration here and the charter's openness rule (charter/rules.py) name them.
OPENNESS = ("MOF-I", "MOF-II", "MOF-III", "open-weights", "closed", "unknown")

# How a jurisdiction is written, a model's here as the charter's (charter/rules.py): an ISO
# 3166-1 alpha-2 code in capitals, or "EU". Both are compared as written.
JURISDICTION = re.compile(r"[A-Z]{2}")
# Two letters in use for a country that are not its ISO code: "UK" in one file matched no
# "GB" in the other, and Greece written "EL" (the EU's own abbreviation) was outside "EU".
NOT_ISO = {"UK": "GB", "EL": "GR"}


def jurisdiction_problem(code: object) -> str | None:
    """What is wrong with ``code`` as a jurisdiction, or None."""
    if not isinstance(code, str) or not JURISDICTION.fullmatch(code):
        return (
            f"{code!r} is not a jurisdiction: an ISO 3166-1 alpha-2 code in capitals "
            "(FR, DE…) or EU"
        )
    if code in NOT_ISO:
        return f"{code!r} is not the ISO 3166-1 alpha-2 code: write {NOT_ISO[code]}"
    return None


# The database where commune.toml names none; else SQLite in the home.
DATABASE_URL_ENV = "COMMUNE_DATABASE_URL"
DATABASE_URL_HINT = "such as postgresql+psycopg://user:password@host/db"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    raw = home or os.environ.get("COMMUNE_HOME") or DEFAULT_HOME
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class RetrievalSettings:
    embedder: str = "use-multilingual-v3"
    # Reciprocal rank fusion constant and weights, tuned on the dev split of the evaluation
    # suite (bench/tune_fusion.py; bench/README.md): mean MRR@10 over the four slices 0.652
    # with k=10 and no language rule, 0.673 with k=5 and cross-lingual lexical matches at
    # half weight (fr→en 0.499 -> 0.605). The field's usual k=60 (Cormack et al., 2009)
    # lost on both the section-title set and the hand-written questions.
    rrf_k: int = 5
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    # Multiplies the lexical weight of a chunk in another language than the question's:
    # words shared across languages are mostly names and commands, weaker evidence.
    cross_lingual_lexical_weight: float = 0.5
    # The list of the question's words in the commons' other languages (index/lexicon.py),
    # as a share of the lexical weight. On both suites' dev halves (bench/README.md, issue 20,
    # item 9) 0.5 and 1.0 gave the same Debian mean MRR@10 (0.622 / 0.624), but at 1.0 the
    # lexical half alone fell from 0.547 to 0.410 for English questions over French pages:
    # 0.5. With it, English questions over the fiches 0.770 -> 0.844 on dev. 0: off.
    translated_weight: float = 0.5
    candidates: int = 100


@dataclass(frozen=True)
class IndexSettings:
    # Up to this many passages in the merged base, dense search is exact (p95 27 ms at 100k
    # on 2 cores, recall 1.0). From it on, the base gets an inverted file (faiss IVF-SQ8,
    # `commune-coop[scale]`) at its next build: the exact scan is ~150 ms at 1M (bench/ann.py).
    # 0: always exact. Takes effect at the next merge or `commune reindex`.
    approximate_from_rows: int = 200_000
    # Inverted lists read per query (of about sqrt(rows)); the lowest count that kept
    # recall@10 >= 0.98 against exact search at 1M in bench/ann.py, with a margin.
    probes: int = 32


@dataclass(frozen=True)
class EnrichSettings:
    # The second, stronger embedder filled in after the default one (index/enrich.py): its
    # vectors join the ranking for the passages that have them. "" turns enrichment off
    # (`commune enrich` refuses, and ranking ignores any vectors already stored).
    model: str = "e5-small"
    # Whether `commune serve` enriches in a background thread. Off by default: e5-small is
    # an optional extra (`commune-coop[e5]`), and while it runs a home's ranking changes
    # passage by passage over hours; the operator chooses when (`commune enrich` does it in
    # the foreground, with a progress bar). On without the extra, serve says how to install it.
    background: bool = False
    # Passages embedded and stored together: small, so a stop (Ctrl-C, the server's
    # shutdown) or the database's writer lock waits at most one batch (~5 s at 16 long
    # passages on 2 cores); each batch is committed, so an interrupted run resumes.
    batch: int = 16
    # The weight of the enriched list in the reciprocal rank fusion (the USE list has
    # [retrieval] dense_weight): one more list, as strong as the dense one. On a slice of the
    # fiches' dev questions 0.5 and 1.0 were within one question of each other, 2.0 below
    # (docs/retrieval.md).
    weight: float = 1.0


@dataclass(frozen=True)
class ChunkSettings:
    # A passage is closed once it holds target_words, and never grows past max_words
    # (ingest/chunking.py).
    target_words: int = 160
    max_words: int = 260

    def __post_init__(self) -> None:
        # Above max_words, target_words is never reached: every passage was cut at max_words,
        # and the setting did nothing, in silence.
        if self.target_words > self.max_words:
            raise ConfigError(
                f"chunking.target_words ({self.target_words}) in {CONFIG_FILE} is above "
                f"chunking.max_words ({self.max_words}): no passage could reach it",
                "lower target_words, or raise max_words",
            )


@dataclass(frozen=True)
class GenerationSettings:
    default_model: str = "smollm2"
    max_tokens: int = 400
    passages: int = 5


@dataclass(frozen=True)
class AnswerSettings:
    # The "nothing relevant" model's threshold on its probability that the commons cannot
    # answer (answering/refusal.py). 0: the one shipped with the model, chosen on the shipped
    # suites' dev questions. Another corpus moves the model's scores (bench/README.md, item
    # 31): `commune refusals` proposes this deployment's own from its operator's questions.
    refusal_threshold: float = 0.0
    # A collection's own, over the one above (``[answer.refusal_thresholds]``, name = value):
    # a pooled deployment holds corpora as unlike as public-service fiches and manual pages,
    # and one threshold cannot suit both (`commune refusals --collection NAME` proposes it).
    refusal_thresholds: dict[str, float] = field(default_factory=dict)

    def threshold_for(self, collection: str | None) -> float:
        """The threshold set for the collection a question is answered from (0: the model's
        own)."""
        if collection is not None and collection in self.refusal_thresholds:
            return self.refusal_thresholds[collection]
        return self.refusal_threshold


@dataclass(frozen=True)
class EnergySettings:
    # A busy server core draws roughly 10-15 W; set your own hardware's figure.
    watts_per_core: float = 12.0
    # Average French electricity mix (ADEME Base Empreinte order of magnitude, life cycle).
    grid_gco2e_per_kwh: float = 52.0
    rapl: bool = False  # read the CPU package energy counter where the kernel exposes it
    # The server's draw at rest, in W (a wattmeter at the plug, or the hardware's sheet):
    # counted in the monthly statement as its own line, split among members by usage.
    # 0: not counted, and the statement says so.
    idle_watts: float = 0.0


@dataclass(frozen=True)
class CharterSettings:
    # Documents whose rights holder reserved text and data mining: "exclude" keeps them out
    # of every answer (they stay findable by search); "allow" where the holder agreed.
    tdm_reserved: str = "exclude"


@dataclass(frozen=True)
class LimitsSettings:
    # Seconds a generated answer may take, waiting for the model included; past it the model
    # is stopped and the extractive answer is given, with a notice (0: no limit). The local
    # smoke model took 116 s idle and 181 s under load for one answer (issue 22).
    generation_seconds: float = 60.0
    # A file larger than this is refused at ingest, before it is read.
    max_file_mb: float = 50.0
    # A longer query or question is refused: embedding costs memory in proportion to the
    # text, and a 10 MB "question" got the server killed.
    max_query_chars: int = 2000
    # Requests that search, answer or embed at once in one server process; past it, HTTP 503
    # with Retry-After rather than a queue that grows until every client times out. Two
    # cores: a few in flight keep them busy, more only lengthen every answer.
    max_concurrent_requests: int = 8
    # Seconds a file may take to be read; 0: no limit, files are read in-process (the limit
    # reads them in a child process, which costs about a second per batch).
    max_parse_seconds: float = 0.0
    # Bytes a request may send, counted while they are read (a declared Content-Length over
    # it is refused at once, HTTP 413): an upload (several files of up to max_file_mb, and
    # the form around them), and any other body (questions, forms, JSON-RPC). The temporary
    # directory never holds more than this per request.
    max_upload_mb: float = 200.0
    max_body_kb: int = 1024
    # How fast a request's body must arrive: within body_seconds of its headers, and one
    # second more for every body_min_kb_per_second KB received; past it, HTTP 408 and the
    # connection closed. Each search or answer holds one of the max_concurrent_requests slots
    # while its body arrives, each upload one of as many places for uploads: a client sending
    # a byte now and then held one for as long as it liked, and eight such clients kept every
    # answer out.
    # A body that keeps coming is not cut off: a contributor's 50 MB PDF over a slow
    # town-hall line (a few Mbit/s, or less) takes minutes, and a time for the whole body got
    # it 408 while its bytes still came. 4 KB/s is 32 kbit/s, under any line in use; 0: the
    # whole body within body_seconds.
    body_seconds: float = 120.0
    body_min_kb_per_second: float = 4.0
    # One /v1/embeddings request: at most this many inputs and characters in all (2,000
    # inputs of 1,000 characters held a worker 297 s on two cores).
    max_embedding_inputs: int = 64
    max_embedding_chars: int = 50_000
    # Active keys (neither revoked nor expired) one person may hold; another is refused until
    # they revoke one. A person uses a few (a laptop, a phone, a script or two); twenty is far
    # above that and still bounds what a stolen session could mint as ways back in.
    max_keys_per_user: int = 20

    def __post_init__(self) -> None:
        if not self.body_seconds > 0:
            raise ConfigError(
                f"limits.body_seconds ({self.body_seconds:g}) in {CONFIG_FILE} is not above 0: "
                "no request could send its body",
                "set the seconds a body may take to arrive (120 by default)",
            )
        if not self.body_min_kb_per_second >= 0:
            raise ConfigError(
                f"limits.body_min_kb_per_second ({self.body_min_kb_per_second:g}) in "
                f"{CONFIG_FILE} is below 0",
                "set the KB a second a body must keep up past body_seconds (4 by default; "
                "0: the whole body within body_seconds)",
            )
        if self.max_upload_mb < self.max_file_mb:
            raise ConfigError(
                f"limits.max_upload_mb ({self.max_upload_mb:g}) in {CONFIG_FILE} is below "
                f"limits.max_file_mb ({self.max_file_mb:g}): no file that size could be sent",
                "raise max_upload_mb, or lower max_file_mb",
            )


@dataclass(frozen=True)
class WebSettings:
    # Session cookies are sent over HTTPS only (browsers also accept them from
    # http://localhost). Behind plain HTTP on a network, put TLS in front (docs/web.md);
    # turning this off sends the session in clear. Secure, the session and CSRF cookies are
    # named with the __Host- prefix (web/sessions.py), but on plain HTTP on the machine itself.
    secure_cookies: bool = True
    # A session ends this many hours after sign-in.
    session_hours: float = 12.0
    # Wrong passwords or keys from one address within a minute before it must wait.
    failed_sign_ins_per_minute: int = 20
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses
    # or networks, e.g. ["127.0.0.1"] for a proxy on the same machine). Empty: none is, and
    # every limit by address counts the address that connected.
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        import ipaddress

        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(
                    f"web.trusted_proxies in {CONFIG_FILE}: {as_written(proxy)} is not an address "
                    "or network",
                    'list the proxies\' addresses, e.g. trusted_proxies = ["127.0.0.1"]',
                ) from None


@dataclass(frozen=True)
class MetricsSettings:
    # GET /metrics in Prometheus' text format (docs/operations.md). Off unless the operator
    # turns it on: a self-hosted service shows nothing about its use by default.
    enabled: bool = False
    # Empty (the default): only a client on this machine that connected straight to the
    # server is answered (loopback, no forwarded header): a Prometheus on the same host or
    # through a tunnel, and no secret to keep. Set: a client must send
    # "Authorization: Bearer TOKEN" (a Prometheus on another machine, through the proxy).
    token: str = ""


@dataclass(frozen=True)
class CooperativeSettings:
    server_cost_eur_month: float = 1300.0
    price_eur_per_kwh: float = 0.25
    # How the fixed server cost is split: "usage" (by share of the measure below),
    # "equal" (same for all), or "mix" (usage_share by usage, the rest equally).
    rule: str = "mix"
    usage_share: float = 0.5
    usage_measure: str = "wh"  # wh | tokens | requests
    floor_eur: float = 0.0  # no member pays less than this for the fixed cost
    currency: str = "EUR"


@dataclass(frozen=True)
class PayoutSettings:
    # What the cooperative (or its endowment fund) pays its contributors each month, split by
    # `commune payouts` (docs/payouts.md) with the charter's weights. 0: no fund set, and
    # `commune payouts` asks for --amount. In the cooperative's currency, to the cent.
    monthly_eur: float = 0.0


@dataclass(frozen=True)
class PeerSettings:
    # Peering between cooperatives (docs/peering.md). This cooperative as its peers see it:
    # the name its passages are cited under, and the address its catalogue gives.
    name: str = ""
    url: str = ""
    # How long an answer waits for the peers' passages: a peer slower than this is left
    # out of that answer, with a notice, and never blocks it.
    timeout_s: float = 2.0
    # Ask the registered peers on every question (true), or only when a question asks for
    # them (`commune ask --peers`, "peers": true on the API).
    federate: bool = False
    # Passages asked of each peer per question.
    k: int = 5

    def __post_init__(self) -> None:
        # Published to every peer as the catalogue's address: a user and password in it went
        # out with it, and the error below quoted them. Not quoted here.
        if self.url and "@" in self.url.split("://", 1)[-1].split("/", 1)[0]:
            raise ConfigError(
                f"peers.url in {CONFIG_FILE} must hold no user or password: it is published to "
                "the peers",
                "give the address peers reach this cooperative at, such as "
                "https://commune.example.org",
            )
        # Published as the catalogue's address (/peer/catalogue): "commune.coop-a.fr" without
        # its scheme, or a word, gave peers an address they could not reach, in silence.
        if self.url and not (
            self.url.startswith(("http://", "https://")) and len(self.url.split("://", 1)[1]) > 0
        ):
            raise ConfigError(
                f"peers.url in {CONFIG_FILE} must be an http:// or https:// address, got "
                f"{as_written(self.url)}",
                "give the address peers reach this cooperative at, such as "
                "https://commune.example.org",
            )


@dataclass(frozen=True)
class ModelSettings:
    """One generator: a local GGUF file, or an OpenAI-compatible endpoint."""

    backend: str
    path: str | None = None  # llamacpp
    base_url: str | None = None  # openai
    model: str | None = None  # openai: the endpoint's model name
    api_key_env: str | None = None  # openai: environment variable holding the key
    n_ctx: int = 4096
    threads: int = 2
    temperature: float = 0.1
    licence: str | None = None
    origin: str | None = None
    active_params_b: float | None = None  # for EcoLogits' estimate of remote generation
    total_params_b: float | None = None
    # For the charter's redirect (docs/charter.md): the Model Openness Framework class
    # (MOF-I, MOF-II, MOF-III), "open-weights", "closed" or "unknown"; where an endpoint is
    # hosted (ISO 3166 code, or "EU"; a local model runs where the server does); its energy
    # per 1,000 tokens when known from a meter or a published figure.
    openness: str = "unknown"
    jurisdiction: str | None = None
    wh_per_1k_tokens: float | None = None
    # For EcoLogits' model of an endpoint: the electricity mix where it is hosted (ISO
    # 3166-1 alpha-3, as EcoLogits names them: FRA, DEU, SWE…, or WOR for the world; by
    # default the jurisdiction's country, else the world), and the data centre's power
    # usage effectiveness, a number or a [min, max] range (EcoLogits keeps the range).
    electricity_zone: str | None = None
    datacenter_pue: float | tuple[float, float] = 1.2
    # The hosting's hardware as EcoLogits models it: the memory of one GPU (GB; EcoLogits'
    # reference is an 80 GB A100, in 8-GPU servers) and the bits per weight served.
    gpu_memory_gb: float = 80.0
    quantization_bits: int = 16


_COMMON_MODEL_KEYS = {
    "backend",
    "temperature",
    "licence",
    "origin",
    "active_params_b",
    "total_params_b",
    "openness",
    "wh_per_1k_tokens",
}
_MODEL_KEYS = {
    "llamacpp": _COMMON_MODEL_KEYS | {"path", "n_ctx", "threads"},
    "openai": _COMMON_MODEL_KEYS
    | {
        "base_url",
        "model",
        "api_key_env",
        "jurisdiction",
        "electricity_zone",
        "datacenter_pue",
        "gpu_memory_gb",
        "quantization_bits",
    },
}
_MODEL_REQUIRED = {"llamacpp": ("path",), "openai": ("base_url", "model")}
# "an openai model", not "a openai model": the article said before each backend's name.
_ARTICLE = {"llamacpp": "a", "openai": "an"}


def _names_a_server(url: str) -> bool:
    """Whether an http(s) address has a host, a port in range (not 0) if any, and no space:
    without them every answer found the endpoint "unreachable", checked at nothing that was
    wrong (port 0 is no server's: a connection to it fails every time)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port  # out of range raises ValueError
    except ValueError:
        return False
    return bool(parts.hostname) and port != 0 and not any(c.isspace() for c in url)


# A run of letters and digits as keys are written (Mistral's 32, a Hugging Face token's after
# "hf_", a hexadecimal one), of a length no variable's name has without an underscore.
_KEY_RUN = re.compile(r"[A-Za-z0-9]{16,}")


def looks_like_a_key(name: str) -> bool:
    """Whether ``name``, given as the variable holding a key, is rather a key itself: a long
    run mixing two of lower case, upper case and digits (MISTRAL_API_KEY_2026 has no such
    run). A run of capitals and digits is a key only with its digits scattered, in three
    groups or more, as a key's fall: a variable's name is written in capitals, with a year
    or a number in one place (GPUKEY2026PRODUCTION), and was refused wherever the variable
    was not set (a command run by another user than the service's)."""
    for run in _KEY_RUN.findall(name):
        lower, upper = any(c.islower() for c in run), any(c.isupper() for c in run)
        digits = len(re.findall(r"[0-9]+", run))
        if not lower and upper and digits and digits < 3:
            continue  # a name in capitals
        if sum((lower, upper, digits > 0)) >= 2:
            return True
    return False


def _port_zero(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).port == 0
    except ValueError:
        return False


def _model(name: str, raw: Any) -> ModelSettings:
    where = f"models.{name} in {CONFIG_FILE}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table, got {as_written(raw)}")
    backend = raw.get("backend")
    if backend not in _MODEL_KEYS:
        raise ConfigError(
            f"{where}: backend must be 'llamacpp' or 'openai', got {as_written(backend)}"
        )
    for key in raw:
        if key not in _MODEL_KEYS[backend]:
            meant = near(key, _MODEL_KEYS[backend])
            allowed = ", ".join(sorted(_MODEL_KEYS[backend]))
            hint = f"did you mean models.{name}.{meant}?" if meant else None
            raise ConfigError(
                f"unknown key models.{name}.{key} in {CONFIG_FILE}",
                hint or f"{_ARTICLE[backend]} {backend} model takes: {allowed}",
            )
    for key in _MODEL_REQUIRED[backend]:
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{where}: {key} is required for {_ARTICLE[backend]} {backend} model")
    if backend == "llamacpp":
        # "~/models/m.gguf", as a shell takes it: nothing else expands the "~".
        raw = {**raw, "path": str(Path(raw["path"]).expanduser())}
    env = raw.get("api_key_env")
    if env is not None and not (
        isinstance(env, str)
        and env.isascii()
        and env.isidentifier()
        and not env.startswith("cmn_")  # a Commune's own key (a peer's gateway), not a name
    ):
        # Never quoted: the key itself, put here instead of its variable's name, would be
        # shown to whoever reads the error (and, met at answering, to every asker).
        raise ConfigError(
            f"models.{name}.api_key_env must name an environment variable (letters, digits, "
            "_: COMMUNE_GPU_KEY)",
            "put the key itself in that variable, never in commune.toml",
        )
    if isinstance(env, str) and looks_like_a_key(env) and env not in os.environ:
        # The key itself, in place of its variable's name (Mistral's keys and Hugging Face's
        # tokens are valid names): refused here, at start-up, and never quoted, where it was
        # said only in the note of every answer given without the model. A variable of that
        # name that is set is one: GPUKEY2026PRODUCTION is a name.
        raise ConfigError(
            f"models.{name}.api_key_env holds what looks like a key, not a variable's name",
            "put the key in an environment variable and name that variable there",
        )
    base = raw.get("base_url")
    if base is not None and not base.startswith(("http://", "https://")):
        raise ConfigError(
            f"models.{name}.base_url must start with http:// or https://, got {as_written(base)}"
        )
    if base is not None and "@" in base.split("://", 1)[-1].split("/", 1)[0]:
        # Not quoted: the password is the point. httpx would send it as basic
        # authentication, but the address is shown to askers and on the public page.
        raise ConfigError(
            f"models.{name}.base_url must hold no user or password: it is shown in notes and "
            "on the transparency page",
            f"put the key in the variable models.{name}.api_key_env names",
        )
    if base is not None and _port_zero(base):
        raise ConfigError(
            f"models.{name}.base_url names port 0, where no server listens, got {as_written(base)}",
            "give the endpoint's port (https://host:8000/v1), or none for 443 or 80",
        )
    if base is not None and not _names_a_server(base):
        raise ConfigError(
            f"models.{name}.base_url must name its server (https://host[:port]/v1), got "
            f"{as_written(base)}"
        )
    # Compared as written with the charter's jurisdictions: "de" or "Germany" was taken, then
    # every answer refused the model as hosted outside them ("de ; admises : FR, EU").
    # (Each message written out: text/messages.py translates it whole.)
    code = raw.get("jurisdiction")
    if code is not None and (not isinstance(code, str) or not JURISDICTION.fullmatch(code)):
        raise ConfigError(
            f"models.{name}.jurisdiction: {as_written(code)} is not a jurisdiction: an ISO "
            "3166-1 alpha-2 code in capitals (FR, DE…) or EU"
        )
    if code in NOT_ISO:
        raise ConfigError(
            f"models.{name}.jurisdiction: {as_written(code)} is not the ISO 3166-1 alpha-2 "
            f"code: write {NOT_ISO[code]}"
        )
    if raw.get("openness", "unknown") not in OPENNESS:
        raise ConfigError(
            f"models.{name}.openness must be one of {', '.join(OPENNESS)}, got "
            f"{as_written(raw['openness'])}"
        )
    # Shown as written on the transparency page and in the bill of materials: licence = 3 was
    # taken, then `commune bom` stopped on a traceback ("'int' object has no attribute
    # 'lower'").
    for key in ("licence", "origin"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"models.{name}.{key} must be {_KINDS[str]}, got {as_written(value)}",
                'such as licence = "Apache-2.0" and origin = "Mistral AI"',
            )
        if value is not None and not value.strip():
            # licence = "" passed `commune check` and the start, then said nothing: the
            # transparency page and the bill of materials showed the model with no licence,
            # as if the line were not there, to an operator who believed they had given one.
            raise ConfigError(
                f"models.{name}.{key} in {CONFIG_FILE} is empty",
                'write the model\'s licence as its card gives it, such as licence = "Apache-2.0", '
                "or remove the line if it is not known"
                if key == "licence"
                else 'write who made the model, such as origin = "Mistral AI", or remove the line '
                "if it is not known",
            )
    for key in ("active_params_b", "total_params_b", "wh_per_1k_tokens", "gpu_memory_gb"):
        value = raw.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ConfigError(
                f"models.{name}.{key} must be a number above 0, got {as_written(value)}"
            )
    # llama.cpp takes a context or a thread count of 0 or less without a word, then fails to
    # start ("check that the path is a GGUF file"): said here, at the key.
    for key in ("n_ctx", "threads"):
        value = raw.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ConfigError(
                f"models.{name}.{key} must be a whole number above 0, got {as_written(value)}"
            )
    temperature = raw.get("temperature")
    if temperature is not None:
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not 0 <= temperature <= 2
        ):
            raise ConfigError(
                f"models.{name}.temperature must be a number from 0 to 2, got "
                f"{as_written(temperature)}"
            )
        raw = {**raw, "temperature": float(temperature)}
    bits = raw.get("quantization_bits")
    if bits is not None and (isinstance(bits, bool) or bits not in (2, 3, 4, 5, 6, 8, 16, 32)):
        raise ConfigError(
            f"models.{name}.quantization_bits must be the bits per weight served (4, 8, 16…), "
            f"got {as_written(bits)}"
        )
    if "gpu_memory_gb" in raw:
        raw = {**raw, "gpu_memory_gb": float(raw["gpu_memory_gb"])}
    zone = raw.get("electricity_zone")
    if zone is not None and not (isinstance(zone, str) and len(zone) == 3 and zone.isalpha()):
        raise ConfigError(
            f"models.{name}.electricity_zone must be an ISO 3166-1 alpha-3 code (FRA, DEU…) or "
            f"WOR, got {as_written(zone)}"
        )
    if zone is not None:
        raw = {**raw, "electricity_zone": zone.upper()}
    pue = raw.get("datacenter_pue")
    if pue is not None:
        bounds = pue if isinstance(pue, list) else [pue]
        if (
            len(bounds) not in (1, 2)
            or any(isinstance(b, bool) or not isinstance(b, int | float) or b < 1 for b in bounds)
            or bounds != sorted(bounds)
        ):
            raise ConfigError(
                f"models.{name}.datacenter_pue must be a number of at least 1, or a range "
                f"[min, max], got {as_written(pue)}"
            )
        raw = {
            **raw,
            "datacenter_pue": float(bounds[0])
            if len(bounds) == 1
            else (float(bounds[0]), float(bounds[1])),
        }
    return ModelSettings(**raw)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    enrich: EnrichSettings = field(default_factory=EnrichSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    energy: EnergySettings = field(default_factory=EnergySettings)
    cooperative: CooperativeSettings = field(default_factory=CooperativeSettings)
    payouts: PayoutSettings = field(default_factory=PayoutSettings)
    peers: PeerSettings = field(default_factory=PeerSettings)
    charter: CharterSettings = field(default_factory=CharterSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    web: WebSettings = field(default_factory=WebSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    models: dict[str, ModelSettings] = field(default_factory=dict)
    default_collection: str = "default"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    def fingerprint(self) -> str:
        """SHA-256 of every setting that can change an answer (not where the home is): the
        evaluation's pin of the configuration, and part of the answer cache's scope."""
        data = asdict(self)
        data.pop("home", None)
        data.pop("database_url", None)
        blob = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


_SECTIONS: dict[str, type] = {
    "retrieval": RetrievalSettings,
    "index": IndexSettings,
    "enrich": EnrichSettings,
    "chunking": ChunkSettings,
    "generation": GenerationSettings,
    "answer": AnswerSettings,
    "energy": EnergySettings,
    "cooperative": CooperativeSettings,
    "payouts": PayoutSettings,
    "peers": PeerSettings,
    "charter": CharterSettings,
    "limits": LimitsSettings,
    "web": WebSettings,
    "metrics": MetricsSettings,
}
# Shares of a whole: a usage share of 1.5 would bill an idle member a negative amount; and a
# probability, which a refusal threshold above 1 would compare with in vain.
_AT_MOST_ONE = {"cooperative.usage_share", "answer.refusal_threshold"}
# Weights that may be 0: one half of the fusion, other-language lexical matches, or the
# question's words in the other languages, off. And a limit that 0 lifts.
_MAY_BE_ZERO = {
    # 0: no limit (LimitsSettings, docs/reliability.md), as answering/path.py reads it; it
    # was refused as "must be greater than 0", leaving an operator whose model is slower
    # than any bound no way to lift it.
    "limits.generation_seconds",
    "retrieval.lexical_weight",
    "retrieval.dense_weight",
    "retrieval.cross_lingual_lexical_weight",
    "retrieval.translated_weight",
    "index.approximate_from_rows",
    "enrich.weight",
    "answer.refusal_threshold",  # 0: the shipped model's own threshold
}
# The most a cost, a price or a power may be, each beyond any cooperative's: a typo's 1e30
# went past the checks and `commune statement` stopped on Decimal's 28 digits with a
# traceback. Amounts in the cooperative's currency, to the cent (as payouts.MAX_AMOUNT); a
# price per kWh in any currency (a million, where the forint's is about a hundred); a
# megawatt at rest is a data centre's hall, not a server; a kilowatt per busy core, a heater.
_AT_MOST = {
    "cooperative.server_cost_eur_month": 10**12,
    "cooperative.floor_eur": 10**12,
    "payouts.monthly_eur": 10**12,
    "cooperative.price_eur_per_kwh": 10**6,
    "energy.idle_watts": 10**6,
    "energy.watts_per_core": 10**3,
    # What a peer's /peer/search gives at most (answering/peer_desk.MAX_K): asked for more,
    # every peer refused every question (HTTP 422), and each answer came without them.
    "peers.k": 20,
    # Times past any use, which the machine's clocks cannot wait for: session_hours = 1e12
    # answered every sign-in with a 500 (a cookie's age past a C int), a limit in seconds
    # past threading's longest wait (about 292 years) failed every generated answer or read
    # file. A session outliving a year outlives its purpose; 0 is "no limit" for the others.
    "web.session_hours": 24 * 366,
    "limits.generation_seconds": 24 * 3600,
    "limits.max_parse_seconds": 24 * 3600,
    "limits.body_seconds": 24 * 3600,
    "peers.timeout_s": 3600,
}
_CHOICES = {
    "cooperative.rule": ("usage", "equal", "mix"),
    "cooperative.usage_measure": ("wh", "tokens", "requests"),
    "charter.tdm_reserved": ("exclude", "allow"),
}


# Settings written as one word beside a figure.
_WORDS = {"cooperative.currency"}


def _one_word(value: str) -> bool:
    return value.isprintable() and not any(ch.isspace() for ch in value)


# The tables of charter.toml (charter/rules.py), which an operator may write here; and its
# [payouts] table's weights, beside this file's [payouts] monthly_eur.
_CHARTER_TABLES = ("sovereignty", "sobriety", "utility")
_CHARTER_WEIGHTS = ("citations", "documents", "reviews")


# Keys whose name says little of what they set (see _unknown_key).
_COMMON_WORDS = frozenset(
    {"k", "name", "url", "model", "embedder", "timeout_s", "weight", "batch", "enabled", "token"}
)


def own_tables() -> set[str]:
    """The tables of commune.toml, which an operator may write in charter.toml."""
    return {*_SECTIONS, "models"}


# The settings of commune.toml outside any table.
TOP_KEYS = ("database_url", "default_collection")


def setting_tables(key: str) -> list[str]:
    """The tables of commune.toml where ``key`` is a setting ("[limits]"), for a line written
    in charter.toml; none for a word that names a different setting in each table (name, k,
    url…), which says nothing of where it was meant to go."""
    return [] if key in _COMMON_WORDS else _tables_of(key)


def fields_of(cls: type) -> list[str]:
    """The names of a settings table's keys."""
    return [f.name for f in fields(cls)]


def near(key: str, names: Iterable[str], *, exact: bool = False) -> str | None:
    """The name ``key`` was likely meant to be: the same but for case or dashes ("rrf_K",
    "database-url"), else unless ``exact``, one a letter or two away ("retreival",
    "session_hour")."""
    by_lower = {n.lower(): n for n in names}
    typed = key.lower().replace("-", "_")
    if typed in by_lower:
        return by_lower[typed]
    if exact:
        return None
    found = difflib.get_close_matches(typed, list(by_lower), n=1, cutoff=0.75)
    return by_lower[found[0]] if found else None


def _tables_of(key: str) -> list[str]:
    """The tables where ``key`` is a setting: a line written under the wrong heading (or
    before any) is told where it goes, not only that it is unknown."""
    tables = [f"[{name}]" for name, cls in _SECTIONS.items() if key in fields_of(cls)]
    if any(key in keys for keys in _MODEL_KEYS.values()) and key != "backend":
        tables.append("[models.NAME]")
    return tables


def _unknown_key(
    key: str, section: str | None, here: Iterable[str], *, table: bool = False
) -> ConfigError:
    """The error for ``key``, unknown in ``section`` (None: the top of the file), with what
    to do: the name it was likely meant to be, the table it belongs to, or the names known
    there. A typo was refused with the list of every key, in which the operator had to find
    the one they meant; a line under the wrong heading, as if the key did not exist."""
    where = f"{section}.{key}" if section else key
    message = f"unknown key {where} in {CONFIG_FILE}"
    if section is None and key in _CHARTER_TABLES:
        return ConfigError(
            message, f"[{key}] is a table of charter.toml, not of {CONFIG_FILE}: move it there"
        )
    if section is None and key == "version":
        return ConfigError(
            message, "version is a key of charter.toml, not of commune.toml: move it there"
        )
    if section is None and key == "name":
        # Not sent under [peers] alone: the charter's name put here would then be published
        # to every peer as this cooperative's.
        return ConfigError(
            message,
            "name is the charter's, in charter.toml, or this cooperative's as its peers see "
            "it, under [peers]: move that line to one of them",
        )
    if section == "payouts" and key in _CHARTER_WEIGHTS:
        return ConfigError(
            message, f"{key} is a weight of the charter: move it into charter.toml's [payouts]"
        )
    meant = near(key, here, exact=True)
    # A table's heading ([model.gpu]) is a misspelt table, not a setting out of place.
    # A word that names a different setting in each table (k, name, model…) written under a
    # heading is that table's own setting misnamed, not a line out of place: "[retrieval]
    # k = 8" was told to move under [peers], where it asked each peer for 8 passages, in
    # silence, and "[generation] model" to move under [enrich], the enrichment's embedder.
    common = section is not None and key in _COMMON_WORDS
    tables = [] if table or common else [t for t in _tables_of(key) if t != f"[{section}]"]
    if meant is None and tables:
        return ConfigError(
            message, f"{key} is set in {' or '.join(tables)}: move that line under {tables[0]}"
        )
    meant = meant or near(key, here)
    if meant is None and section is None and near(key, _SECTIONS):
        meant = f"[{near(key, _SECTIONS)}]"
    if meant is not None:
        wanted = f"{section}.{meant}" if section else meant
        return ConfigError(
            message, f"did you mean {'[models.NAME]' if wanted == 'models' else wanted}?"
        )
    if section is None:
        known = "database_url, default_collection, " + ", ".join(
            f"[{name}]" for name in (*_SECTIONS, "models.NAME")
        )
        return ConfigError(message, f"known: {known}")
    return ConfigError(message, f"known keys: {', '.join(sorted(here))}")


# A setting's type as the operator writes it in TOML, not as Python names it: "must be int",
# "must be tuple" spoke of the program (text/messages.py says these in French).
_KINDS: dict[type, str] = {
    int: "a whole number",
    float: "a number",
    str: "a string in quotes",
    bool: "true or false",
    tuple: "a list of strings",
}


def _section(name: str, cls: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] in {CONFIG_FILE} must be a table, got {as_written(raw)}")
    defaults = cls()
    values = {}
    for key, value in raw.items():
        if not hasattr(defaults, key):
            raise _unknown_key(key, name, fields_of(cls))
        expected = type(getattr(defaults, key))
        if expected is dict:  # a table of shares by name ([answer.refusal_thresholds])
            values[key] = _shares(f"{name}.{key}", value)
            continue
        if expected is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = tuple(value)  # a TOML list of strings (web.trusted_proxies)
        # A refusal quotes the number as the file writes it: "got 0", not Python's "got 0.0".
        written = value
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(
                f"{name}.{key} in {CONFIG_FILE} must be {_KINDS[expected]}, got {as_written(value)}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):  # TOML's nan passes every comparison below
                raise ConfigError(
                    f"{name}.{key} in {CONFIG_FILE} must be a finite number, got {written}"
                )
            # Settings that default to 0 (a floor) may be 0; the others must be positive.
            where = f"{name}.{key}"
            if getattr(defaults, key) > 0 and value <= 0 and where not in _MAY_BE_ZERO:
                raise ConfigError(
                    f"{name}.{key} in {CONFIG_FILE} must be greater than 0, got {written}"
                )
            if value < 0:
                raise ConfigError(
                    f"{name}.{key} in {CONFIG_FILE} must not be negative, got {written}"
                )
            if where in _AT_MOST and value > _AT_MOST[where]:
                raise ConfigError(
                    f"{name}.{key} in {CONFIG_FILE} must be at most {_AT_MOST[where]}, "
                    f"got {written}"
                )
            if where in _AT_MOST_ONE and value > 1:
                raise ConfigError(
                    f"{name}.{key} in {CONFIG_FILE} is a share: between 0 and 1, got {written}"
                )
        if f"{name}.{key}" in _WORDS and not (value.strip() and _one_word(value)):
            # Written after every amount ("1300.00 EUR"): empty, a statement read "1300.00 "
            # with no money named; with a space, its notes were read as other words.
            raise ConfigError(
                f"{name}.{key} in {CONFIG_FILE} must be a currency code, one word such as "
                f'"EUR", got {as_written(value)}'
            )
        choices = _CHOICES.get(f"{name}.{key}")
        if choices and value not in choices:
            raise ConfigError(
                f"{name}.{key} in {CONFIG_FILE} must be one of {', '.join(choices)}, got "
                f"{as_written(value)}"
            )
        values[key] = value
    return cls(**values)


def _shares(where: str, raw: Any) -> dict[str, float]:
    """A table of names to numbers between 0 and 1."""
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] in {CONFIG_FILE} must be a table, got {as_written(raw)}")
    out = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"{where}.{name} in {CONFIG_FILE} must be {_KINDS[float]}, got {as_written(value)}"
            )
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise ConfigError(
                f"{where}.{name} in {CONFIG_FILE} is a share: between 0 and 1, got {value}"
            )
        out[str(name)] = float(value)
    return out


def config_file_present(file: Path) -> bool:
    """Whether the home has this configuration file. A link that leads nowhere, or a
    directory of that name, is an error, not an absence: the defaults would quietly take
    over from the operator's settings or charter."""
    if file.is_symlink() and not file.exists():
        raise ConfigError(
            f"{file} is a link to {os.readlink(file)}, which cannot be read",
            "fix the link, or remove it to use the defaults",
        )
    if file.exists() and not file.is_file():
        raise ConfigError(f"{file} is not a file", "put the file there, or remove what is there")
    return file.exists()


def read_config_text(file: Path) -> str:
    """A configuration file's text; one that is not UTF-8 is an error naming the file and the
    line (Python's own message names neither: issue 22)."""
    data = file.read_bytes()
    try:
        # "utf-8-sig": a byte order mark, which Windows' Notepad writes before UTF-8, is
        # left out; TOML's parser read it as a statement ("Invalid statement (at line 1,
        # column 1)"), which told the operator nothing of a file that looks right.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{file}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8",
        ) from None


def _a_url(value: str) -> bool:
    """Whether SQLAlchemy reads ``value`` as a URL. "://" alone let "://secret" and a port
    that is no number ("host:abc") through, to stop every command on SQLAlchemy's traceback
    or on "invalid literal for int() with base 10", naming neither the setting nor the
    variable."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except (ArgumentError, ValueError):
        return False
    return "://" in value


def in_home(url: str, home: Path) -> str:
    """``url`` with a relative SQLite path made the home's. Opened from the working
    directory, the service (run in its home) and the operator's shell (anywhere else) opened
    two databases, and the shell's commands refused the home or made a new one where they
    stood."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:////"):
        return url
    file = url.removeprefix("sqlite:///").partition("?")[0]
    if not file or file == ":memory:":
        return url
    return f"sqlite:///{home / url.removeprefix('sqlite:///')}"


def _not_left_behind(file: str, home: Path) -> None:
    """Refuse a relative SQLite path whose file is in the working directory and not in the
    home. Such a path was opened from the working directory until it was made the home's: a
    deployment that ran its commands elsewhere than its home (a unit without
    WorkingDirectory=, the operator's shell where the file is) then opened an empty database
    in the home, or made one, in silence, its documents and members apparently lost."""
    try:
        before = Path.cwd() / file
    except OSError:  # a working directory removed meanwhile: nothing was opened from it
        return
    here = home / file
    if here.exists() or not before.is_file() or before.resolve() == here.resolve():
        return
    raise ConfigError(
        f"the relative SQLite path sqlite:///{file} is read in the home: {here} does not "
        f"exist, and {before} does (the database this path opened from the working directory "
        "before)",
        f"write its full path, sqlite:///{before}, in place of sqlite:///{file}, or move the "
        f"file into {home}",
    )


def load_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings for a home, validating ``commune.toml`` if there is one."""
    path = resolve_home(home)
    raw: dict[str, Any] = {}
    file = path / CONFIG_FILE
    if config_file_present(file):
        try:
            raw = tomllib.loads(read_config_text(file))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{file} is not valid TOML: {exc}", "fix the file or remove it"
            ) from None
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            kwargs[key] = _section(key, _SECTIONS[key], value)
        elif key == "database_url":
            if not isinstance(value, str) or not _a_url(value):
                raise ConfigError(
                    f"database_url in {CONFIG_FILE} must be a SQLAlchemy URL", DATABASE_URL_HINT
                )
            kwargs[key] = value
        elif key == "models":
            if not isinstance(value, dict):
                raise ConfigError(f"[models] in {CONFIG_FILE} must be a table of tables")
            kwargs[key] = {name: _model(name, spec) for name, spec in value.items()}
        elif key == "default_collection":
            # Where an add that names no collection goes. A number was taken as its digits,
            # and an empty name refused every such add as a collection "named ' '", to an
            # operator who had named none.
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    f"default_collection in {CONFIG_FILE} must be a collection's name, got "
                    f"{as_written(value)}",
                    'give one in quotes, such as "default", or remove the line',
                )
            kwargs[key] = value
        else:
            raise _unknown_key(
                key,
                None,
                ("database_url", "default_collection", "models"),
                table=isinstance(value, dict),
            )
    url = kwargs.pop("database_url", None)
    if not url and os.environ.get(DATABASE_URL_ENV):
        # Read where commune.toml names no database. Its value is not quoted back: a URL
        # holds a password.
        url = os.environ[DATABASE_URL_ENV]
        if not _a_url(url):
            raise ConfigError(
                f"{DATABASE_URL_ENV} must be a SQLAlchemy URL",
                f"{DATABASE_URL_HINT}; or unset it for the SQLite database in the home",
            )
    if url and in_home(url, path) != url:
        _not_left_behind(url.removeprefix("sqlite:///").partition("?")[0], path)
        url = in_home(url, path)
    return Settings(home=path, database_url=url or f"sqlite:///{path / 'commune.db'}", **kwargs)
