"""DynamoDB error codes become domain errors in one place, by code, never by message."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from store.errors import cancellation_reasons, translated
from trading.errors import Conflict, RateLimited, ValidationError


def _error(code: str, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "whatever"}, **extra}, "PutItem")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ConditionalCheckFailedException", Conflict),
        ("TransactionConflictException", Conflict),
        ("ProvisionedThroughputExceededException", RateLimited),
        ("ThrottlingException", RateLimited),
        ("RequestLimitExceeded", RateLimited),
    ],
)
def test_known_codes_become_domain_errors(code: str, expected: type[Exception]) -> None:
    with pytest.raises(expected) as raised, translated("basket 1 changed"):
        raise _error(code)
    assert isinstance(raised.value.__cause__, ClientError)


def test_a_validation_exception_is_the_callers_fault_only_when_said_so() -> None:
    with pytest.raises(ValidationError, match="invalid nextToken"), translated(invalid="invalid nextToken"):
        raise _error("ValidationException")
    with pytest.raises(ClientError), translated():
        raise _error("ValidationException")


def test_unknown_codes_pass_through() -> None:
    with pytest.raises(ClientError), translated():
        raise _error("ResourceNotFoundException")


def test_a_cancelled_transaction_reports_its_reasons_in_action_order() -> None:
    exc = _error(
        "TransactionCanceledException",
        CancellationReasons=[{"Code": "None"}, {"Code": "ConditionalCheckFailed"}, {"Code": "ThrottlingError"}],
    )
    assert cancellation_reasons(exc) == [None, "ConditionalCheckFailed", "ThrottlingError"]
    with pytest.raises(RateLimited), translated():
        raise exc
