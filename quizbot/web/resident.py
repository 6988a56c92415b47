"""Resident pages: the household QR quiz (/q/<invite>), the general quiz (/quiz) and /check.

No sign-in: the invite code in the URL says which household to credit, a device cookie says
which phone is answering. Every page works with JavaScript off (form posts and redirects);
``static/js/resident.js`` adds one-question-per-screen, resume after reload and offline submit.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for

from .. import device
from ..bank.taxonomy import AUDIENCES
from ..errors import Conflict, ValidationFailed
from ..extensions import limiter
from ..services import chat as chat_service
from ..services import quiz as quiz_service
from ..services import resident as resident_service
from . import security
from .pages import BIG_TEXT_COOKIE, ONE_YEAR, render_page, safe_next

bp = Blueprint("resident", __name__)
bp.before_request(security.check_csrf)

QUIZ_COUNT = 10
CHECK_MAX_TEXT = 2000
# Audiences a resident may pick on the general quiz page, in plain words.
AUDIENCE_CHOICES = (
    ("general", "普通居民"), ("elderly", "老年人"), ("student", "学生"), ("parent", "家长"),
    ("rural", "农村居民"), ("worker_merchant", "务工人员、商户"), ("enterprise_finance", "企业财务人员"),
)


def _quiz_start_limit() -> str:
    """New quizzes per IP, shared by both start forms (the API has its own counter)."""
    return current_app.config["QUIZ_SESSION_RATE_LIMIT"]


def _start(invite_code: str | None, member_id: int | None, audience: str | None):
    config = current_app.config
    signals = device.signals()
    options = quiz_service.DrawOptions(
        count=QUIZ_COUNT, audience=audience, client_id=device.device_id(), invite_code=invite_code,
        device_key=signals.device_key, network_key=signals.network_key, member_id=member_id, channel="web", avoid_recent=config["QUIZ_AVOID_RECENT_ATTEMPTS"],
        ttl_seconds=config["QUIZ_SESSION_TTL_SECONDS"])
    session, _ = quiz_service.create_session(options)
    return redirect(url_for("resident.quiz_page", session_id=session.id), 303)


# --- household QR quiz -----------------------------------------------------------------------

@bp.get("/q/<invite_code>")
def household_landing(invite_code: str):
    """The page a resident sees after scanning the household QR code."""
    landing = resident_service.household_landing(invite_code)
    return render_page("resident/landing.html", landing=landing)


@bp.post("/q/<invite_code>/start")
@limiter.shared_limit(_quiz_start_limit, scope="quiz-start")
def household_start(invite_code: str):
    """Start the household quiz for the chosen member (or "其他家人")."""
    landing = resident_service.household_landing(invite_code)
    member_id = _member_choice(landing, request.form.get("member"))
    audience = resident_service.member_audience(invite_code, member_id)
    return _start(invite_code, member_id, audience)


def _member_choice(landing: dict, raw: str | None) -> int | None:
    if not raw or raw == "other":
        return None
    ids = {str(m["id"]): m["id"] for m in landing["members"]}
    if raw not in ids:
        raise ValidationFailed("请选择您是哪一位家庭成员")
    return ids[raw]


# --- general quiz ------------------------------------------------------------------------------

@bp.get("/")
def home():
    """The site root sends residents to the general quiz."""
    return redirect(url_for("resident.general_landing"))


@bp.get("/quiz")
def general_landing():
    """The quiz without a household: posters, the WeChat menu, anyone curious."""
    return render_page("resident/general.html", audiences=AUDIENCE_CHOICES)


@bp.post("/quiz/start")
@limiter.shared_limit(_quiz_start_limit, scope="quiz-start")
def general_start():
    """Start a general quiz for the picked audience."""
    audience = request.form.get("audience") or "general"
    if audience not in AUDIENCES:
        raise ValidationFailed("请选择您的身份")
    return _start(None, None, None if audience == "general" else audience)


# --- one attempt -------------------------------------------------------------------------------

@bp.get("/quiz/s/<session_id>")
def quiz_page(session_id: str):
    """All questions in one form; the script shows them one per screen."""
    session = quiz_service.get_session(session_id)
    state = quiz_service.session_state(session)
    if state == "submitted":
        return redirect(url_for("resident.result_page", session_id=session_id), 303)
    if state == "expired":
        raise Conflict("这次答题已过期，请重新开始", code="session_expired", status=410)
    questions = quiz_service.client_questions(session)
    return render_page("resident/quiz.html", session_id=session_id, questions=questions,
                       missing=[], chosen={})


@bp.post("/quiz/s/<session_id>/submit")
def quiz_submit(session_id: str):
    """Score the answers once; a second submission (reload, second tab) shows the first result."""
    session = quiz_service.get_session(session_id)
    questions = quiz_service.client_questions(session)
    answers = {q["id"]: request.form.getlist(f"q-{q['id']}") for q in questions}
    missing = [q["id"] for q in questions if not answers[q["id"]]]
    if missing and quiz_service.session_state(session) == "open":
        return render_page("resident/quiz.html", 422, session_id=session_id, questions=questions,
                           missing=missing, chosen=answers)
    try:
        quiz_service.submit_answers(session_id, {k: v for k, v in answers.items() if v})
    except Conflict as exc:
        if exc.code != "already_submitted":
            raise
        return redirect(url_for("resident.result_page", session_id=session_id, again=1), 303)
    return redirect(url_for("resident.result_page", session_id=session_id), 303)


@bp.get("/quiz/s/<session_id>/result")
def result_page(session_id: str):
    """Score, every question with the right answer and why, what to watch out for."""
    session = quiz_service.get_session(session_id)
    if quiz_service.session_state(session) != "submitted":
        return redirect(url_for("resident.quiz_page", session_id=session_id), 303)
    review = resident_service.quiz_review(session)
    return render_page("resident/result.html", review=review,
                       again=request.args.get("again") == "1")


# --- settings ----------------------------------------------------------------------------------

@bp.post("/settings/text-size")
def text_size():
    """Switch 大字 mode on or off; remembered on this phone for a year."""
    target = safe_next(request.form.get("next"))
    response = redirect(target, 303)
    on = request.form.get("big") == "1"
    response.set_cookie(BIG_TEXT_COOKIE, "1" if on else "0", max_age=ONE_YEAR, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


# --- 这是诈骗吗？ ---------------------------------------------------------------------------------

def _check_ip_limit() -> str:
    return current_app.config["CHAT_IP_RATE_LIMIT"]


def _check_device_limit() -> str:
    return current_app.config["CHAT_RATE_LIMIT"]


def _device_key() -> str:
    return f"device:{device.device_id()}"


def _only_posts() -> bool:
    return request.method != "POST"


@bp.route("/check", methods=["GET", "POST"])
@limiter.limit(_check_ip_limit, exempt_when=_only_posts)
@limiter.limit(_check_device_limit, key_func=_device_key, exempt_when=_only_posts)
def check():
    """Paste a message or describe what happened; the chatbot's verdict, for a phone."""
    invite = request.values.get("invite") or ""
    if request.method == "GET":
        return render_page("resident/check.html", text="", verdict=None, invite=invite)
    text = (request.form.get("text") or "").strip()
    if not text:
        return render_page("resident/check.html", 422, text="", verdict=None, invite=invite,
                           error="请先把收到的消息粘贴进来，或者说说发生了什么。")
    if len(text) > CHECK_MAX_TEXT:
        return render_page("resident/check.html", 422, text=text[:CHECK_MAX_TEXT], verdict=None,
                           invite=invite, error=f"内容太长了，请控制在 {CHECK_MAX_TEXT} 字以内。")
    config = current_app.config
    verdict = chat_service.ask(
        text, bank_dir=config["QUESTION_BANK_DIR"], secret=config["SECRET_KEY"] or "",
        user_id=device.device_id(), channel="web", log_text=config["CHAT_LOG_TEXT"],
        region_id=resident_service.region_of_invite(invite))
    return render_page("resident/check.html", text=text, invite=invite,
                       verdict=resident_service.verdict_view(text, verdict))
