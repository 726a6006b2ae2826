"""The broker postback Lambda (function URL): verify Kite's checksum, then apply the update and fills."""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from brokers.deployment import kite_api_secret
from brokers.kite.mapping import order_update_from_kite
from brokers.kite.postback import verify_postback
from resolvers.bootstrap import bootstrap
from trading.errors import DomainError, Unauthorized
from trading.usecases import orders as order_use_cases

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


logger = Logger(service="basketgraph-postbacks")


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    try:
        payload = verify_postback(raw, kite_api_secret() or "")
    except Unauthorized as exc:
        logger.warning("postback refused", extra={"reason": exc.message})
        return _reply(401, {"error": exc.message})
    update = order_update_from_kite(payload)
    broker = os.environ.get("BROKER", "kite")
    try:
        ports = bootstrap()
        order = order_use_cases.on_broker_update(ports, broker, update)
    except DomainError as exc:
        # The broker retries postbacks it did not get a 2xx for; a conflict is worth a retry.
        logger.warning("postback not applied", extra={"error_type": exc.error_type, "error": exc.message})
        return _reply(409, {"error": exc.message})
    if order is None:
        logger.info("postback for an order that is not ours", extra={"broker_order_id": update.broker_order_id})
    return _reply(200, {"orderId": order.id if order else None})
