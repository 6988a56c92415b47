"""Every failure under /api is the JSON envelope with the right status, never HTML."""

from __future__ import annotations

import pytest


def assert_envelope(response, status: int, code: str | None = None):
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"] and not error["message"].isascii()  # readable Chinese
    if code:
        assert error["code"] == code
    return error


def test_unknown_route_is_404_envelope(client):
    assert_envelope(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_with_allow_header(client):
    response = client.delete("/api/v1/health")
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_post_to_get_only_route_is_405_not_415(client):
    assert_envelope(client.post("/api/v1/health", data="x", content_type="text/plain"), 405)


def test_wrong_content_type_is_415(client):
    response = client.post("/api/v1/quiz/sessions", data="count=3",
                           content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 415, "unsupported_media_type")


def test_missing_content_type_is_415(client):
    assert_envelope(client.post("/api/v1/quiz/sessions", data=b'{"count": 3}'), 415)


@pytest.mark.parametrize("body", ["{", "{'count': 3}", "[1, 2", "\xff\xfe"])
def test_malformed_json_is_400(client, body):
    response = client.post("/api/v1/quiz/sessions", data=body, content_type="application/json")
    assert_envelope(response, 400, "malformed_json")


def test_empty_body_is_400(client):
    response = client.post("/api/v1/quiz/sessions", data="", content_type="application/json")
    assert_envelope(response, 400, "empty_body")


def test_json_that_is_not_an_object_is_422(client):
    response = client.post("/api/v1/quiz/sessions", json=[1, 2, 3])
    assert_envelope(response, 422, "validation_error")


def test_oversize_body_is_413(app, client):
    big = b'{"answers": {"x": ["' + b"A" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"]}}'
    response = client.post("/api/v1/quiz/sessions/abc/answers", data=big,
                           content_type="application/json")
    assert_envelope(response, 413, "payload_too_large")


def test_unexpected_exception_is_generic_500_without_trace(app, client, monkeypatch):
    from quizbot.services import health

    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(health, "check", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/health")
    error = assert_envelope(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert error["details"] is None


def test_validation_errors_name_the_fields(client):
    response = client.post("/api/v1/quiz/sessions",
                           json={"count": "ten", "audience": "aliens", "extra": 1})
    error = assert_envelope(response, 422)
    assert set(error["details"]) == {"count", "audience", "extra"}


def test_health_reports_database(client):
    body = client.get("/api/v1/health").get_json()
    assert body["data"]["database"] == "ok"
    assert body["data"]["status"] == "ok"


def test_health_reports_bank_version_after_import(quiz_client):
    body = quiz_client.get("/api/v1/health").get_json()
    assert len(body["data"]["bank_version"]) == 64


def test_health_degraded_when_database_fails(app, client, monkeypatch):
    from quizbot.services import bank as bank_service

    def down():
        raise ConnectionError("db down")

    monkeypatch.setattr(bank_service, "current_version", down)
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json()["data"]["database"] == "unavailable"


def test_openapi_document_lists_the_quiz_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/quiz/sessions" in spec["paths"]
    assert "/api/v1/quiz/sessions/{session_id}/answers" in spec["paths"]
    body = spec["paths"]["/api/v1/quiz/sessions"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]


def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()


def test_openapi_documents_the_bearer_token_on_officer_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/coverage"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]
    assert "security" not in spec["paths"]["/api/v1/quiz/sessions"]["post"]
