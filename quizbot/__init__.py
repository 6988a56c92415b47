"""quizbot: door-to-door anti-fraud quiz, scam-check chatbot and coverage reports."""

from __future__ import annotations

import logging
import os

from flask import Flask

__all__ = ["create_app"]


class ConfigurationError(RuntimeError):
    """Start-up refused because a required setting is missing."""


def create_app(config: object | None = None) -> Flask:
    """Build the app: load settings, attach extensions, blueprints, error handlers and CLI.

    Nothing here touches the database or the files of the question bank: migrations and
    imports are the Makefile's and the CLI's job.
    """
    from config import Config

    app = Flask(
        __name__,
        static_folder="static",
        static_url_path="/static",
        instance_path=os.environ.get("QUIZBOT_INSTANCE_DIR") or None,
    )
    app.config.from_object(config or Config)
    app.json.ensure_ascii = False  # Chinese stays readable in every JSON body
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:  # behind nginx: the client's address and scheme come from X-Forwarded-*
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    _check_settings(app)
    # Alembic announces each of its plugins at INFO while flask_migrate is imported (below):
    # not news on every command or worker start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))
    from .logs import install as redact_logs

    redact_logs()  # phones, ID/bank-card numbers, openids, invite codes, searches: never logged

    from .extensions import db, limiter, migrate

    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True, compare_type=True,
    )
    from .ratelimit import configure as configure_rate_limits

    configure_rate_limits(app)  # database:// (the default) counts in the app's own database
    limiter.init_app(app)

    from . import device, edge

    edge.init_app(app)  # first hook of all: input no database can hold is refused here
    device.init_app(app)  # the signed device cookie of the 刷数 check

    from .api import init_api
    from .errors import register_error_handlers

    init_api(app)
    from .wechat import bp as wechat_bp

    app.register_blueprint(wechat_bp)  # /wechat and /wecom: plain text/XML, outside /api
    from .web import init_web

    init_web(app)  # resident pages, CSRF, security headers
    # After flask-smorest, so our envelope replaces its error handler.
    register_error_handlers(app)

    from .cli import register_cli

    register_cli(app)
    from .ops_cli import register_cli as register_ops_cli

    register_ops_cli(app)  # flask db backup|restore|counts, flask users unlock
    return app


def _check_settings(app: Flask) -> None:
    env = app.config.get("ENV_NAME", "production")
    mode = app.config.get("WECHAT_MODE")
    if mode and mode.lower() not in ("plain", "compatible", "safe"):
        raise ConfigurationError(f"WECHAT_MODE={mode!r}: use plain, compatible or safe "
                                 "(as chosen in the WeChat admin panel).")
    if not app.config.get("SECRET_KEY") and not app.config.get("TESTING") and env not in (
        "development", "testing"
    ):
        raise ConfigurationError(
            "SECRET_KEY is not set: run `make run` once (it writes instance/secret_key), "
            "or set SECRET_KEY or SECRET_KEY_FILE."
        )
