"""Application settings, every one read from the environment.

`Config` is what `make run` and gunicorn use; `TestConfig` is what the test suite uses.
There are no default secrets: outside development and testing a missing SECRET_KEY stops
start-up (see `quizbot.create_app`).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("QUIZBOT_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def normalize_database_url(url: str) -> str:
    """Point plain ``postgres://`` / ``postgresql://`` URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _read_secret() -> str | None:
    """SECRET_KEY, else the file SECRET_KEY_FILE names, else ``instance/secret_key`` (which
    `make run` writes once), so commands in the project folder find it without exports."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    secret_file = os.environ.get("SECRET_KEY_FILE") or str(INSTANCE_DIR / "secret_key")
    if Path(secret_file).is_file():
        return Path(secret_file).read_text(encoding="utf-8").strip() or None
    return None


class Config:
    """Production-shaped settings; every value can be overridden by an environment variable."""

    ENV_NAME = os.environ.get("QUIZBOT_ENV", "production")  # production | development | testing
    TESTING = False
    SECRET_KEY = _read_secret()

    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'quizbot.sqlite3'}"
    )
    # hide_parameters: a database error never writes names, phones or invite codes to the log.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    QUESTION_BANK_DIR = os.environ.get("QUESTION_BANK_DIR", str(BASE_DIR / "question_bank"))

    # Requests larger than this are refused with 413 before they are read.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)

    QUIZ_SESSION_TTL_SECONDS = _int("QUIZ_SESSION_TTL_SECONDS", 2 * 3600)
    QUIZ_DEFAULT_COUNT = 10
    QUIZ_MAX_COUNT = 30
    # How many of a participant's latest attempts to look at when avoiding repeat questions.
    QUIZ_AVOID_RECENT_ATTEMPTS = _int("QUIZ_AVOID_RECENT_ATTEMPTS", 3)

    CHAT_LOG_TEXT = _bool("CHAT_LOG_TEXT", False)
    # Per resident (user_id) and per IP; many residents can share one IP (village Wi-Fi, NAT).
    CHAT_RATE_LIMIT = os.environ.get("CHAT_RATE_LIMIT", "20 per minute")
    CHAT_IP_RATE_LIMIT = os.environ.get("CHAT_IP_RATE_LIMIT", "300 per minute")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Anonymous quiz sessions per IP (API and resident pages); a village's shared Wi-Fi stays well under.
    QUIZ_SESSION_RATE_LIMIT = os.environ.get("QUIZ_SESSION_RATE_LIMIT", "60 per minute;600 per hour")
    TOKEN_TTL_SECONDS = _int("TOKEN_TTL_SECONDS", 12 * 3600)
    # Console sessions end after this long without a request (station PCs are shared).
    ADMIN_IDLE_SECONDS = _int("ADMIN_IDLE_SECONDS", 30 * 60)
    # Household import uploads (CSV/XLSX) may be larger than ordinary JSON requests.
    IMPORT_MAX_BYTES = _int("IMPORT_MAX_BYTES", 64 * 1024 * 1024)
    # The console checks and imports sheets in a background thread ("thread") and the page
    # polls; a running job whose heartbeat is older than IMPORT_STALE_SECONDS is reported failed
    # (its worker died) and can be retried. On SQLite the heartbeat pauses while the import
    # writes, so keep this longer than the slowest write step.
    IMPORT_JOBS = os.environ.get("IMPORT_JOBS", "thread")
    IMPORT_STALE_SECONDS = _int("IMPORT_STALE_SECONDS", 120)

    # database:// (the default) keeps the counters in the app's database, shared by every worker
    # and instance; redis://host:6379 uses Redis; memory:// counts per process (tests only).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "database://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True

    # WeChat Official Account and WeCom; an endpoint whose settings are missing answers 404.
    WECHAT_TOKEN = os.environ.get("WECHAT_TOKEN")
    WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID")
    WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET")
    WECHAT_ENCODING_AES_KEY = os.environ.get("WECHAT_ENCODING_AES_KEY")
    WECHAT_PREVIOUS_ENCODING_AES_KEY = os.environ.get("WECHAT_PREVIOUS_ENCODING_AES_KEY")
    # The message mode set in the WeChat admin panel: plain, compatible or safe (safe refuses
    # plaintext bodies). Unset: compatible when an EncodingAESKey is set, else plain.
    WECHAT_MODE = os.environ.get("WECHAT_MODE")
    WECOM_TOKEN = os.environ.get("WECOM_TOKEN")
    WECOM_CORP_ID = os.environ.get("WECOM_CORP_ID")
    WECOM_CORP_SECRET = os.environ.get("WECOM_CORP_SECRET")
    WECOM_AGENT_ID = os.environ.get("WECOM_AGENT_ID")
    WECOM_ENCODING_AES_KEY = os.environ.get("WECOM_ENCODING_AES_KEY")
    WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
    WECOM_API_BASE = os.environ.get("WECOM_API_BASE", "https://qyapi.weixin.qq.com")
    # Callback limits: body size (413 above), timestamp window, answer deadline (WeChat
    # waits 5 s), dedupe keeping time, in-chat quiz length and idle expiry, worker threads.
    WECHAT_MAX_BODY_BYTES = _int("WECHAT_MAX_BODY_BYTES", 64 * 1024)
    WECHAT_TIMESTAMP_WINDOW_SECONDS = _int("WECHAT_TIMESTAMP_WINDOW_SECONDS", 300)
    WECHAT_REPLY_TIMEOUT_SECONDS = float(os.environ.get("WECHAT_REPLY_TIMEOUT_SECONDS") or 4.0)
    WECHAT_DEDUPE_SECONDS = _int("WECHAT_DEDUPE_SECONDS", 3 * 3600)
    WECHAT_QUIZ_COUNT = _int("WECHAT_QUIZ_COUNT", 5)
    WECHAT_QUIZ_IDLE_SECONDS = _int("WECHAT_QUIZ_IDLE_SECONDS", 30 * 60)
    WECHAT_WORKER_THREADS = _int("WECHAT_WORKER_THREADS", 8)

    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # How many proxies in front (nginx: 1) whose X-Forwarded-For/-Proto/-Host are believed; 0
    # (the default, no proxy) ignores those headers, so nobody can fake their address.
    PROXY_HOPS = _int("PROXY_HOPS", 0)
    # Origins allowed to call the API from a browser (comma-separated); none by default.
    CORS_ORIGINS = tuple(o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip())
    # Page cookies (CSRF token, console session): never readable by scripts, not sent on
    # cross-site posts, and only over TLS when the public address is https.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PUBLIC_BASE_URL.startswith("https://")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # flask-smorest / OpenAPI
    API_TITLE = "quizbot 反诈答题与咨询 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served from quizbot/static (scripts/vendor_assets.py): the docs page works offline.
    OPENAPI_SWAGGER_UI_URL = os.environ.get(
        "OPENAPI_SWAGGER_UI_URL", "/static/vendor/swagger-ui-dist-5.35.0/"
    )


class TestConfig(Config):
    """Settings for the test suite: its own database, a fixed secret, no real rate limits."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    )
    RATELIMIT_STORAGE_URI = "memory://"
    CHAT_LOG_TEXT = False
    # In-memory SQLite cannot be shared with a thread: tests run import jobs in the request
    # (tests of the background path opt back in to "thread").
    IMPORT_JOBS = "inline"
