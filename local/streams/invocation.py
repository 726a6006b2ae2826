"""How the poller invokes a stream handler, as Lambda's event-source mapping does: the context it passes and
the `ReportBatchItemFailures` reply it reads back."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

StreamHandler = Callable[[dict[str, Any], Any], Any]

DEFAULT_FUNCTION_NAME = "basketgraph-streams"


@dataclass
class StreamContext:
    """The Lambda context attributes a stream handler (and powertools' Logger) reads."""

    function_name: str = DEFAULT_FUNCTION_NAME
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:ap-south-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


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
