"""The postback Lambda's Kite secret: from the environment locally, from an SSM SecureString on AWS,
and no secret at all means no postback is believed (an empty one would be anyone's checksum)."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from brokers import deployment
from brokers.kite.postback import postback_checksum
from local.emulator.context import LambdaContext
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


def deliver(payload: dict[str, Any]) -> int:
    event = {"body": base64.b64encode(json.dumps(payload).encode()).decode(), "isBase64Encoded": True}
    return int(postback_lambda.handler(event, LambdaContext("basketgraph-postbacks"))["statusCode"])


@pytest.fixture
def secret_in_ssm(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The deployment's secret only in SSM, as on AWS (KITE_API_SECRET unset)."""
    stack.ssm.put_parameter(Name=PARAMETER, Value="s3cret-from-ssm", Type="SecureString", Overwrite=True)
    monkeypatch.delenv("KITE_API_SECRET", raising=False)
    monkeypatch.setenv("KITE_API_SECRET_PARAMETER", PARAMETER)
    deployment.forget_secrets()
    yield "s3cret-from-ssm"
    deployment.forget_secrets()


def test_postbacks_are_checked_against_the_secret_in_ssm(secret_in_ssm: str) -> None:
    assert deliver(signed(secret_in_ssm)) != 401  # believed (and ignored: not our order)
    assert deliver(signed("a-guess")) == 401
    assert deliver(signed("")) == 401


def test_without_any_secret_no_postback_is_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KITE_API_SECRET", raising=False)
    monkeypatch.delenv("KITE_API_SECRET_PARAMETER", raising=False)
    deployment.forget_secrets()
    assert deployment.kite_api_secret() is None
    assert deliver(signed("")) == 401  # sha256(order_id + timestamp) alone proves nothing
    assert deliver(signed("anything")) == 401
