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


class UserRequests(threading.local):
    """Set while the resolver Lambda serves a signed-in user's request on this thread."""

    serving = False


def _user_requests_recorder(stack: LocalStack, monkeypatch: pytest.MonkeyPatch, keep: Any) -> Iterator[Recorder]:
    """DynamoDB requests (those `keep` picks) made while resolving a user's request; the stack's own
    background work (postbacks, the stream poller's publishes) is not the user's."""
    recorder = Recorder()
    state = UserRequests()
    invoker = stack.endpoint.invoker
    handler = invoker.handler

    def serving(event: dict[str, Any], context: Any) -> Any:
        state.serving = bool(event.get("identity", {}).get("sub"))
        try:
            return handler(event, context)
        finally:
            state.serving = False

    def record(model: Any, **_: Any) -> None:
        if state.serving and keep(model.name):
            recorder.add(model.name)

    monkeypatch.setattr(invoker, "handler", serving)
    dynamodb = stack.composition.aws.dynamodb
    unique_id = f"security-user-requests-{id(recorder)}"
    dynamodb.meta.events.register("before-call.dynamodb", record, unique_id=unique_id)
    yield recorder
    dynamodb.meta.events.unregister("before-call.dynamodb", unique_id=unique_id)


@pytest.fixture
def user_writes(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """The DynamoDB writes made while resolving users' requests during the test."""
    yield from _user_requests_recorder(stack, monkeypatch, lambda name: name in WRITES)


@pytest.fixture
def user_requests(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Every DynamoDB request (reads too) made while resolving users' requests during the test."""
    yield from _user_requests_recorder(stack, monkeypatch, lambda name: True)


@pytest.fixture
def resolver_calls(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The root fields the emulator invoked the resolver Lambda for during the test, for users' requests (the
    stream handler's IAM publish mutations, which run for other tests' baskets at any moment, are not counted)."""
    recorder = Recorder()
    invoker = stack.endpoint.invoker
    handler = invoker.handler

    def counting(event: dict[str, Any], context: Any) -> Any:
        field = str(event.get("info", {}).get("fieldName"))
        if not field.startswith("publish"):
            recorder.add(field)
        return handler(event, context)

    monkeypatch.setattr(invoker, "handler", counting)
    return recorder
