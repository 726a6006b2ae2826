"""The one place where DynamoDB error codes become domain errors."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from trading.errors import Conflict, DomainError, RateLimited, ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterator

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
VALIDATION = "ValidationException"
TABLE_EXISTS = "ResourceInUseException"

# Cancellation reasons of a TransactWriteItems, one per action, in action order.
REASON_CONDITION_FAILED = "ConditionalCheckFailed"
REASON_TRANSACTION_CONFLICT = "TransactionConflict"

_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ThrottlingError",
    }
)
_CONFLICTS = frozenset({"TransactionConflictException", "TransactionInProgressException"})


def error_code(exc: ClientError) -> str:
    """The AWS error code of a botocore error ("" when there is none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(exc: ClientError) -> list[str | None]:
    """Per-action reason codes of a cancelled transaction (None for actions that did not fail)."""
    if error_code(exc) != TRANSACTION_CANCELED:
        return []
    reasons = exc.response.get("CancellationReasons", [])
    return [None if r.get("Code") in (None, "None") else str(r["Code"]) for r in reasons]


READ_CONFLICT = "the data changed while it was being read; retry"


def domain_error(exc: ClientError, conflict: str = READ_CONFLICT, invalid: str | None = None) -> DomainError | None:
    """The domain error for a DynamoDB error, or None when it is not one the domain knows.

    Parameters
    ----------
    exc
        The botocore error.
    conflict
        Message for a refused condition or a conflicting transaction.
    invalid
        Message for a `ValidationException` caused by caller input (e.g. a bad page token);
        without it a `ValidationException` is our bug and is not translated.
    """
    code = error_code(exc)
    reasons = cancellation_reasons(exc)
    if code in _THROTTLED or any(r in _THROTTLED for r in reasons):
        return RateLimited("the database is busy; retry in a moment")
    if code == CONDITION_FAILED or code in _CONFLICTS or reasons:
        return Conflict(conflict)
    if code == VALIDATION and invalid is not None:
        return ValidationError(invalid)
    return None


@contextmanager
def translated(conflict: str = READ_CONFLICT, invalid: str | None = None) -> Iterator[None]:
    """Raise the domain error for any DynamoDB error in the block (see `domain_error`)."""
    try:
        yield
    except ClientError as exc:
        error = domain_error(exc, conflict, invalid)
        if error is None:
            raise
        raise error from exc
