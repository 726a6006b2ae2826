"""Opaque page tokens: url-safe base64 of a Query's DynamoDB-typed LastEvaluatedKey."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from trading.errors import ValidationError

INVALID_TOKEN = "invalid nextToken"  # noqa: S105 (an error message, not a secret)


def encode_token(last_key: dict[str, Any] | None) -> str | None:
    """The nextToken for a Query's LastEvaluatedKey (None on the last page)."""
    if not last_key:
        return None
    text = json.dumps(last_key, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str, attributes: tuple[str, ...], partition: tuple[str, str]) -> dict[str, Any]:
    """The ExclusiveStartKey in `token`, checked against the Query it must continue.

    Parameters
    ----------
    token
        A nextToken from `encode_token`.
    attributes
        The key attributes the Query's LastEvaluatedKey carries (table and index keys).
    partition
        (attribute, value) of the Query's partition: a token from another partition is refused,
        so a token can never reach another user's items.

    Raises
    ------
    ValidationError
        The token is not one this Query could have issued.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise ValidationError(INVALID_TOKEN) from exc
    if not isinstance(key, dict) or set(key) != set(attributes):
        raise ValidationError(INVALID_TOKEN)
    for value in key.values():
        if not isinstance(value, dict) or list(value) != ["S"] or not isinstance(value["S"], str):
            raise ValidationError(INVALID_TOKEN)
    name, expected = partition
    if key[name]["S"] != expected:
        raise ValidationError(INVALID_TOKEN)
    return key
