"""Who is answering, as the server sees it, whatever the client claims (the 刷数 check).

Two signals go with every quiz attempt:

- the *device key*: the id in the signed ``qb_device`` cookie this server set on the phone; when
  the cookie is missing or forged, a keyed hash of the IP address and user agent;
- the *network key*: a keyed hash of the IP address (an IPv6 address by its /64, which one phone
  may rotate through).

A grid worker who clears cookies, sends a fresh ``client_id`` and a new user agent each time
still answers from one network, and ``services.integrity`` counts households per key. Only
keyed hashes are stored, never the address itself. This module is HTTP glue: services receive
the keys as plain strings.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from flask import Flask, current_app, request
from itsdangerous import BadSignature, Signer

DEVICE_COOKIE = "qb_device"
ONE_YEAR = 365 * 24 * 3600
_SALT = "quizbot-device"


@dataclass(frozen=True)
class Signals:
    """The server's keys for the device and the network of the current request."""

    device_key: str
    network_key: str | None
    # IP + user agent, whether or not the cookie is there: the id of a client that names none.
    address_key: str


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=_SALT)


def _keyed(prefix: str, value: str) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"{prefix}|{value}".encode(),
                      hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:40]}"


def _cookie_id() -> str | None:
    """The device id of a genuine cookie of ours, else None."""
    raw = request.cookies.get(DEVICE_COOKIE, "")
    if not raw or len(raw) > 200:
        return None
    try:
        value = _signer().unsign(raw).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None
    return value if len(value) == 32 and value.isalnum() else None


def device_id() -> str:
    """This phone's anonymous id: the one in our signed cookie, or a new one that the response
    will set (the same one for the rest of this request)."""
    found = _cookie_id()
    if found:
        return found
    value = getattr(request, "_qb_new_device", None)
    if value is None:
        value = secrets.token_hex(16)
        request._qb_new_device = value
    return value


def network_key(address: str | None = None) -> str | None:
    """Keyed hash of the client's network: the IPv4 address, or the /64 of an IPv6 one."""
    address = address if address is not None else request.remote_addr
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _keyed("net", address[:64])
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return _keyed("net", str(ip.ipv4_mapped))
        return _keyed("net", str(ipaddress.ip_network(f"{ip}/64", strict=False)))
    return _keyed("net", str(ip))


def signals() -> Signals:
    """Device and network keys of the current request; a phone without our cookie is known by
    IP + user agent (and gets the cookie for next time)."""
    address = _keyed("ua", f"{request.remote_addr or ''}|{request.user_agent.string or ''}")
    found = _cookie_id()
    if not found:
        device_id()  # issue the cookie: a phone that keeps it is known by it from now on
    return Signals(device_key=f"c-{found}" if found else address, network_key=network_key(),
                   address_key=address)


def _remember(response):
    value = getattr(request, "_qb_new_device", None)
    if value:
        response.set_cookie(DEVICE_COOKIE, _signer().sign(value).decode("ascii"), max_age=ONE_YEAR,
                            httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def init_app(app: Flask) -> None:
    """Set the device cookie on responses to requests that issued one."""
    app.after_request(_remember)
