"""The local stack as a test fixture: one per session, on free ports, with a throwaway state directory."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from tests.requests_counter import RequestCounter

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local.stack import LocalStack

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole local stack, serving HTTP; its settings also compose the in-process Lambdas."""
    from local.stack import LocalStack, StackConfig

    state: Path = tmp_path_factory.mktemp("state")
    running = LocalStack(StackConfig(state_dir=state, port=0, table_name="Trading", simulate_market=False))
    running.start()
    running.serve_in_thread()
    yield running
    running.stop()


@contextmanager
def pooled_stack(state: Path, table_name: str, environments: int) -> Iterator[LocalStack]:
    """A stack of its own whose Lambdas run in `environments` execution environments each, serving HTTP; the
    session's stack (if any) gets its composition back afterwards. A test may stop it itself."""
    from composition import runtime
    from local.stack import LocalStack, StackConfig

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime, "_process", runtime._process)
        config = StackConfig(
            state_dir=state, port=0, table_name=table_name, simulate_market=False, lambda_environments=environments
        )
        running = LocalStack(config)
        running.start()
        running.serve_in_thread()
        yield running
        if running.moto is not None:
            running.stop()


@pytest.fixture(scope="session")
def alice(stack: LocalStack) -> dict[str, str]:
    return stack.add_user("alice")


@pytest.fixture(scope="session")
def bob(stack: LocalStack) -> dict[str, str]:
    return stack.add_user("bob")


@pytest.fixture
def handler_requests(stack: LocalStack) -> Iterator[RequestCounter]:
    """Every DynamoDB request the resolver handler makes during the test; a Scan fails it."""
    counter = ThreadCounter(stack.composition.aws.dynamodb)
    counter.start()
    yield counter
    counter.stop()
    assert "Scan" not in counter.operations, "a Scan was issued on a request path"


class ThreadCounter(RequestCounter):
    """Counts only the requests made from the test's own thread (postbacks and the stream poller
    work in the background on the same client)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.thread = threading.get_ident()

    def _record(self, model: Any, **kwargs: Any) -> None:
        if threading.get_ident() == self.thread:
            super()._record(model, **kwargs)


class WriteLog:
    """The write requests made from the test's own thread since the last `clear()`.

    Postbacks of earlier tests may still be landing on other threads; they are not this test's.
    """

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.operations: list[str] = []

    def record(self, model: Any, **_: Any) -> None:
        if threading.get_ident() == self.thread and model.name in WRITES:
            self.operations.append(model.name)

    def clear(self) -> None:
        self.operations.clear()

    def made(self) -> list[str]:
        return list(self.operations)


@pytest.fixture
def writes(stack: LocalStack, handler_requests: RequestCounter) -> Iterator[WriteLog]:
    dynamodb = stack.composition.aws.dynamodb
    log = WriteLog()
    unique_id = f"writes-{id(log)}"
    dynamodb.meta.events.register("before-call.dynamodb", log.record, unique_id=unique_id)
    yield log
    dynamodb.meta.events.unregister("before-call.dynamodb", unique_id=unique_id)
