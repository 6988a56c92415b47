"""The reply builder: fit text to WeChat's length cap and render it (encrypted when needed)."""

from __future__ import annotations

import secrets

from . import adapter

MAX_REPLY_BYTES = 1800
ELLIPSIS = "…"


def fit(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """Strip control characters and cut to ``limit`` UTF-8 bytes on a character boundary."""
    text = adapter.CONTROL_CHARS.sub("", text).strip()
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    return raw[:room].decode("utf-8", errors="ignore").rstrip() + ELLIPSIS


def build(inbound: adapter.Inbound, text: str, crypto: adapter.CallbackCrypto | None = None,
          now: int | None = None) -> str:
    """The passive text reply XML for ``inbound``, encrypted with ``crypto`` if given."""
    xml = adapter.render_text(inbound, fit(text), now=now)
    if crypto is None:
        return xml
    return crypto.encrypt(xml, nonce=secrets.token_hex(8), timestamp=str(now) if now else None)
