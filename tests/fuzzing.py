"""Schemathesis over /api/v1/openapi.json as plain functions, shared by the bounded CI test
(``tests/test_schemathesis.py``) and the long run (``scripts/fuzz_api.py``).

Every operation is called with positive and negative (schema-violating) examples, anonymously
or with a role's bearer token, and checked: no 5xx, a documented status code, the documented
media type and a body that matches the documented schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from config import TestConfig
from quizbot import create_app
from quizbot.extensions import db

ROLES = ("anonymous", "admin", "county_admin", "station_admin", "officer", "grid_worker")
USERS = {"admin": ("root", None), "county_admin": ("county", "C1"), "station_admin": ("station", "T1"),
         "officer": ("officer", "V1"), "grid_worker": ("grid", "G1")}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


class FuzzConfig(TestConfig):
    RATELIMIT_ENABLED = False  # the fuzzer signs in and chats far faster than any person
    PROPAGATE_EXCEPTIONS = False  # a crash must surface as the 500 the check looks for


@dataclass
class FuzzTarget:
    app: object
    tokens: dict[str, str]
    schema: object
    failures: list[str] = field(default_factory=list)
    calls: int = 0


def build(bank_dir: Path) -> FuzzTarget:
    """An app on a fresh test database (TEST_DATABASE_URL or SQLite in memory) with the bank,
    the region tree, a household and one account per role."""
    from quizbot.bank import load_bank
    from quizbot.services import bank as bank_service
    from tests.officers.conftest import build_tree, make_household, make_user

    app = create_app(FuzzConfig)
    with app.app_context():
        db.drop_all()
        db.create_all()
        bank_service.clear_cache()
        bank_service.import_bank(load_bank(bank_dir))
        build_tree()
        for role, (username, region) in USERS.items():
            make_user(username, role, region)
        make_household("H1", "G1")
    target = FuzzTarget(app, {}, schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app))
    for role in USERS:
        _sign_in(target, role)
    return target


def teardown(target: FuzzTarget) -> None:
    with target.app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _sign_in(target: FuzzTarget, role: str) -> None:
    from tests.officers.conftest import PASSWORD

    username = USERS[role][0]
    response = target.app.test_client().post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    target.tokens[role] = response.get_json()["data"]["token"]


def _headers(target: FuzzTarget, role: str) -> dict:
    """The role's bearer header, signing in again if a fuzzed logout revoked the token."""
    if role == "anonymous":
        return {}
    client = target.app.test_client()
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {target.tokens[role]}"})
    if me.status_code == 401:
        _sign_in(target, role)
    return {"Authorization": f"Bearer {target.tokens[role]}"}


def _runner(target: FuzzTarget, operation, mode, headers: dict, examples: int):
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers.update(headers)
        target.calls += 1
        case.call_and_validate(checks=CHECKS)

    return run


def fuzz(target: FuzzTarget, role: str, examples: int, *, seed: int = 0) -> list[str]:
    """Run every operation ``examples`` times per generation mode as ``role``; returns failures."""
    failures: list[str] = []
    for result in target.schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _runner(target, operation, mode, _headers(target, role), examples)
            try:
                run()
            except Unsatisfiable:
                continue  # nothing to vary (no parameters): the positive run covered it
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
                failures.append(f"[{role}] {operation.label} ({mode.value}): {str(exc)[:1500]}")
    target.failures.extend(failures)
    return failures
