"""Server-rendered pages: residents (QR quiz, general quiz, scam check) and the officers' console.

Pages call the same services as the JSON API; nothing here calls the API over HTTP.
"""

from __future__ import annotations

from flask import Flask

from . import security

# Blueprints whose errors are rendered as friendly HTML pages instead of the JSON envelope.
PAGE_BLUEPRINTS = frozenset({"resident", "admin", "static"})


def init_web(app: Flask) -> None:
    """Register the page blueprints, CSRF checks, security headers and the error-page hook."""
    from .admin import bp as admin_bp
    from .pages import register_filters, render_error_page
    from .resident import bp as resident_bp

    app.register_blueprint(resident_bp)
    app.register_blueprint(admin_bp)
    register_filters(app)
    security.init_app(app)
    app.extensions["page_error_renderer"] = render_error_page
