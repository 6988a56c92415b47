"""Headers: personal JSON is never cached, nosniff and Referrer-Policy everywhere, CORS closed by
default and open only to the origins CORS_ORIGINS lists."""

from __future__ import annotations

from tests.officers.conftest import auth, login, make_household


def test_personal_json_is_no_store_and_every_response_has_the_headers(oclient, officer_app, tokens):
    with officer_app.app_context():
        make_household("H1", "G1")
    personal = [
        oclient.post("/api/v1/auth/login", json={"username": "grid", "password": "correct-horse-9"}),
        oclient.get("/api/v1/households", headers=tokens["grid"]),
        oclient.get("/api/v1/households/H1", headers=tokens["grid"]),
        oclient.get("/api/v1/auth/me", headers=tokens["grid"]),
        oclient.post("/api/v1/quiz/sessions", json={"count": 1}),
        oclient.post("/api/v1/chat", json={"text": "有人让我转账到安全账户"}),
        oclient.get("/api/v1/households"),  # errors too
    ]
    for response in personal:
        assert response.headers.get("Cache-Control") == "no-store", response.request.path
    static = oclient.get("/static/css/resident.css")
    static.close()
    for response in personal + [oclient.get("/api/v1/openapi.json"), oclient.get("/"), static,
                                oclient.get("/nowhere")]:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_cors_is_closed_by_default(oclient, tokens):
    headers = {**tokens["grid"], "Origin": "https://evil.example"}
    response = oclient.get("/api/v1/households", headers=headers)
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = oclient.options("/api/v1/households", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_opens_only_to_listed_origins(oclient, officer_app):
    officer_app.config["CORS_ORIGINS"] = ("https://console.example.gov.cn",)
    token = auth(login(oclient, "grid"))
    ok = oclient.get("/api/v1/auth/me", headers={**token, "Origin": "https://console.example.gov.cn"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://console.example.gov.cn"
    assert "Origin" in ok.headers["Vary"]
    preflight = oclient.options("/api/v1/auth/me", headers={
        "Origin": "https://console.example.gov.cn", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    other = oclient.get("/api/v1/auth/me", headers={**token, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_forwarded_headers_count_only_behind_a_configured_proxy(monkeypatch):
    from config import TestConfig
    from quizbot import create_app

    seen = {}

    def app_with(hops):
        class Config(TestConfig):
            PROXY_HOPS = hops

        app = create_app(Config)

        @app.get("/_whoami")
        def whoami():
            from flask import request

            seen[hops] = (request.remote_addr, request.scheme)
            return "ok"

        return app

    for hops in (0, 1):
        app_with(hops).test_client().get("/_whoami", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                         headers={"X-Forwarded-For": "203.0.113.9",
                                                  "X-Forwarded-Proto": "https"})
    assert seen[0] == ("127.0.0.1", "http")      # no proxy configured: the header is a lie
    assert seen[1] == ("203.0.113.9", "https")   # behind nginx: the client nginx saw
