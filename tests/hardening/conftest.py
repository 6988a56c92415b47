"""The officers' fixtures (region tree, one account per role, tokens) for the hardening tests."""

from tests.officers.conftest import oclient, officer_app, tokens  # noqa: F401
