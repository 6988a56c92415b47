"""Late answers: the customer-service API (Official Account) and message/send (WeCom).

``Sender`` is the interface the callback uses; the two implementations talk HTTP to a base
URL from the settings, so tests point them at a local fake server.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Protocol

import requests

log = logging.getLogger(__name__)

# Access token expired or invalid: fetch a new one and try once more.
TOKEN_ERRORS = {40001, 40014, 42001}


class SendError(Exception):
    """The platform refused or could not be reached."""


class Sender(Protocol):
    """Sends one text message to a user outside the 5-second reply window."""

    def send_text(self, user_id: str, text: str) -> None: ...


class _TokenSender:
    """Shared access-token handling: fetched on demand, cached until shortly before expiry."""

    token_path = ""
    send_path = ""

    def __init__(self, api_base: str, *, timeout: float = 5.0,
                 session: requests.Session | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def _token_params(self) -> dict:
        raise NotImplementedError

    def _payload(self, user_id: str, text: str) -> dict:
        raise NotImplementedError

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, self.api_base + path, timeout=self.timeout, **kwargs)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SendError(f"{path}: {exc}") from exc
        if not isinstance(data, dict):
            raise SendError(f"{path}: unexpected answer")
        return data

    def access_token(self, *, refresh: bool = False) -> str:
        """A valid access token, fetched when missing, expired or ``refresh`` is asked."""
        with self._lock:
            if refresh or not self._token or time.monotonic() >= self._expires:
                data = self._call("GET", self.token_path, params=self._token_params())
                if not data.get("access_token"):
                    raise SendError(f"token refused: errcode {data.get('errcode')}")
                self._token = data["access_token"]
                self._expires = time.monotonic() + int(data.get("expires_in") or 7200) - 300
            return self._token

    def send_text(self, user_id: str, text: str) -> None:
        """Send ``text`` to ``user_id``; raises ``SendError`` when the platform refuses."""
        body = json.dumps(self._payload(user_id, text), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        for attempt in (0, 1):
            token = self.access_token(refresh=attempt == 1)
            data = self._call("POST", self.send_path, params={"access_token": token},
                              data=body, headers=headers)
            errcode = int(data.get("errcode") or 0)
            if errcode == 0:
                return
            if errcode not in TOKEN_ERRORS or attempt == 1:
                raise SendError(f"send refused: errcode {errcode} {data.get('errmsg', '')}")


class OfficialAccountSender(_TokenSender):
    """``cgi-bin/message/custom/send`` with an Official Account access token."""

    token_path = "/cgi-bin/token"
    send_path = "/cgi-bin/message/custom/send"

    def __init__(self, api_base: str, app_id: str, app_secret: str, **kwargs) -> None:
        super().__init__(api_base, **kwargs)
        self.app_id, self.app_secret = app_id, app_secret

    def _token_params(self) -> dict:
        return {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret}

    def _payload(self, user_id: str, text: str) -> dict:
        return {"touser": user_id, "msgtype": "text", "text": {"content": text}}


class WeComSender(_TokenSender):
    """WeCom ``cgi-bin/message/send`` from the app ``agent_id``."""

    token_path = "/cgi-bin/gettoken"
    send_path = "/cgi-bin/message/send"

    def __init__(self, api_base: str, corp_id: str, corp_secret: str, agent_id: str | int,
                 **kwargs) -> None:
        super().__init__(api_base, **kwargs)
        self.corp_id, self.corp_secret, self.agent_id = corp_id, corp_secret, int(agent_id)

    def _token_params(self) -> dict:
        return {"corpid": self.corp_id, "corpsecret": self.corp_secret}

    def _payload(self, user_id: str, text: str) -> dict:
        return {"touser": user_id, "msgtype": "text", "agentid": self.agent_id,
                "text": {"content": text}}
