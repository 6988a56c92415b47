"""Schemathesis over /api/v1/openapi.json, anonymous and as each role, on the test database:
no 5xx and every answer as documented. Bounded for CI (SCHEMATHESIS_EXAMPLES per operation,
mode and role; default 2); ``scripts/fuzz_api.py`` runs the same checks far longer."""

from __future__ import annotations

import os

import pytest

from tests.fuzzing import ROLES, build, fuzz, teardown

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "2"))


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    from tests.conftest import mini_bank_content, write_bank

    target = build(write_bank(tmp_path_factory.mktemp("bank"), *mini_bank_content()))
    yield target
    teardown(target)


@pytest.mark.parametrize("role", ROLES)
def test_api_answers_as_documented(target, role):
    failures = fuzz(target, role, EXAMPLES)
    assert failures == [], "\n\n".join(failures)
