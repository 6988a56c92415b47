"""Item statistics from a seeded set of attempts with known answers."""

from __future__ import annotations

import json
import statistics

from quizbot.extensions import db
from quizbot.models import QuizAnswer, QuizSession, new_token, utcnow
from quizbot.services import item_stats
from quizbot.services import regions as region_service
from tests.test_api_errors import assert_envelope

Q1, Q2, Q3 = "fake_authority-001", "fake_authority-002", "shuadan_rebate-001"
# Each attempt answers the same three questions: 1 = right, 0 = wrong.
ATTEMPTS_G1 = [(1, 1, 0), (1, 0, 0), (0, 1, 1), (1, 1, 1)]  # in group G1 (village V1)
ATTEMPTS_V3 = [(0, 0, 0), (0, 0, 1)]                        # in village V3 (town T2)


def seed(app, region_code: str, attempts) -> None:
    with app.app_context():
        region_id = region_service.get_by_code(region_code).id
        for answers in attempts:
            session = QuizSession(id=new_token(24), created_at=utcnow(), expires_at=utcnow(),
                                  bank_version="v", question_ids=[Q1, Q2, Q3], channel="api",
                                  region_id=region_id, submitted_at=utcnow(),
                                  correct_count=sum(answers), total=3, score=0)
            db.session.add(session)
            db.session.flush()
            for qid, right in zip((Q1, Q2, Q3), answers, strict=True):
                db.session.add(QuizAnswer(session_id=session.id, question_id=qid,
                                          scam_type_id=qid.rsplit("-", 1)[0], chosen=["A"],
                                          correct=bool(right)))
        db.session.commit()


def expected_discrimination(attempts, index):
    """Pearson r of the item (0/1) with the rest score, by the standard library."""
    xs = [a[index] for a in attempts]
    rest = [(sum(a) - a[index]) / (len(a) - 1) for a in attempts]
    return round(statistics.correlation(xs, rest), 4)


def by_id(items):
    return {i["id"]: i for i in items}


def test_figures_match_hand_computed_values(officer_app):
    seed(officer_app, "G1", ATTEMPTS_G1)
    with officer_app.app_context():
        data = item_stats.item_statistics(min_attempts=4)
    assert data["sessions"] == 4
    items = by_id(data["questions"])
    assert items[Q1]["attempts"] == 4 and items[Q1]["correct_rate"] == 0.75
    assert items[Q3]["correct_rate"] == 0.5
    assert items[Q1]["discrimination"] == expected_discrimination(ATTEMPTS_G1, 0) == -0.5222
    assert items[Q2]["discrimination"] == expected_discrimination(ATTEMPTS_G1, 1)
    assert items[Q3]["discrimination"] == expected_discrimination(ATTEMPTS_G1, 2) == 0.0
    types = by_id(data["scam_types"])
    assert types["fake_authority"]["attempts"] == 8 and types["fake_authority"]["correct_rate"] == 0.75
    assert types["shuadan_rebate"]["correct_rate"] == 0.5
    review = by_id(data["review"])
    assert "negative_discrimination" in review[Q1]["reasons"]
    assert Q3 not in review


def test_easy_and_hard_questions_are_listed_only_with_enough_answers(officer_app):
    attempts = [(1, 0, i % 2) for i in range(21)]  # Q1 always right, Q2 always wrong
    seed(officer_app, "G1", attempts)
    with officer_app.app_context():
        review = by_id(item_stats.item_statistics(min_attempts=20)["review"])
        assert review[Q1]["reasons"] == ["too_easy"] and review[Q2]["reasons"] == ["too_hard"]
        assert review[Q1]["discrimination"] is None  # no variance: no correlation, no flag
        assert item_stats.item_statistics(min_attempts=22)["review"] == []


def test_api_is_scoped_like_coverage(oclient, officer_app, tokens):
    seed(officer_app, "G1", ATTEMPTS_G1)
    seed(officer_app, "V3", ATTEMPTS_V3)
    url = "/api/v1/questions/stats"
    county = oclient.get(url, query_string={"region": "C1", "min_attempts": 1},
                         headers=tokens["county"]).get_json()["data"]
    assert county["region"]["code"] == "C1" and county["sessions"] == 6
    assert by_id(county["questions"])[Q1]["attempts"] == 6
    village = oclient.get(url, headers=tokens["officer"]).get_json()["data"]  # own region V1
    assert village["region"]["code"] == "V1" and village["sessions"] == 4
    assert by_id(village["questions"])[Q1]["correct_rate"] == 0.75
    town2 = oclient.get(url, query_string={"region": "T2"}, headers=tokens["county"]).get_json()["data"]
    assert by_id(town2["questions"])[Q3]["correct_rate"] == 0.5 and town2["sessions"] == 2
    # Outside the subtree: 404, exactly as for a region that does not exist.
    assert_envelope(oclient.get(url, query_string={"region": "V3"}, headers=tokens["officer"]), 404,
                    "region_not_found")
    assert_envelope(oclient.get(url, query_string={"region": "C1"}, headers=tokens["other_county"]), 404)
    assert_envelope(oclient.get(url, query_string={"region": "NOPE"}, headers=tokens["root"]), 404)
    empty = oclient.get(url, query_string={"region": "C2"}, headers=tokens["root"]).get_json()["data"]
    assert empty["sessions"] == 0 and empty["questions"] == [] and empty["review"] == []


def test_api_refuses_bad_input(oclient, tokens):
    url = "/api/v1/questions/stats"
    assert_envelope(oclient.get(url), 401)
    assert_envelope(oclient.get(url, headers=tokens["root"]), 422)  # admin must name a region
    for bad in ({"min_attempts": 0}, {"min_attempts": "many"}, {"region": "x" * 40}):
        assert_envelope(oclient.get(url, query_string={"region": "C1", **bad}, headers=tokens["county"]), 422)


def test_cli_prints_tables_and_json(officer_app):
    seed(officer_app, "G1", ATTEMPTS_G1)
    runner = officer_app.test_cli_runner()
    out = runner.invoke(args=["bank", "stats", "--min-attempts", "4"])
    assert out.exit_code == 0, out.output
    assert Q1 in out.output and "75%" in out.output and "negative_discrimination" in out.output
    data = json.loads(runner.invoke(args=["bank", "stats", "--json", "--region", "V1"]).output)
    assert data["region"]["code"] == "V1" and by_id(data["questions"])[Q3]["attempts"] == 4
    missing = runner.invoke(args=["bank", "stats", "--region", "NOPE"])
    assert missing.exit_code != 0 and "NOPE" in missing.output
