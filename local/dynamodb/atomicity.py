"""Give moto's DynamoDB the per-item atomicity real DynamoDB has, and let a journal see each applied write.

moto's threaded server runs requests concurrently without a lock, so two conditional writes
(or transactions) can both pass their condition and a cancelled transaction can roll back a
neighbour's write. DynamoDB never does either, so requests are serialized here. This is a
correctness patch, applied whatever moto version is installed.

A `RequestObserver` (the journal, `local.dynamodb.journal`) sees every request under the lock, before
and after moto applies it, and is then waited on outside the lock: the response leaves only once what
it wrote (and anything it could have read) is durable, while other requests go on being applied.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import TYPE_CHECKING, Any, Protocol

from moto.dynamodb.responses import DynamoHandler

if TYPE_CHECKING:
    from collections.abc import Iterator

_lock = threading.RLock()


class RequestObserver(Protocol):
    def before(self, backend: Any) -> Any: ...

    def after(self, backend: Any, before: Any, succeeded: bool) -> int: ...

    def wait_durable(self, ticket: int) -> None: ...


_observer: RequestObserver | None = None


def observe_requests(observer: RequestObserver | None) -> None:
    """Let `observer` see every DynamoDB request from now on (None: stop)."""
    global _observer
    _observer = observer


def current_observer() -> RequestObserver | None:
    return _observer


@contextlib.contextmanager
def serialized_write(backend: Any) -> Iterator[None]:
    """Change `backend`'s tables directly (the TTL sweeper) as one request: under the lock, journaled."""
    observer = _observer
    ticket = 0
    with _lock:
        before = observer.before(backend) if observer else None
        yield
        if observer is not None:
            ticket = observer.after(backend, before, True)
    if observer is not None:
        observer.wait_durable(ticket)


def serialize_dynamodb_requests() -> None:
    """Run this process's moto DynamoDB requests one at a time (idempotent)."""
    call_action = DynamoHandler.call_action
    if getattr(call_action, "_serialized", False):
        return

    @functools.wraps(call_action)
    def serialized(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        observer = _observer
        if observer is None:
            with _lock:
                return call_action(self, *args, **kwargs)
        with _lock:
            backend = self.dynamodb_backend
            before = observer.before(backend)
            result = call_action(self, *args, **kwargs)
            ticket = observer.after(backend, before, _succeeded(result))
        observer.wait_durable(ticket)
        return result

    serialized._serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = serialized  # type: ignore[method-assign]

    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    read_records = DynamoDBStreamsHandler.call_action

    @functools.wraps(read_records)
    def durable_records(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            result = read_records(self, *args, **kwargs)
        observer = _observer
        if observer is not None:
            observer.wait_durable(observer.after(None, None, False))  # never hand out a record not yet on disk
        return result

    DynamoDBStreamsHandler.call_action = durable_records  # type: ignore[method-assign]


def _succeeded(result: Any) -> bool:
    status = result[0] if isinstance(result, tuple) and result else 500
    return isinstance(status, int) and status < 300
