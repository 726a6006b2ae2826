"""Fixtures of the attack tests: what the stack wrote and which resolvers ran, on any thread."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from tests.stack_fixtures import WRITES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack


class Recorder:
    """Calls seen since the fixture began, from every thread (the emulator resolves on its own threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[str] = []

    def add(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


@pytest.fixture
def stack_writes(stack: LocalStack) -> Iterator[Recorder]:
    """Every DynamoDB write the stack's Lambdas make during the test."""
    recorder = Recorder()
    dynamodb = stack.composition.aws.dynamodb

    def record(model: Any, **_: Any) -> None:
        if model.name in WRITES:
            recorder.add(model.name)

    unique_id = f"security-writes-{id(recorder)}"
    dynamodb.meta.events.register("before-call.dynamodb", record, unique_id=unique_id)
    yield recorder
    dynamodb.meta.events.unregister("before-call.dynamodb", unique_id=unique_id)


@pytest.fixture
def resolver_calls(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The root fields the emulator invoked the resolver Lambda for during the test."""
    recorder = Recorder()
    invoker = stack.endpoint.invoker
    handler = invoker.handler

    def counting(event: dict[str, Any], context: Any) -> Any:
        recorder.add(str(event.get("info", {}).get("fieldName")))
        return handler(event, context)

    monkeypatch.setattr(invoker, "handler", counting)
    return recorder
