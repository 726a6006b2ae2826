"""The broker postback Lambda (function URL): verify Kite's checksum, then apply the update and fills."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from brokers.kite.mapping import order_update_from_kite
from brokers.kite.postback import verify_postback
from composition.brokers import kite_api_secret
from composition.runtime import bootstrap
from trading.errors import DomainError, Unauthorized
from trading.usecases import exits as exiting

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from composition.runtime import Composition

logger = Logger(service="basketgraph-postbacks")
# Kite's postback is about 1 KB (kite-mocks/postback.json) with one nested object (`meta`).
MAX_POSTBACK_BYTES = 16 * 1024
MAX_POSTBACK_DEPTH = 4


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def make_handler(compose: Callable[[], Composition]) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The postback Lambda over the composition `compose()` returns."""

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return apply_postback(compose(), event)

    return handle


def refusal(body: Any, base64_encoded: bool) -> tuple[int, str] | None:
    """Why a postback body is refused before it is parsed (status, reason), or None: over MAX_POSTBACK_BYTES,
    not UTF-8, or JSON nested deeper than MAX_POSTBACK_DEPTH."""
    if not isinstance(body, str):
        return 400, "the body must be text"
    if len(body) > MAX_POSTBACK_BYTES * 2:  # even base64 of an acceptable body is shorter
        return 413, f"a postback is at most {MAX_POSTBACK_BYTES} bytes"
    try:
        raw = base64.b64decode(body, validate=True) if base64_encoded else body.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return 400, "the body is not valid base64 or UTF-8"
    if len(raw) > MAX_POSTBACK_BYTES:
        return 413, f"a postback is at most {MAX_POSTBACK_BYTES} bytes"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the body is not UTF-8"
    if _nesting(text) > MAX_POSTBACK_DEPTH:
        return 400, f"the body is JSON nested deeper than {MAX_POSTBACK_DEPTH} levels"
    return None


def _nesting(text: str) -> int:
    """The deepest bracket nesting of JSON text, strings skipped (no parse, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def apply_postback(composed: Composition, event: dict[str, Any]) -> dict[str, Any]:
    """Verify one postback request and apply it; returns the function URL's reply."""
    body = event.get("body") or ""
    refused = refusal(body, bool(event.get("isBase64Encoded")))
    if refused is not None:
        logger.warning("postback refused before parsing", extra={"reason": refused[1]})
        return _reply(refused[0], {"error": refused[1]})
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    try:
        payload = verify_postback(raw, kite_api_secret(composed.settings, composed.aws.client("ssm")) or "")
    except Unauthorized as exc:
        logger.warning("postback refused", extra={"reason": exc.message})
        return _reply(401, {"error": exc.message})
    update = order_update_from_kite(payload)
    broker = composed.settings.default_broker
    try:
        ports = composed.ports
        order = exiting.on_exiting_update(ports, broker, update)
    except DomainError as exc:
        # The broker retries postbacks it did not get a 2xx for; a conflict is worth a retry.
        logger.warning("postback not applied", extra={"error_type": exc.error_type, "error": exc.message})
        return _reply(409, {"error": exc.message})
    if order is None:
        logger.info("postback for an order that is not ours", extra={"broker_order_id": update.broker_order_id})
    return _reply(200, {"orderId": order.id if order else None})


handler = make_handler(bootstrap)
