"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` must match these.

Papers are keyed by arXiv id without version, so a new version updates the row in place and
whatever hangs off the paper (votes, comments) keeps pointing at it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
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
    func,
    literal_column,
    true,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

papers = Table(
    "papers",
    metadata,
    Column("arxiv_id", String(40), primary_key=True),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("abstract", Text),
    Column("comment", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("primary_category", String(40)),
    Column("submitted_at", DateTime),
    Column("arxiv_updated_at", DateTime),
    Column("first_listed_on", Date),
    Column("featured_on", Date),
    Column("featured_by", Text),  # the full name Hugging Face shows for the submitter
    # ... and their user name (what /api/daily_papers?submitter= filters on), avatar, type.
    Column("featured_by_user", Text),
    Column("featured_by_avatar", Text),
    Column("featured_by_type", Text),
    # The day the paper is shown in the feed (``paper.feed_day``), kept so it can be indexed.
    Column("feed_day", Date),
    Column("hf_upvotes", Integer),
    # Upvotes cast on this site by members not suspended: kept with each vote's write (in the
    # same transaction), so a page sorts by it without counting rows (see ``store.votes``).
    Column("local_upvotes", Integer, nullable=False, server_default="0"),
    # Comments on the paper's Hugging Face page (numComments), as last imported.
    Column("hf_comments", Integer),
    # Comments on this site that readers see (not deleted, not hidden, author not suspended):
    # kept with each comment's write, like ``local_upvotes``; numComments is their sum.
    Column("local_comments", Integer, nullable=False, server_default="0"),
    Column("github_repo", Text),
    Column("github_stars", Integer),
    Column("project_page", Text),
    # The authors' names and the categories as JSON arrays in order, and the first http(s)
    # code link of ``paper_links``: copies of the child tables written with them by
    # ``upsert_papers``, so a page of papers is one query of one row per paper.
    Column("authors_json", Text),
    Column("categories_json", Text),
    Column("code_link", Text),
    Column("content_hash", String(32), nullable=False),
    # The version of what the paper's entry shows (``store.entries``): a random number the
    # database draws anew (triggers, migration 0016) whenever a column of it changes, upvotes
    # cast here aside. An entry kept with its version is current while the paper's is the
    # same.
    Column("entry_version", BigInteger, nullable=False, server_default="0"),
    # Digest of title and abstract, the embedded text (see ``paper.text_hash``).
    Column("text_hash", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index(None, "primary_category"),
    Index(None, "first_listed_on"),
    Index(None, "featured_on"),
    Index(None, "featured_by_user"),
    Index(None, "submitted_at"),
    # A day's page is ranked from this index alone (its sort keys and id; migration 0010).
    Index(
        "ix_papers_feed_day_rank",
        "feed_day",
        "hf_upvotes",
        "local_upvotes",
        "submitted_at",
        "arxiv_id",
    ),  # fmt: skip
    Index(None, "updated_at"),  # the newest change, read often by change_stamp
    Index(None, "created_at"),  # the papers new since an alert's last run
)

# The sort keys of a page of papers (``store.entries``): upvotes shown (imported plus local)
# and submission time. COALESCE because NULLs sort first in PostgreSQL's DESC and last in
# SQLite's; literals, not parameters: the page statements run on the driver.
RANK_UPVOTES = func.coalesce(papers.c.hf_upvotes, literal_column("0")) + papers.c.local_upvotes
RANK_RECENT = func.coalesce(papers.c.submitted_at, literal_column("'1970-01-01 00:00:00'"))

# One day's papers in the order its page shows them (migration 0014): a day's first page
# reads its fifty rows from the index in order, where the rank index above (the sort keys
# as columns) left a sort of the day's few hundred.
Index(
    "ix_papers_feed_day_order",
    papers.c.feed_day,
    RANK_UPVOTES.self_group().desc(),  # in parentheses, as PostgreSQL needs an expression
    RANK_RECENT.desc(),
    papers.c.arxiv_id.desc(),
)

authors = Table(
    "authors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column(
        "paper_id",
        String(40),
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("author_id", Integer, ForeignKey("authors.id"), nullable=False),
    Index(None, "author_id"),
)

paper_categories = Table(
    "paper_categories",
    metadata,
    Column(
        "paper_id",
        String(40),
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("category", String(40), nullable=False),
    Index(None, "category", "paper_id"),
)

paper_links = Table(
    "paper_links",
    metadata,
    Column(
        "paper_id",
        String(40),
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("url", Text, nullable=False),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("target", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("new", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("message", Text),
    # Moved on at each committed batch: a ``running`` row whose heartbeat is long past was
    # killed, and the next run of its source marks it ``interrupted``.
    Column("heartbeat_at", DateTime),
    Index(None, "source", "started_at"),
)

# The background worker's runs (``dailypapers.worker``): one row per job and scheduled slot,
# both the queue and the record. The unique (job, slot) pair means two schedulers creating
# the same slot make one run; ``owner`` and ``lease_until`` say which worker runs it and
# until when its claim holds (renewed while it runs; an expired claim is taken over).
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False),
    Column("slot", DateTime, nullable=False),
    # due, running, ok, idle (nothing to do), failed
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", DateTime, nullable=False),  # a retry waits until then
    Column("owner", String(200)),
    Column("lease_until", DateTime),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
    Column("counts", Text),  # JSON: {"new": 3, "embedded": 256, ...}
    Column("message", Text),
    UniqueConstraint("job", "slot"),
    Index(None, "status", "not_before"),
)

# Where a resumable harvest stands (an OAI-PMH window and its resumption token, say), as
# JSON text under a key such as "oai:cs.CL"; written in the same transaction as the papers.
harvest_state = Table(
    "harvest_state",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Sentence embeddings of "title + abstract", one per paper and model. The store is their
# source of truth: the search index's ANN files are built from here and can always be rebuilt.
# ``text_hash`` is the paper's text hash when it was embedded, so a paper whose title or
# abstract changed is re-embedded (and one whose votes changed is not).
paper_vectors = Table(
    "paper_vectors",
    metadata,
    Column(
        "paper_id",
        String(40),
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("model", String(200), primary_key=True),
    Column("dimensions", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("text_hash", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index(None, "created_at"),
)

# People with an account (``dailypapers.accounts``). User names and emails are unique whatever
# their case: ``username_key`` and ``email_key`` hold the lower-cased forms the unique
# constraints apply to, so "Alice" and "alice" cannot both sign up (and a log-in by email
# finds the account however it is typed). ``password_hash`` (argon2id) is empty for an
# account that only signs in through GitHub or ORCID; ``email`` too when that provider
# gave none.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(40), nullable=False),
    Column("username_key", String(40), nullable=False, unique=True),
    Column("email", String(320)),
    Column("email_key", String(320), unique=True),
    Column("fullname", Text),
    Column("password_hash", Text),
    Column("role", String(16), nullable=False),  # user, moderator, admin
    Column("email_confirmed_at", DateTime),
    Column("suspended_at", DateTime),
    Column("upvotes_public", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

# Signed-in browsers: a row per session, so a session can be ended from anywhere ("log out
# everywhere", a suspension). Only the SHA-256 of the cookie's token is kept: a copy of the
# database signs nobody in. ``role`` is the user's role when the session began; when it no
# longer matches, the next request gets a new session token (rotation on a change of role).
sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("user_agent", Text),
    Index(None, "user_id"),
)

# Personal API tokens (``Authorization: Bearer``): shown once, kept as a SHA-256 hash with
# their first characters (``prefix``) so the settings page can tell them apart.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scope", String(8), nullable=False),  # read, write
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime),
    Index(None, "user_id"),
)

# Upvotes: one per member and paper (the key), with its time, so trending can count the
# votes of a window. Papers are keyed without version, so a vote stays on a new version.
# ``counted`` is false while the voter is suspended: the vote is kept, but not counted.
paper_votes = Table(
    "paper_votes",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "paper_id",
        String(40),
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("created_at", DateTime, nullable=False),
    Column("counted", Boolean, nullable=False, server_default=true()),
    Index(None, "paper_id", "created_at"),  # a paper's votes since a time (trending)
    # On SQLite the rows live in the primary key's b-tree (migration 0015): a vote writes
    # two b-trees (and this index), not four.
    sqlite_with_rowid=False,
)

# The votes' clock (``store.votes``): its one row (id 1, made by the migration) counts the
# changes of ``paper_votes``, so the change stamp of cached pages is one row to read.
vote_clock = Table(
    "vote_clock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("changes", BigInteger, nullable=False),
)

# Papers members submitted to the feed: one submission per paper (no duplicates), with its
# member, note and time; the paper itself carries "featured on/by" like a Hugging Face one.
paper_submissions = Table(
    "paper_submissions",
    metadata,
    Column(
        "paper_id",
        String(40),
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("note", Text),
    Column("created_at", DateTime, nullable=False),
    Index(None, "user_id", "created_at"),
)

# Rate-limit counters (``dailypapers.accounts.limits``): hits per key and fixed window, read
# two windows at a time as a sliding window. ``bucket`` is the rule, the scope and a hash of
# the key (an IP or an account), never the key itself; times are Unix seconds. Rows whose
# ``expires_at`` has passed no longer count and are deleted now and then.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("bucket", String(100), primary_key=True),
    Column("window_start", BigInteger, primary_key=True, autoincrement=False),
    Column("hits", Integer, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "expires_at"),
    sqlite_with_rowid=False,  # as paper_votes: a check finds its row in one b-tree
)

# Identities at GitHub and ORCID linked to accounts (``dailypapers.accounts.oauth``): one
# account per identity (the primary key), any number of identities per account.
identities = Table(
    "identities",
    metadata,
    Column("provider", String(16), primary_key=True),  # github, orcid
    Column("subject", String(128), primary_key=True),  # GitHub's user id, the ORCID iD
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("linked_at", DateTime, nullable=False),
    Index(None, "user_id"),
)

# Authorship claims (``dailypapers.community.claims``): a user says they are one of a paper's
# authors; a moderator approves or rejects. One claim per user, paper and author name.
claims = Table(
    "claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "paper_id", String(40), ForeignKey("papers.arxiv_id", ondelete="CASCADE"), nullable=False
    ),
    Column("author_name", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),  # pending, approved, rejected
    Column("created_at", DateTime, nullable=False),
    Column("decided_at", DateTime),
    Column("decided_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    UniqueConstraint("paper_id", "author_name", "user_id"),
    Index(None, "status"),
)

# Code and project links set by a paper's confirmed authors (or a moderator); kept apart from
# the papers row so an ingest, which rewrites that row, never overwrites them.
author_links = Table(
    "author_links",
    metadata,
    Column(
        "paper_id", String(40), ForeignKey("papers.arxiv_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("code_url", Text),
    Column("project_url", Text),
    Column("set_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("set_at", DateTime, nullable=False),
)

# Email digest subscriptions (``dailypapers.digest``): one per address (``email_key``, the
# casefolded address, is unique), no account needed. ``status`` is pending until the address
# owner confirms (double opt-in), confirmed, or stopped after three bounces; ``categories`` is
# a comma-separated list ("" for all). ``last_mail_at`` is when a confirmation mail was last
# sent, so an address gets at most one a day however often it is typed in.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", Text, nullable=False),
    Column("email_key", String(320), nullable=False, unique=True),
    Column("frequency", String(8), nullable=False),  # daily, weekly
    Column("categories", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending, confirmed, bounced
    Column("bounces", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("confirmed_at", DateTime),
    Column("last_mail_at", DateTime),
    Index(None, "status", "created_at"),
)

# The digest outbox (``dailypapers.digest.outbox``): one delivery per subscription and edition
# (``daily/2026-06-12``, ``weekly/2026-W24``), unique, so an edition is queued for a subscriber
# once however often the queueing runs. A sender claims due rows under a lease (``owner``,
# ``lease_until``), sends, and marks each row sent at once; a temporary failure puts the row
# back due at ``not_before`` (the back-off), a permanent one marks it bounced.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("edition", String(40), nullable=False),
    Column("status", String(16), nullable=False),  # due, sending, sent, bounced, failed, empty
    Column("attempts", Integer, nullable=False),
    Column("not_before", DateTime, nullable=False),
    Column("owner", String(100)),
    Column("lease_until", DateTime),
    Column("message_id", Text),
    Column("error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    UniqueConstraint("subscription_id", "edition"),
    Index(None, "edition", "status", "not_before"),
)

# Comments on paper pages (``dailypapers.discussion``). ``body`` is the Markdown source as
# written (what the API returns as ``text``); ``html`` its rendering, sanitised, made once at
# write time so a page with hundreds of comments renders none. A reply names its ``parent``.
# Deleting keeps the row (``deleted_at``, body emptied) so replies stay in place; an account's
# deletion leaves ``user_id`` empty the same way. Moderators hide a comment with a reason
# (``hidden_*``); a suspended author's comments are hidden by the read, not by a write.
comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "paper_id", String(40), ForeignKey("papers.arxiv_id", ondelete="CASCADE"), nullable=False
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("parent_id", Integer, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("body", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("edited_at", DateTime),
    Column("deleted_at", DateTime),
    Column("hidden_at", DateTime),
    Column("hidden_reason", Text),
    Column("hidden_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Index(None, "paper_id", "created_at"),
    Index(None, "user_id", "created_at"),
    Index(None, "parent_id"),
)

# A comment's earlier texts, one row per edit (the text before it), for moderators.
comment_versions = Table(
    "comment_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("body", Text, nullable=False),
    Column("written_at", DateTime, nullable=False),
    Index(None, "comment_id"),
)

# Papers a member marked "not interested": left out of their daily, trending and search pages
# and, as negative feedback, out of their email alerts. Undone from the settings page.
not_interested = Table(
    "not_interested",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "paper_id", String(40), ForeignKey("papers.arxiv_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("created_at", DateTime, nullable=False),
)

# Members' reports of comments (``dailypapers.discussion.moderation``): a reason each, open
# until a moderator hides the comment or dismisses the report (``resolution``: hidden,
# dismissed). A member has at most one open report per comment (checked in the write).
comment_reports = Table(
    "comment_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("resolved_at", DateTime),
    Column("resolved_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("resolution", String(16)),  # hidden, dismissed
    Index(None, "comment_id", "user_id"),
    Index(None, "resolved_at", "created_at"),
)

# Every moderation action (hide, unhide, dismiss, remove a submission, suspend, restore, claim
# decisions, role changes), for admins. The actor's and the target's names are copied in, so
# an entry still reads right after an account is deleted; ``actor_id`` is empty for the CLI.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("actor_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("actor_name", String(40), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target_type", String(16), nullable=False),  # comment, report, paper, user, claim
    Column("target_id", String(64), nullable=False),
    Column("target_label", Text),
    Column("reason", Text),
    Column("created_at", DateTime, nullable=False),
)

# On-site notifications (``dailypapers.discussion.notifications``): a reply to a member's
# comment, a mention of them, a comment on a paper they submitted or are a confirmed author
# of. ``read_at`` is empty while unread: the header's count is one index range.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # reply, mention, paper_comment
    Column("actor_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE")),
    Column(
        "paper_id", String(40), ForeignKey("papers.arxiv_id", ondelete="CASCADE"), nullable=False
    ),
    Column("created_at", DateTime, nullable=False),
    Column("read_at", DateTime),
    Index(None, "user_id", "read_at"),
    Index(None, "user_id", "id"),
)

# The notifications' clock (``store.notifications``): its one row (id 1, made by the migration)
# counts every change of who has how many unread, so a web process's cache of the header's
# unread counts knows, reading one row every few seconds, when another process changed one.
notification_clock = Table(
    "notification_clock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("changes", BigInteger, nullable=False),
)

# Per-kind email choices for notifications, stored now for the mail that sends them later.
# No row: the kind's default (:data:`dailypapers.discussion.notifications.EMAIL_DEFAULTS`).
notification_prefs = Table(
    "notification_prefs",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("email", Boolean, nullable=False),
)

# Members' reading lists (0011_collections): a list has a slug unique per member (its URL,
# /users/{name}/collections/{slug}); its items keep their order in ``position`` (0, 1, ...).
collections = Table(
    "collections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("slug", String(120), nullable=False),
    Column("public", Boolean, nullable=False, default=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "slug"),
)

collection_items = Table(
    "collection_items",
    metadata,
    Column(
        "collection_id",
        Integer,
        ForeignKey("collections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "paper_id", String(40), ForeignKey("papers.arxiv_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("position", Integer, nullable=False),
    Column("note", Text),
    Column("added_at", DateTime, nullable=False),
    Index(None, "collection_id", "position"),
    Index(None, "paper_id"),
)

# Saved-search alerts (``dailypapers.alerts``): a member's search (``query`` and ``filters``,
# the search page's parameters as JSON) sent by email or read as a private Atom feed. The
# query's embedding (``vector``, float32, of ``model``) is made when the alert is saved.
# ``checked_until`` is the watermark: each run looks at papers created after it, and moves it
# in the transaction that records the matches. The feed's secret URL is an HMAC of the id and
# ``feed_key`` (a random value): a new ``feed_key`` revokes the old URL.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("query", Text, nullable=False),
    Column("filters", Text, nullable=False),
    Column("channel", String(8), nullable=False),  # email, feed
    Column("model", String(200)),
    Column("vector", LargeBinary),
    Column("feed_key", String(64), nullable=False),
    Column("checked_until", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_run_at", DateTime),
    Index(None, "user_id"),
)

# What alerts found: one row per alert and paper (unique, so a paper reaches an alert once
# however often the runs repeat), with why (``words``: the matched words, or ``similarity``).
# An email alert's rows are its outbox: due -> sending (claimed under a lease by ``owner``
# until ``lease_until``) -> sent; a feed alert's rows are written ``feed`` and only read.
alert_matches = Table(
    "alert_matches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column(
        "paper_id", String(40), ForeignKey("papers.arxiv_id", ondelete="CASCADE"), nullable=False
    ),
    Column("words", Text, nullable=False),  # comma-separated; "" for a semantic match only
    Column("similarity", Float),
    Column("status", String(16), nullable=False),  # due, sending, sent, feed, bounced, failed
    Column("attempts", Integer, nullable=False),
    Column("not_before", DateTime, nullable=False),
    Column("owner", String(100)),
    Column("lease_until", DateTime),
    Column("message_id", Text),
    Column("error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    UniqueConstraint("alert_id", "paper_id"),
    Index(None, "status", "not_before"),
    Index(None, "alert_id", "created_at"),
)
