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
    _check_settings(app)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))

    from .extensions import db, limiter, migrate

    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True, compare_type=True,
    )
    limiter.init_app(app)

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
    return app


def _check_settings(app: Flask) -> None:
    env = app.config.get("ENV_NAME", "production")
    if not app.config.get("SECRET_KEY") and not app.config.get("TESTING") and env not in (
        "development", "testing"
    ):
        raise ConfigurationError(
            "SECRET_KEY is not set: run `make run` once (it writes instance/secret_key), "
            "or set SECRET_KEY or SECRET_KEY_FILE."
        )
