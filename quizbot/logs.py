"""Personal data kept out of every log line: phones, ID and bank-card numbers, invite codes,
WeChat openids, and the query strings that carry searches and export reasons.

``install()`` wraps the log-record factory, so every record of the process (the app's, Werkzeug's
and gunicorn's access log, SQLAlchemy's, a traceback's text) is redacted once, when it is made,
whichever handler later writes it. SQL parameters never reach a log at all: the engine runs with
``hide_parameters`` (``config.py``). ``RedactFilter`` does the same job as a ``logging.Filter``
for configurations that prefer filters (``deploy/gunicorn.conf.py``).
"""

from __future__ import annotations

import logging
import re
import traceback

from .text import mask_personal

# Query parameters whose values are personal (searches, export reasons, WeChat ids, invite codes).
SENSITIVE_PARAMS = ("q", "reason", "openid", "open_id", "unionid", "phone", "invite", "invite_code",
                    "user_id", "username", "FromUserName", "echostr")
_PARAM_RE = re.compile(r"([?&;](?:" + "|".join(SENSITIVE_PARAMS) + r")=)[^&\s\"']*", re.IGNORECASE)
# The household QR path carries its invite code; a database's own error text can quote key values.
_INVITE_PATH_RE = re.compile(r"(/q/)[A-Za-z0-9_\-]+")
_DB_DETAIL_RE = re.compile(r"(Key \([^)]*\)=\()[^)]*(\))")
_DB_ROW_RE = re.compile(r"(Failing row contains \().*")
_XML_OPENID_RE = re.compile(r"(<FromUserName>(?:<!\[CDATA\[)?)[^<\]]+")


def redact(text: str) -> str:
    """``text`` with every personal value we know how to recognise replaced by ``***``."""
    text = _PARAM_RE.sub(r"\1***", text)
    text = _INVITE_PATH_RE.sub(r"\1***", text)
    text = _DB_DETAIL_RE.sub(r"\1***\2", text)
    text = _DB_ROW_RE.sub(r"\1***)", text)
    text = _XML_OPENID_RE.sub(r"\1***", text)
    return mask_personal(text)


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_quizbot_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string is logged as it stands
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._quizbot_redacted = True


class RedactFilter(logging.Filter):
    """A filter that redacts the record in place and always lets it through."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


_installed = False


def install() -> None:
    """Redact every log record this process makes, from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
