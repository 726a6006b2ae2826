"""Angel One's publisher login: the user signs in at Angel, which redirects back with a session JWT (`auth_token`)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from brokers.smartapi.broker import ANGEL_ROOT, DEFAULT_TIMEOUT, angel_errors_mapped, checked
from brokers.smartapi.sdk import SmartSession
from trading.errors import BrokerNotConnected, BrokerRejected, ValidationError
from trading.model.account import Session

if TYPE_CHECKING:
    from trading.ids import OwnerId
    from trading.model.account import AppCredentials

ANGEL_LOGIN_URL = "https://smartapi.angelone.in/publisher-login"


def _claims(jwt: str) -> dict[str, Any]:
    """The JWT's payload, read (not verified: Angel verifies it on every call) for its client code and expiry."""
    try:
        payload = jwt.split(".")[1]
        decoded: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return decoded if isinstance(decoded, dict) else {}


class AngelLogin:
    """The login URL, and a session from the `auth_token` Angel redirects back with (checked by one call)."""

    def __init__(self, root: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.root = root or ANGEL_ROOT
        self._timeout = timeout

    def login_url(self, api_key: str) -> str:
        return f"{ANGEL_LOGIN_URL}?api_key={api_key}"

    def open_session(self, owner: OwnerId, request_token: str, app: AppCredentials, user_id: str | None) -> Session:
        """Raises BrokerRejected when Angel refuses the token."""
        token = request_token.removeprefix("Bearer ").strip()
        claims = _claims(token)
        client = SmartSession(app.api_key, token, self.root, self._timeout)
        try:
            with angel_errors_mapped("angel"):
                checked("angel", client.rmsLimit())  # any authenticated call proves the token
        except BrokerNotConnected as exc:
            raise BrokerRejected("Angel One refused the auth_token; sign in through the login URL again") from exc
        user = user_id or claims.get("username") or claims.get("sub")
        if not user:
            raise ValidationError("pass brokerUserId (your Angel One client code)")
        expiry = claims.get("exp")
        return Session(
            user_id=str(user),
            access_token=token,
            expires_at=datetime.fromtimestamp(int(expiry), UTC) if isinstance(expiry, int | float) else None,
        )
