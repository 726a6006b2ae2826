"""How the poller invokes a stream handler, as Lambda's event-source mapping does: the context it passes and
the `ReportBatchItemFailures` reply it reads back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

StreamHandler = Callable[[dict[str, Any], Any], Any]

DEFAULT_FUNCTION_NAME = "basketgraph-streams"


def failed_ids(reply: Any) -> list[str] | None:
    """The `itemIdentifier`s of a ReportBatchItemFailures reply; [] for success, None if the reply is malformed."""
    if reply is None or not isinstance(reply, Mapping):
        return []
    failures = reply.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    ids = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or not identifier:
            return None
        ids.append(identifier)
    return ids


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
