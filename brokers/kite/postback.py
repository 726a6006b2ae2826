"""Kite postbacks: verify the checksum before anything else reads the body."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from trading.errors import Unauthorized

_MISMATCH = "postback checksum mismatch"


def postback_checksum(order_id: str, order_timestamp: str, api_secret: str) -> str:
    """Kite's postback checksum: hex sha256 of order_id + order_timestamp + api_secret."""
    return hashlib.sha256(f"{order_id}{order_timestamp}{api_secret}".encode()).hexdigest()


def verify_postback(body: bytes, api_secret: str) -> dict[str, Any]:
    """Parse a postback body and check its checksum; returns the payload.

    Raises
    ------
    Unauthorized
        The body is not a JSON object with order_id, order_timestamp and a matching checksum, or no
        secret is configured (an empty secret would make the checksum anyone's to compute).
    """
    if not api_secret:
        raise Unauthorized("no Kite API secret is configured, so no postback can be verified")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized(_MISMATCH) from exc
    if not isinstance(payload, dict):
        raise Unauthorized(_MISMATCH)
    order_id, order_timestamp, checksum = (
        payload.get("order_id"),
        payload.get("order_timestamp"),
        payload.get("checksum"),
    )
    if not (isinstance(order_id, str) and isinstance(order_timestamp, str) and isinstance(checksum, str)):
        raise Unauthorized(_MISMATCH)
    expected = postback_checksum(order_id, order_timestamp, api_secret)
    if not hmac.compare_digest(expected.encode(), checksum.lower().encode()):
        raise Unauthorized(_MISMATCH)
    return payload
