"""Tables, as SQLAlchemy Core metadata. Changes go through migrations only."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

collections = Table(
    "collections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=True),  # owner
    Column("visibility", String(20), nullable=False, default="shared"),  # private|shared|public
    # Curation rules: how many approvals publish a revision, and the least role that may give one.
    Column("approvals_required", Integer, nullable=False, default=0),
    Column("approver_role", String(30), nullable=False, default="curator"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("collection_id", Integer, ForeignKey("collections.id"), nullable=False),
    # What makes two additions "the same document": the source URI if given,
    # else the file's absolute path.
    Column("source_key", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("source_uri", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("licence", Text, nullable=True),
    Column("contributor", Text, nullable=True),
    Column("publisher", Text, nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False, default="published"),
    # Why it was retired (policy.RETIRE_CATEGORIES), while it is; None before migration 0017.
    Column("retired_category", String(20), nullable=True),
    Column("current_revision_id", Integer, nullable=True),  # the newest revision
    Column("published_revision_id", Integer, nullable=True),  # the one retrieved, if any
    Column("tdm_reserved", Boolean, nullable=False, default=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("retrieved_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("collection_id", "source_key", name="uq_documents_source"),
)

revisions = Table(
    "revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("parent_id", Integer, ForeignKey("revisions.id"), nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("licence", Text, nullable=True),
    Column("contributor", Text, nullable=True),
    Column("publisher", Text, nullable=True),
    Column("source_uri", Text, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # proposed | changes-requested | published | rejected | superseded | retired (withdrawn
    # from the history readers see: its document was retired, then brought back) | outdated
    # (waited while a newer revision was published: never published)
    Column("status", String(30), nullable=False, default="published"),
    Column("hold_reason", Text, nullable=True),  # why it waits (e.g. unknown licence)
    Column("contributor_user_id", Integer, nullable=True),
    Column("contributor_member_id", Integer, nullable=True),
    Column("tdm_reserved", Boolean, nullable=False, default=False),
    # Which reading of its format made its passages (ingest/readers.READINGS); None: a format
    # whose reading never changed, or a revision stored before readings were recorded.
    Column("reading", String(32), nullable=True),
    UniqueConstraint("document_id", "number", name="uq_revisions_number"),
)

chunks = Table(
    "chunks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision_id", Integer, ForeignKey("revisions.id"), nullable=False),
    Column("document_id", Integer, ForeignKey("documents.id"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("heading_path", Text, nullable=False, default=""),  # " > "-joined headings
    Column("anchor", Text, nullable=True),  # fragment id of the nearest heading
    Column("page", Integer, nullable=True),  # 1-based, for paged formats
    Column("language", String(8), nullable=False),
    Column("terms", Text, nullable=False),  # analysed lexical terms, space-separated
    Column("n_words", Integer, nullable=False),
    Index("ix_chunks_revision", "revision_id"),
    Index("ix_chunks_document", "document_id"),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("chunk_id", Integer, ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(100), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian, L2-normalised
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("added", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
)

# The ledger modes of ingestion's work: documents added (`commune add`, uploads), passages
# enriched with the second embedder (`commune enrich`), an exported dataset imported
# (`commune import`). Their rows are the commons' upkeep, not anyone's request: they are
# summed apart from the requests (transparency, /statement, /metrics), never counted as a
# question, and no quota, the person's or the member's, counts them (govern/quotas.py).
INGESTION_MODES = ("ingest", "enrich", "import")

usage = Table(
    "usage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("route", String(100), nullable=False),
    Column("mode", String(20), nullable=False),  # extractive | generate | … | INGESTION_MODES
    Column("model", String(200), nullable=True),
    Column("collection", String(200), nullable=True),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("fallback", Boolean, nullable=False),  # a generated answer fell back to extractive
    Column("member_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("cpu_seconds", Float, nullable=False, default=0.0),
    Column("wh", Float, nullable=True),  # None: could not be measured nor estimated
    Column("gco2e", Float, nullable=True),
    Column("energy_method", Text, nullable=True),  # how wh was obtained (text: 0019)
    Column("estimated", Boolean, nullable=False, default=False),  # False: measured
    Index("ix_usage_created_at", "created_at"),
    Index("ix_usage_member_created", "member_id", "created_at"),
)

# A ledger row of ingestion's work: of one of its modes, and no person's (its rows name none,
# account/metering.Ingestion). An upload written before ingestion was metered has the mode
# "ingest" too, but it was its sender's request (their user_id and member, their quotas, the
# requests /metrics counted): it stays one, so that no total falls back under the upgrade
# (commune_metered_requests_total and commune_energy_wh_total read as reset counters, their
# whole history counted again by rate()) and no member's line calls the upload of one of its
# people "documents added to its collections" (its collection may be another's).
INGESTION = usage.c.mode.in_(INGESTION_MODES) & usage.c.user_id.is_(None)

# A person's request whose person was forgotten: the purge past the charter's retention
# (charter/records.purge) sets ``usage.user_id`` to it, the one change to the ledger its
# triggers allow (migration 0023). Not NULL, which marks ingestion's rows; no person's id
# (ids start at 1). The member stays, so the member's and the cooperative's totals are the
# same; a person's own usage stops at the retention.
UNNAMED = 0

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(50), nullable=False),  # town, agglomeration, association, ...
    Column("requests_per_day", Integer, nullable=True),  # quotas; None = no limit
    Column("tokens_per_month", Integer, nullable=True),
    Column("wh_per_month", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The use the member declared to the cooperative: sources whose licence forbids it
    # are left out of its answers.
    Column("declared_use", String(30), nullable=False, default="non-commercial"),
    # When it left the cooperative (govern/members.leave; None: a member). A time to come is a
    # departure recorded and not yet in effect, which may be undone.
    Column("left_at", DateTime(timezone=True), nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(30), nullable=False),
    Column("requests_per_day", Integer, nullable=True),  # caps inside the member's pool
    Column("tokens_per_month", Integer, nullable=True),
    Column("wh_per_month", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # argon2id, for signing in to the web application; None: keys only.
    Column("password_hash", String(200), nullable=True),
    # Removed from the cooperative (govern/accounts.remove_user): kept, since the ledger,
    # credits, revisions and audit log point to this row, but it opens nothing any more.
    Column("removed_at", DateTime(timezone=True), nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),  # shown, to find the key
    Column("digest", String(64), nullable=False),  # sha256 of the whole key; never the key
    Column("label", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)


reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision_id", Integer, ForeignKey("revisions.id"), nullable=False),
    Column("reviewer", String(200), nullable=False),
    Column("reviewer_user_id", Integer, nullable=True),
    Column("decision", String(30), nullable=False),  # approve | reject | request-changes
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", String(40), nullable=False),  # ISO text: hashed exactly as stored
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Every /peer/search reads the reinstatements' subjects (peering/citations), and a
    # document's retirement or a month's statement is looked up by both (migration 0026).
    Index("ix_audit_log_action_subject", "action", "subject"),
)

credits = Table(
    "credits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("route", String(100), nullable=False),
    Column("member_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("document_id", Integer, nullable=False),
    Column("revision_id", Integer, nullable=True),
    Column("contributor", String(200), nullable=True),
    Column("citations", Integer, nullable=False),
    # One key for the rows of one answer (a row per document it cited): a contributor's
    # answers are counted by it, not by rows (a peer's report of its answer's passages too).
    # None on rows written before it, which count one each.
    Column("answer", String(32), nullable=True),
    Index("ix_credits_created_at", "created_at"),
    # A peer's search reads the documents its answers cited (peering/citations.retired_cited).
    Index("ix_credits_route_member", "route", "member_id"),
)

# The charter: every version that has been in force, with its hash (the transparency page
# shows this history). A charter brought back has a row for each time it came into force.
charters = Table(
    "charters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("version", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("in_force_from", DateTime(timezone=True), nullable=False),
)

# One record per answered (or refused) request: each of the charter's five steps with its
# outcome and reason. Kept for the charter's retention, then purged (the purge is audited).
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("route", String(100), nullable=False),
    Column("member_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("question", Text, nullable=True),  # only when the charter keeps question text
    Column("question_sha256", String(64), nullable=False),
    Column("language", String(8), nullable=False),
    Column("collection", String(200), nullable=True),
    # refused | over-quota | cached | extractive | generated
    Column("outcome", String(30), nullable=False),
    Column("model", String(200), nullable=True),
    Column("steps", Text, nullable=False),  # JSON: [{"step", "outcome", "reason"}]
    Column("charter_sha256", String(64), nullable=False),
    Column("wh", Float, nullable=True),
    Index("ix_decisions_created_at", "created_at"),
)

# Answers already given, for the same (or a near-duplicate) question on the same index
# generation and the same scope of readable collections.
answer_cache = Table(
    "answer_cache",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False),  # question + scope + mode
    Column("scope", String(64), nullable=False),  # scope + mode, without the question
    Column("generation", Integer, nullable=False),
    Column("language", String(8), nullable=False),
    Column("vector", LargeBinary, nullable=True),  # the question's embedding (float32)
    Column("embedder", String(100), nullable=True),
    Column("answer", Text, nullable=False),  # JSON
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Who asked the question kept in ``answer``: their removal deletes it (migration 0025
    # says why). NULL: the operator's, or nobody's.
    Column("user_id", Integer, nullable=True),
    Index("ix_answer_cache_key", "key", "generation"),
    Index("ix_answer_cache_scope", "scope", "generation"),
)

# The last evaluation scores of each way of answering on each collection (`commune eval`):
# the charter's redirect chooses by them.
eval_scores = Table(
    "eval_scores",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("suite", String(200), nullable=False),
    Column("suite_sha256", String(64), nullable=False),
    Column("split", String(20), nullable=False),
    Column("collection", String(200), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("model", String(200), nullable=True),
    Column("questions", Integer, nullable=False),
    Column("correct", Float, nullable=False),  # share of questions answered correctly
    Column("fact_containment", Float, nullable=True),
    Column("wh_per_correct_answer", Float, nullable=True),
    Column("generation", Integer, nullable=False),
    Index("ix_eval_scores_collection", "collection", "mode", "model"),
)


# Web sign-in sessions: the cookie holds a random token, the table its SHA-256 and the
# session's CSRF token. Ending a session (sign-out, expiry) keeps the row for the record, for
# the charter's retention after its end (govern/sessions.purge).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    # Opened with an API key (its prefix): the session ends with the key (revoked, expired).
    Column("key_prefix", String(16), nullable=True),
)


# A request admitted under a quota holds its place until its ledger row is written, so that
# concurrent requests in any server process count it (govern/quotas.py). A hold left by a
# request that failed expires after quotas.HOLD_SECONDS.
quota_holds = Table(
    "quota_holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_quota_holds_member", "member_id", "created_at"),
)


# Wrong keys and passwords within the failed sign-ins' window, one row per count they fall
# under (an address, a claimed key or account: ``name``, its SHA-256, never the text typed),
# shared by every server process (govern/guesses.py). ``at``: seconds since the epoch.
failed_sign_ins = Table(
    "failed_sign_ins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_failed_sign_ins_name_at", "name", "at"),
    Index("ix_failed_sign_ins_at", "at"),
)


# Which document's passages changed at each index generation (NULL: none did): the search
# index takes in those documents alone instead of being rebuilt (index/catalog.py).
index_log = Table(
    "index_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("document_id", Integer, nullable=True),
    Index("ix_index_log_generation", "generation"),
)


# What each contributor chose to do with their payout share (`commune payouts waive`,
# `redirect`, `receive`): one row per choice, never updated, so that the history stays and
# a past month is paid as the choice then in force decided. The latest row whose from_month
# is at or before a month applies to it.
payout_choices = Table(
    "payout_choices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("contributor", String(200), nullable=False),  # as the credits name them
    Column("choice", String(20), nullable=False),  # receive | waive | redirect
    Column("target", String(200), nullable=True),  # the member a redirected share goes to
    Column("from_month", String(7), nullable=False),  # YYYY-MM
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Index("ix_payout_choices_contributor", "contributor"),
)


# The texts of the cooperative's own licences, by their SPDX ``LicenseRef-…`` identifier
# (govern/licences.py): one identifier names one text, recorded when first used.
licence_texts = Table(
    "licence_texts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("identifier", String(200), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", Text, nullable=False),
)


# Peering (commons/peering/): the collections this home shares with other cooperatives,
# each with the usage policy that travels with its passages (attribution is always required).
shares = Table(
    "shares",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("collection_id", Integer, ForeignKey("collections.id"), nullable=False, unique=True),
    Column("non_commercial", Boolean, nullable=False, default=False),
    Column("share_alike", Boolean, nullable=False, default=False),
    Column("tdm_reserved", Boolean, nullable=False, default=False),
    Column("kinds", Text, nullable=False, default=""),  # comma-separated; empty: every kind
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
)

# The cooperatives this home asks, each with the key it issued to this one (kept as given:
# it must be sent; never shown whole).
peers = Table(
    "peers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("api_key", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# The peers' passages this home's answers cited (its own citations are in `credits`): the
# credits report shows them as the peer's, and payouts leave them to the peer.
peer_citations = Table(
    "peer_citations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("route", String(100), nullable=False),
    Column("peer", String(200), nullable=False),
    Column("document_id", Integer, nullable=False),  # the peer's own id
    Column("title", Text, nullable=False),
    Column("licence", Text, nullable=True),
    Column("contributor", String(200), nullable=True),
    Column("member_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("citations", Integer, nullable=False),
    Index("ix_peer_citations_created_at", "created_at"),
)

# The passages /peer/search returned to each peer: a peer's citation report (/peer/cited)
# is credited only against these, once per return, so a peer cannot credit passages it was
# never given, nor one passage many times (commons/peering/citations.py).
peer_returns = Table(
    "peer_returns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("member_id", Integer, nullable=False),  # the peer's member here
    Column("chunk_id", Integer, nullable=False),
    Column("cited_at", DateTime(timezone=True), nullable=True),
    Index("ix_peer_returns_member_chunk", "member_id", "chunk_id"),
    # Every /peer/search deletes the returns past the credit window by this column.
    Index("ix_peer_returns_created_at", "created_at"),
)

# The texts an imported dataset gave this home (commons/opendata.py), and the retirements
# their publisher sent since: a dataset retires only the documents it gave (a home's own
# document holding the same bytes is its own curators'), and a text its publisher retired
# is not imported again from an older dataset, until the publisher publishes it again.
dataset_texts = Table(
    "dataset_texts",
    metadata,
    Column("id", Integer, primary_key=True),
    # None: a text its publisher retired that no document here held when the
    # retirement came (recorded all the same: an older dataset must not bring it).
    Column("collection_id", Integer, nullable=True),
    Column("document_id", Integer, nullable=True),
    # None: a retired text known only by its keyed hash (below), never held here.
    Column("content_hash", String(64), nullable=True),
    # The document's salt in that dataset (its documents.jsonl line): what keys its texts in
    # the publisher's later retired.jsonl, which names a short text by its keyed hash only.
    Column("salt", String(32), nullable=True),
    # A retired text's keyed hash, kept for a text never held here: an older export, giving
    # its text and salt, is refused by it (opendata._refused).
    Column("keyed", String(64), nullable=True),
    # The dataset's name (its croissant.json's), as it was when it gave the text;
    # "" for the texts a home held before migration 0020, which may have come from any.
    Column("origin", Text, nullable=False),
    # The dataset's identity (its croissant.json's @id: the exporting home's and the
    # collection's, kept through a rename, never another home's); None for a dataset
    # exported before it had one, or a text recorded before migration 0021: then its name
    # alone says which dataset it was.
    Column("dataset_id", Text, nullable=True),
    Column("given_at", DateTime(timezone=True), nullable=False),
    # When its publisher retired it (its own clock, from retired.jsonl), and why (a
    # category of RETIRE_CATEGORIES); None while the publisher publishes it.
    Column("retired_at", DateTime(timezone=True), nullable=True),
    Column("category", String(20), nullable=True),
    Index("ix_dataset_texts_hash", "content_hash"),
)
