"""Kite's sessions on the paper exchange: the app's api key, request tokens, access tokens and their 06:00 expiry."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brokers.kite.login import kite_token_expiry
from brokers.kite.mapping import kite_time
from brokers.paper.book import PaperAccount
from brokers.paper.errors import token_error
from brokers.paper.rules import ORDER_TYPES, PRODUCTS, text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from trading.ports import Clock

REQUEST_TOKEN_PREFIX = "paper-"  # noqa: S105 - a prefix, not a secret
INVALID_SESSION = "Incorrect `api_key` or `access_token`."


@dataclass
class _Session:
    user_id: str
    expires_at: datetime


class Sessions:
    """The one Kite app's sessions: `paper-{user_id}` request tokens become access tokens of that user's account."""

    def __init__(self, api_key: str, api_secret: str, clock: Clock) -> None:
        self.api_key = api_key
        self.accounts: dict[str, PaperAccount] = {}
        self._api_secret = api_secret
        self._clock = clock
        self._sessions: dict[str, _Session] = {}

    def create(self, form: Mapping[str, str], exchanges: Iterable[str]) -> dict[str, Any]:
        """`POST /session/token`: check the checksum, open the account if new, and answer Kite's session shape."""
        api_key, request_token = text(form, "api_key") or "", text(form, "request_token") or ""
        checksum = text(form, "checksum") or ""
        expected = hashlib.sha256(f"{api_key}{request_token}{self._api_secret}".encode()).hexdigest()
        if api_key != self.api_key:
            raise token_error("Invalid `api_key`.")
        if not hmac.compare_digest(expected.encode(), checksum.encode()):
            raise token_error("Invalid `checksum`.")
        user_id = request_token.removeprefix(REQUEST_TOKEN_PREFIX)
        if not request_token.startswith(REQUEST_TOKEN_PREFIX) or not user_id:
            raise token_error("Token is invalid or has expired.")
        access_token = secrets.token_hex(16)
        self.accounts.setdefault(user_id, PaperAccount(user_id))
        self._sessions[access_token] = _Session(user_id, self._expiry())
        return {
            "user_type": "individual",
            "email": f"{user_id}@paper.invalid",
            "user_name": f"Paper {user_id}",
            "user_shortname": "Paper",
            "broker": "PAPER",
            "exchanges": sorted(set(exchanges)),
            "products": list(PRODUCTS),
            "order_types": list(ORDER_TYPES),
            "avatar_url": None,
            "user_id": user_id,
            "api_key": api_key,
            "access_token": access_token,
            "public_token": secrets.token_hex(8),
            "enctoken": "",
            "refresh_token": "",
            "silo": "",
            "login_time": kite_time(self._clock.now()),
            "meta": {"demat_consent": "physical"},
        }

    def _expiry(self) -> datetime:
        """Kite's own rule: 06:00 IST after now (today's when logged in before 06:00)."""
        return kite_token_expiry(self._clock.now())

    def invalidate(self, access_token: str) -> bool:
        return self._sessions.pop(access_token, None) is not None

    def account_for(self, authorization: str | None) -> PaperAccount:
        """The account of `Authorization: token api_key:access_token`; TokenException when none or expired."""
        scheme, _, credentials = (authorization or "").partition(" ")
        api_key, _, access_token = credentials.partition(":")
        session = self._sessions.get(access_token) if scheme == "token" else None
        if api_key != self.api_key or session is None:
            raise token_error(INVALID_SESSION)
        if self._clock.now() >= session.expires_at:
            del self._sessions[access_token]
            raise token_error(INVALID_SESSION)
        return self.accounts[session.user_id]

    def expire_all(self) -> None:
        """Invalidate every access token (as Kite does every morning)."""
        self._sessions.clear()

    def expire(self, access_token: str) -> None:
        """Let one access token reach its expiry now (the morning's expiry, for one account)."""
        session = self._sessions.get(access_token)
        if session is not None:
            session.expires_at = self._clock.now()
