"""No page answers 500 to hostile query values: every console and resident page, every query
parameter any of them reads, values no form would send (the API has Schemathesis for this)."""

from __future__ import annotations

import itertools

from tests.web.conftest import sign_in

VALUES = ["", "-1", "99999999999999999999", "1e309", "x", "\u00e9" * 300, "0001-01-01", "9999-12-31",
          "2026-02-30", "null", "../../etc", "C1", "held", "xlsx"]
PARAMS = ["page", "per_page", "region", "q", "status", "from", "to", "user", "action", "audience",
          "invite", "format", "next"]
PATHS = ["/admin", "/admin/regions/C1", "/admin/regions/ZZZ", "/admin/households", "/admin/households/H2",
         "/admin/revisits", "/admin/import", "/admin/integrity", "/admin/reports", "/admin/regions/G1/qr-sheet",
         "/admin/audit", "/admin/exports/households.csv", "/admin/exports/coverage.xlsx", "/admin/exports/x.y",
         "/", "/quiz", "/check", "/q/abc", "/quiz/s/abc/result", "/admin/login", "/admin/password"]


def test_no_page_answers_500_to_hostile_query_values(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "county")
    failures = []
    for path, param, value in itertools.product(PATHS, PARAMS, VALUES):
        response = client.get(path, query_string={param: value})
        if response.status_code >= 500:
            failures.append((path, param, value, response.status_code))
        elif response.status_code >= 400 and response.mimetype == "text/html":
            # A friendly page in Chinese, never a stack trace.
            body = response.get_data(as_text=True)
            assert "Traceback" not in body and "<title>" in body, (path, param, value)
    assert failures == []
