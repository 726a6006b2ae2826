"""Shared fixtures: an in-process moto server, a fresh table per test, and request counting."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import boto3
import pytest

from local.dynamodb.server import start_moto
from store import connect, create_table
from tests.requests_counter import RequestCounter

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient

    from store import DynamoStore

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "ap-south-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server running in this process, with test credentials in the environment."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in AWS_ENV.items():
            env.setenv(name, value)
        server, url = start_moto(partition_queries=False)
        yield url
        server.stop()


@pytest.fixture(scope="session")
def dynamodb_client(moto_endpoint: str) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=AWS_ENV["AWS_DEFAULT_REGION"])


@pytest.fixture
def table_name(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A fresh table from the spec, deleted after the test."""
    name = f"Trading-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def count_requests(dynamodb_client: DynamoDBClient) -> Iterator[RequestCounter]:
    """Records every DynamoDB operation of the test; fails the test if any was a Scan."""
    counter = RequestCounter(dynamodb_client)
    counter.start()
    yield counter
    counter.stop()
    assert "Scan" not in counter.operations, "a Scan was issued; every access path must Query or Get"


@pytest.fixture
def store(dynamodb_client: DynamoDBClient, table_name: str, count_requests: RequestCounter) -> DynamoStore:
    """The DynamoDB repositories over a fresh table (requests counted by `count_requests`)."""
    return connect(table_name, dynamodb_client)


from tests.stack_fixtures import alice, bob, handler_requests, stack, writes  # noqa: E402, F401
from tests.tls_stack import tls_stack  # noqa: E402, F401
