"""Chats from the /check page with a household's invite code count in that region's summary."""

from __future__ import annotations

import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import ChatLog
from tests.test_chat_api import ask


def _summary_count(app, client, region):
    from datetime import timedelta

    from quizbot.models import utcnow
    from tests.officers.conftest import auth, login

    today = utcnow().date()
    headers = auth(login(client, "officer"))
    response = client.get("/api/v1/reports/summary", headers=headers, query_string={
        "region": region, "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat()})
    return response.get_json()["data"]["chatbot_questions"]


def test_chat_with_an_invite_code_counts_for_the_household_region(officer_app, oclient):
    """The /check page passes the household's invite code: the officers' summary counts it."""
    from tests.officers.conftest import make_household

    with officer_app.app_context():
        code = make_household("H-CHK-1", "G1").invite_code
    assert _summary_count(officer_app, oclient, "V1") == 0
    assert ask(oclient, text="有人让我转到安全账户", invite_code=code).status_code == 200
    assert ask(oclient, text="有人让我转到安全账户").status_code == 200  # no code: no region
    # An unknown code never blocks the answer; the chat just counts for no region.
    assert ask(oclient, text="有人让我转到安全账户", invite_code="NOSUCHCODE").status_code == 200
    assert _summary_count(officer_app, oclient, "V1") == 1
    with officer_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChatLog)) == 3
