"""What both real-time protocols check on a client message before acting on it, with the HTTP endpoint's bounds
(`local.emulator.requests`): its size, UTF-8 JSON text, an object, nested at most `MAX_MESSAGE_DEPTH` deep and
valid Unicode throughout. Each protocol answers a refusal its own way (AppSync: an `error` message, the connection
stays open; graphql-transport-ws: the close code its spec names)."""

from __future__ import annotations

import json
from typing import Any

from local.emulator.requests import MAX_REQUEST_BYTES, MAX_VARIABLES_DEPTH, RequestRefused, check_json

# A message carries at most one request: the HTTP endpoint's request bound.
MAX_MESSAGE_BYTES = MAX_REQUEST_BYTES
# The deepest legitimate message, a graphql-transport-ws subscribe, is `payload.variables` + the variables' own
# depth; AppSync's `start` carries its request as a JSON string (`payload.data`), checked again once decoded.
MAX_MESSAGE_DEPTH = MAX_VARIABLES_DEPTH + 2
# RFC 6455's "message too big": graphql-transport-ws names no code for it; 4400 is for malformed messages.
CLOSE_TOO_BIG = 1009
CLOSE_INVALID = 4400


class MessageRefused(Exception):
    """A client message neither protocol acts on: `error_type` for AppSync's `error`, `close_code` for
    graphql-transport-ws."""

    def __init__(self, message: str, error_type: str = "BadRequestException", close_code: int = CLOSE_INVALID) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.close_code = close_code


def decode(text: str | None, data: bytes | None) -> dict[str, Any]:
    """One client frame as a JSON object. Raises MessageRefused."""
    if text is None:
        # a binary frame: both protocols send JSON text; say which of the two rules it broke
        if data is not None and len(data) > MAX_MESSAGE_BYTES:
            raise too_big()
        try:
            (data or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise MessageRefused("a message must be UTF-8 JSON text; this one is not valid UTF-8") from None
        raise MessageRefused("a message must be sent as a text frame, not a binary one")
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise too_big()
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past the decoder's recursion limit
        raise MessageRefused("a message must be JSON text") from None
    if not isinstance(message, dict):
        raise MessageRefused("a message must be a JSON object with a type")
    try:
        check_json(message, "the message's values", MAX_MESSAGE_DEPTH)
    except RequestRefused as exc:
        raise MessageRefused(exc.message) from None
    return message


def too_big() -> MessageRefused:
    return MessageRefused(
        f"the message is larger than {MAX_MESSAGE_BYTES} bytes", "RequestEntityTooLargeException", CLOSE_TOO_BIG
    )
