"""The shapes of every route's replies, as ``/openapi.json`` gives them: a client generated
from the schema gets each field by name (``/api/search``'s hits, ``/api/ask``'s answer, the
documents and collections listed, ``/transparency.json``, /v1's completions, the peers'
replies…), where the schema said "an object" and nothing more.

They describe; they do not serialize. The routes declare them as their 200's model
(``responses``) and return the library's JSON as it is: validated and written through these
classes, the replies would change as their fields changed (an int written as a float, keys
reordered), and a field the library adds would be dropped. tests/test_api.py checks every
key of real replies against these schemas, so that neither drifts from the other.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# -- search -------------------------------------------------------------------------------------


class Hit(BaseModel):
    """A passage found, with its document's licence and provenance."""

    document_id: int = Field(description="The document's id (negative: a peer cooperative's).")
    chunk_id: int = Field(description="The passage's id.")
    title: str
    source: str = Field(description="Where the document comes from (its address or name).")
    section: str = Field(description="The heading the passage sits under; empty if none.")
    score: float = Field(description="The fused rank's score: higher ranks first.")
    licence: str | None = Field(description="The document's licence (SPDX), to credit it.")
    text: str = Field(description="The passage.")
    collection: str
    language: str
    anchor: str | None = Field(description="The passage's anchor in its source's page.")
    page: int | None = Field(description="Its page, in a paged document (PDF).")
    contributor: str | None
    publisher: str | None
    lexical_rank: int | None = Field(description="Its rank by words (BM25); null: not found so.")
    dense_rank: int | None = Field(description="Its rank by meaning; null: not found so.")
    cosine: float = Field(description="How close its meaning is to the query's.")
    revision_id: int | None = Field(description="The document's revision it was read from.")
    tdm_reserved: bool = Field(description="Its rights holder reserved text and data mining.")
    origin: dict[str, Any] | None = Field(
        description="A peer cooperative's passage: the peer, its own ids, its collection's "
        "policy and the credit line it sent (docs/peering.md); null: this cooperative's own."
    )


class Excluded(BaseModel):
    """A document left out of the reply, and why."""

    document_id: int
    title: str | None
    licence: str | None
    reason: str = Field(description="Why, in the asker's language.")


class FederatedHits(BaseModel):
    hits: list[Hit]
    withheld: list[Excluded] = Field(description="Documents whose passages were kept from you.")
    notices: list[str] = Field(description="Peers that did not answer, and why.")


# -- an answer ----------------------------------------------------------------------------------


class Sentence(BaseModel):
    text: str
    source: int = Field(description="The first source it cites (the n of `sources`).")
    sources: list[int] = Field(description="Every source it cites.")
    code: bool | None = Field(
        None, description="Quoted: a line of a command or a file, as it stands."
    )
    chunk_id: int | None = Field(None, description="Quoted: the passage it is quoted from.")
    more: bool | None = Field(None, description="Quoted: its list or listing goes on.")
    lead: str | None = Field(
        None,
        description="Quoted: the title of the box it opens (« À noter »), shown before it "
        "as its page does.",
    )
    language: str | None = Field(
        None, description="Quoted prose: the language of its own words (ISO 639-1)."
    )


class Source(BaseModel):
    n: int = Field(description="The number the answer's [n] citations refer to.")
    document_id: int
    chunk_id: int
    title: str
    section: str
    source: str
    anchor: str | None
    page: int | None
    licence: str | None
    contributor: str | None
    publisher: str | None
    attribution: str | None = Field(description="The credit line the licence asks for.")
    origin: dict[str, Any] | None = Field(description="A peer cooperative's passage: whose.")


class Energy(BaseModel):
    wh: float
    gco2e: float
    measured: bool = Field(description="Read from a meter; false: estimated.")
    method: str = Field(description="How it was found, in English (the ledger's words).")
    summary: str | None = Field(description="The same for a person, in the answer's language.")
    wh_range: list[float] | None = Field(None, description="A remote model's: min and max.")
    embodied_gco2e: float | None = Field(None, description="A remote model's hardware share.")


class Decision(BaseModel):
    """One of the charter's steps (docs/charter.md)."""

    step: str = Field(description="refuse, reduce, regulate, responsibility or redirect.")
    outcome: str
    reason: str = Field(description="Why, in the question's language.")
    rule: str | None = Field(None, description="The charter's rule that decided, if one did.")


class AnswerReply(BaseModel):
    """An answer with its sources, its energy and the charter's decisions."""

    question: str
    language: str
    text: str = Field(description="The answer, its sentences cited as [n].")
    found: bool = Field(description="False: nothing relevant was found, or it was refused.")
    mode: str = Field(description="extractive, generate or refused.")
    sentences: list[Sentence]
    sources: list[Source]
    model: str | None = Field(
        description="The model that ran for it, whose tokens input_tokens and output_tokens "
        "count; null when none ran. With mode extractive, the model's answer was replaced by "
        "the quotation, and notice says why (it reached its time or token limit, became "
        "unavailable, wrote nothing, or its sentences failed the citation checks)."
    )
    notice: str | None = Field(description="Why the answer is not what was asked for.")
    input_tokens: int
    output_tokens: int
    energy: Energy | None
    licence_notes: list[str] = Field(description="What the sources' licences ask of re-users.")
    language_note: str | None = Field(
        None,
        description="The sentences quoted are in another language than the question's, "
        "said in the question's; null when they are not.",
    )
    excluded: list[Excluded]
    decisions: list[Decision]
    decision_id: int | None = Field(description="The decision record that keeps them.")


# -- documents and collections ------------------------------------------------------------------


class Document(BaseModel):
    id: int
    title: str
    source_uri: str = Field(
        description="Where it comes from: the address it was added with, else its file's "
        "name; its path on the server to the operator alone (`commune serve --no-auth`)."
    )
    language: str
    licence: str | None
    contributor: str | None
    publisher: str | None
    content_hash: str = Field(description="SHA-256 of the published file.")
    status: str = Field(
        description="published; a reviewer of its collection also sees those waiting, "
        "rejected or retired, with theirs."
    )
    published_revision_id: int | None
    current_revision_id: int | None
    tdm_reserved: bool
    added_at: str = Field(description="In UTC (…Z).")
    updated_at: str = Field(description="In UTC (…Z).")
    collection: str
    chunks: int = Field(description="Its passages.")


class CollectionRow(BaseModel):
    name: str
    visibility: str = Field(description="private, shared or public.")
    owner: str | None = Field(description="The member it belongs to; null: the cooperative.")
    documents: int = Field(description="Its published documents.")


# -- transparency -------------------------------------------------------------------------------


class Sovereignty(BaseModel):
    jurisdictions: list[str]
    local_jurisdiction: str
    openness: list[str]
    stays_here: list[str]


class Sobriety(BaseModel):
    request_wh_cap: float | None
    member_month_wh_cap: float | None
    mode_preference: str
    cache: bool
    cache_ttl_hours: float
    near_duplicate_cosine: float | None
    quality_floor: float
    quality_floors: dict[str, float]


class RefusalRule(BaseModel):
    name: str
    message_fr: str
    message_en: str
    words: list[str]
    uses: list[str]


class Utility(BaseModel):
    refuse: list[RefusalRule]
    retention_days: int
    keep_question: str
    transparency_public: bool


class Payouts(BaseModel):
    citations: float
    documents: float
    reviews: float


class CharterVersion(BaseModel):
    version: str
    sha256: str
    in_force_from: str


class CharterInForce(BaseModel):
    version: str
    name: str
    sovereignty: Sovereignty
    sobriety: Sobriety
    utility: Utility
    payouts: Payouts
    sha256: str
    file: str | None = Field(description="The charter file's name; null: the default charter.")
    text: str = Field(description="The file as written; empty for the default charter.")
    history: list[CharterVersion] = Field(description="Each coming into force, newest first.")


class ModelShown(BaseModel):
    name: str
    backend: str
    params_b: float | None
    openness: str
    licence: str | None
    origin: str | None
    hosting: str
    jurisdiction: str | None
    wh_per_1k_tokens: float | None
    energy_method: str
    remote: bool
    wh_per_1k_range: list[float] | None
    allowed: bool = Field(description="Whether the charter allows it.")
    why: str


class ByKind(BaseModel):
    answered_questions: int
    abandoned_questions: int
    other_requests: int


class IngestionKind(BaseModel):
    rows: int
    wh: float


class Ingestion(BaseModel):
    wh: float
    gco2e: float
    rows: int
    by_kind: dict[str, IngestionKind]


class Totals(BaseModel):
    requests: int
    by_kind: ByKind
    wh: float
    gco2e: float
    estimated_requests: int
    ingestion: Ingestion
    note: str


class Idle(BaseModel):
    watts: float
    hours: float
    wh: float
    method: str


class Month(BaseModel):
    month: str
    requests_wh: float
    ingestion_wh: float
    idle: Idle


class StepCount(BaseModel):
    requests: int
    wh: float
    share: float | None


class Steps(BaseModel):
    questions: int
    over_quota: int
    answered_requests: int
    by_outcome: dict[str, StepCount]


class EmbeddingShare(BaseModel):
    passages: int
    share: float


class Embeddings(BaseModel):
    passages: int
    models: dict[str, EmbeddingShare]


class RefusalThreshold(BaseModel):
    threshold: float
    model_threshold: float
    configured: bool
    collections: dict[str, float]
    private_collections: int


class Links(BaseModel):
    bill_of_materials: str
    sovereignty_map: str


class Evaluation(BaseModel):
    id: int
    created_at: str
    suite: str
    suite_sha256: str
    split: str
    collection: str
    mode: str
    model: str | None
    questions: int
    correct: float
    fact_containment: float | None
    wh_per_correct_answer: float | None
    generation: int


class Transparency(BaseModel):
    """The charter in force and its history, the models, energy totals, the share of
    requests at each of the charter's steps, the latest evaluations (docs/charter.md)."""

    charter: CharterInForce
    models: list[ModelShown]
    totals: Totals
    month: Month
    steps: Steps
    embeddings: Embeddings
    refusal: RefusalThreshold | None
    links: Links
    evaluations: list[Evaluation]
    private_evaluations: int


# -- the other routes -----------------------------------------------------------------------
# Their replies were "an object" too (or nothing at all: /v1's completions, /peer/catalogue),
# each described now by its fields; tests/test_api.py fails for a route whose 200 says none.


class Health(BaseModel):
    status: str = Field(
        description="ok; disk_full when the disk holding the home has no room left (under "
        "1 MiB): writes fail (answers, uploads) until the operator frees some. Still a 200: "
        "restarting the server frees no disk."
    )
    version: str = Field(description="Commune's version.")
    generation: int = Field(description="The commons' generation: it changes with them.")
    detail: str | None = Field(
        default=None,
        description="When status is not ok: what is wrong, in the caller's language.",
    )


class Contribution(BaseModel):
    document_id: int
    revision_id: int
    revision: int = Field(description="The revision's number within its document.")
    title: str | None
    collection: str
    status: str = Field(
        description="Where it stands (published, pending, …): the same in every language."
    )
    held: str | None = Field(description="Why it waits, in the caller's language.")
    review: dict[str, Any] | None = Field(
        description="The last reviewer's decision and reason, or who retired it and why."
    )
    added_at: str | None = Field(description="In UTC (…Z).")


class Contributions(BaseModel):
    contributions: list[Contribution] = Field(description="Newest first, the last 50.")


class UsageDay(BaseModel):
    day: str = Field(description="YYYY-MM-DD.")
    requests: int
    tokens: int
    wh: float = Field(description="Energy of the requests, in watt-hours.")
    gco2e: float = Field(description="Their emissions, in grams of CO2 equivalent.")
    ingest_wh: float = Field(description="Energy of reading documents in, in watt-hours.")
    ingest_gco2e: float


class Usage(BaseModel):
    member: str | None
    user: str | None = Field(description="Whose requests: a person's own; null: the member's.")
    start: str = Field(description="YYYY-MM-DD.")
    end: str = Field(description="YYYY-MM-DD, included.")
    days: list[UsageDay]


class UserRemoved(BaseModel):
    user: str
    member: str
    role: str
    keys_revoked: int
    sessions_ended: int
    questions_erased: int
    cached_answers_deleted: int = Field(
        description="The cached answers to their questions, which held the questions' text."
    )
    revisions_waiting: int = Field(description="Their revisions still waiting for a reviewer.")


class PasswordSet(BaseModel):
    user: str
    sessions_ended: bool
    keys_revoked: int


class BillOfMaterials(BaseModel):
    """A CycloneDX 1.6 bill of materials (cyclonedx.org), its datasets those the caller may
    know of; its other keys are CycloneDX's."""

    bomFormat: str = Field(description="CycloneDX.")
    specVersion: str
    serialNumber: str | None = None
    version: int | None = None
    metadata: dict[str, Any] | None = None
    components: list[dict[str, Any]] | None = None
    dependencies: list[dict[str, Any]] | None = None


class SovereigntyMap(BaseModel):
    serial: str | None = Field(description="The bill's serialNumber.")
    components: int
    most_depended_on: list[dict[str, Any]]
    closed_or_unknown: list[dict[str, Any]] = Field(
        description="Components whose licence is closed or unknown, each with why."
    )
    outside_jurisdictions: list[dict[str, Any]] = Field(
        description="Models hosted outside the charter's jurisdictions."
    )
    obligations: dict[str, dict[str, Any]]
    changes: dict[str, Any] | None = Field(description="Since the bill before; null: none.")


# -- peering (docs/peering.md) -------------------------------------------------------------


class PeerHit(Hit):
    attribution: str = Field(description="The credit line the licence asks for.")
    policy: dict[str, Any] = Field(description="The collection's policy for peers.")


class PeerReinstated(BaseModel):
    document_id: int
    title: str


class PeerSearchReply(BaseModel):
    cooperative: str = Field(description="This home's name, for the peer's credit.")
    url: str
    hits: list[PeerHit]
    withheld: list[Excluded]
    retired: list[int] | None = Field(
        None, description="Documents the peer's answers cited that were retired since."
    )
    reinstated: list[PeerReinstated] | None = Field(
        None,
        description="Documents the peer's answers cited that were retired, then brought "
        "back since, each with its title (only those the peer may receive now).",
    )
    refused: str | None = Field(None, description="The charter refused the query: why.")


class PeerRetired(BaseModel):
    retired: list[int]
    reinstated: list[PeerReinstated] = Field(
        default_factory=list,
        description="Documents the peer's answers cited that were retired, then brought "
        "back since, each with its title (only those the peer may receive now).",
    )


class PeerCitedReply(BaseModel):
    recorded: int = Field(description="Passages credited.")
    dropped: list[dict[str, Any]] = Field(description="Those that no longer match, and why.")


class PeerCatalogue(BaseModel):
    """DCAT-AP in JSON-LD: the collections shared with peers, an ODRL policy each."""

    context: dict[str, Any] = Field(alias="@context")
    id: str = Field(alias="@id")
    type: str = Field(alias="@type")
    title: str = Field(alias="dct:title")
    publisher: dict[str, Any] = Field(alias="dct:publisher")
    modified: dict[str, Any] = Field(alias="dct:modified")
    dataset: list[dict[str, Any]] = Field(alias="dcat:dataset")


# -- /v1 (OpenAI's shapes) -----------------------------------------------------------------


class ModelCard(BaseModel):
    id: str
    object: str = Field(description="model.")
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: str = Field(description="list.")
    data: list[ModelCard]


class EmbeddingRow(BaseModel):
    object: str = Field(description="embedding.")
    index: int
    embedding: list[float] | str = Field(description="The vector, or base64 of its floats.")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: str = Field(description="list.")
    model: str
    data: list[EmbeddingRow]
    usage: EmbeddingUsage


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    method: str | None = Field(None, description="How the tokens were counted.")


class AssistantMessage(BaseModel):
    role: str = Field(description="assistant.")
    content: str
    annotations: list[dict[str, Any]] | None = Field(None, description="Its url_citations.")
    refusal: str | None = None


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str | None


class TextChoice(BaseModel):
    index: int
    text: str
    logprobs: None = None
    finish_reason: str | None


class ChatCompletion(BaseModel):
    id: str
    created: int
    model: str
    object: str = Field(description="chat.completion.")
    choices: list[ChatChoice]
    usage: CompletionUsage | None = None
    citations: list[str] | None = Field(None, description="The sources' addresses.")
    commune: dict[str, Any] | None = Field(
        None, description="The answer's sources, energy and charter decisions, as /api/ask's."
    )


class TextCompletion(BaseModel):
    id: str
    created: int
    model: str
    object: str = Field(description="text_completion.")
    choices: list[TextChoice]
    usage: CompletionUsage | None = None
    citations: list[str] | None = None
    commune: dict[str, Any] | None = None


def described(model: Any, description: str) -> dict[str, Any]:
    """A route's arguments: its 200 described as ``model`` (a class, or ``list[...]``), its
    reply written as it was. ``response_model=Any`` has pydantic write the returned JSON with
    no model applied (a timestamp "…Z", as before); without it, the route's return type
    (``dict[str, Any]``) would be taken as its model too, and merged into ``model``'s schema."""
    return {
        "response_model": Any,
        "responses": {200: {"model": model, "description": description}},
    }
