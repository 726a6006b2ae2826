"""The postback Lambda's Kite secret: from the settings locally, from an SSM SecureString on AWS,
and no secret at all means no postback is believed (an empty one would be anyone's checksum)."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from brokers.kite.postback import postback_checksum
from composition import brokers as deployment
from composition.runtime import Composition
from local.lambda_context import LambdaContext
from resolvers import postback as postback_lambda

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack

PARAMETER = "/basketgraph/test/app/kite/api_secret"


def signed(secret: str) -> dict[str, Any]:
    """A postback for an order nobody here placed, signed with `secret`."""
    order_id, stamp = "261124999999999", "2026-11-24 10:00:00"
    return {
        "order_id": order_id,
        "order_timestamp": stamp,
        "status": "OPEN",
        "checksum": postback_checksum(order_id, stamp, secret),
    }


def deliver(composed: Composition, payload: dict[str, Any]) -> int:
    event = {"body": base64.b64encode(json.dumps(payload).encode()).decode(), "isBase64Encoded": True}
    handler = postback_lambda.make_handler(lambda: composed)
    return int(handler(event, LambdaContext("basketgraph-postbacks"))["statusCode"])


@pytest.fixture
def secret_in_ssm(stack: LocalStack) -> Iterator[Composition]:
    """The deployment's secret only in SSM, as on AWS (no kite_api_secret in the settings)."""
    stack.ssm.put_parameter(Name=PARAMETER, Value="s3cret-from-ssm", Type="SecureString", Overwrite=True)
    settings = stack.settings.replace(kite_api_secret=None, kite_api_secret_parameter=PARAMETER)
    deployment.forget_secrets()
    yield Composition(settings)
    deployment.forget_secrets()


def test_postbacks_are_checked_against_the_secret_in_ssm(secret_in_ssm: Composition) -> None:
    assert deliver(secret_in_ssm, signed("s3cret-from-ssm")) != 401  # believed (and ignored: not our order)
    assert deliver(secret_in_ssm, signed("a-guess")) == 401
    assert deliver(secret_in_ssm, signed("")) == 401


def test_without_any_secret_no_postback_is_believed(stack: LocalStack) -> None:
    composed = Composition(stack.settings.replace(kite_api_secret=None, kite_api_secret_parameter=None))
    deployment.forget_secrets()
    assert deployment.kite_api_secret(composed.settings) is None
    assert deliver(composed, signed("")) == 401  # sha256(order_id + timestamp) alone proves nothing
    assert deliver(composed, signed("anything")) == 401
