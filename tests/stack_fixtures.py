"""The local stack as a test fixture: one per session, on free ports, with a throwaway state directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.requests_counter import RequestCounter

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local.stack import LocalStack

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole local stack, serving HTTP; its env also configures the in-process resolver handler."""
    from local.stack import LocalStack, StackConfig

    state: Path = tmp_path_factory.mktemp("state")
    running = LocalStack(StackConfig(state_dir=state, port=0, table_name="Trading"))
    running.start()
    running.serve_in_thread()
    yield running
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
    from resolvers.bootstrap import dynamodb

    counter = RequestCounter(dynamodb())
    counter.start()
    yield counter
    counter.stop()
    assert "Scan" not in counter.operations, "a Scan was issued on a request path"


class WriteLog:
    """The write requests the handler has made since the last `clear()`."""

    def __init__(self, counter: RequestCounter) -> None:
        self.counter = counter

    def clear(self) -> None:
        self.counter.operations.clear()

    def made(self) -> list[str]:
        return [op for op in self.counter.operations if op in WRITES]


@pytest.fixture
def writes(handler_requests: RequestCounter) -> WriteLog:
    return WriteLog(handler_requests)
