"""A page token outlives a restart of the local stack on the same state directory: the sealing key is an SSM
parameter (`resolvers/pages.py`), and the stack replays its SSM writes at start (`local/request_journal.py`).

The stacks here are the test's own (their own table and state directory), not the session's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from resolvers.pages import KEY_NAME
from tests.e2e.test_exit_restart import stacks, started  # noqa: F401 - the fixture that stops what a test starts
from tests.graphql_client import graphql
from tests.helpers import condor_input

if TYPE_CHECKING:
    from pathlib import Path

    from local.stack import LocalStack, StackConfig

pytestmark = pytest.mark.e2e

BASKETS = "query($n: String) { baskets(limit: 1, nextToken: $n) { items { id } nextToken } }"
CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }"


@pytest.fixture
def config(tmp_path: Path) -> StackConfig:
    from local.stack import StackConfig

    return StackConfig(state_dir=tmp_path / "state", port=0, table_name="PageTokenRestart", simulate_market=False)


def page(stack: LocalStack, token: str, next_token: str | None = None) -> dict[str, Any]:
    body = graphql(stack, token, BASKETS, {"n": next_token})
    assert "errors" not in body, body
    return dict(body["data"]["baskets"])


def test_a_page_token_opens_after_a_restart_on_the_same_state_directory(
    config: StackConfig,
    stacks: list[LocalStack],  # noqa: F811
) -> None:
    # Given a user with two baskets and the first page of them (one basket, and a token for the next)
    first = started(config)
    stacks.append(first)
    user = first.add_user("paged")
    made = {
        graphql(first, user["token"], CREATE, {"i": {**condor_input(), "name": f"b{i}"}})["data"]["createBasket"]["id"]
        for i in range(2)
    }
    one = page(first, user["token"])
    assert one["nextToken"]
    key_before = first.composition.secrets.get(KEY_NAME)
    assert key_before  # made by the first listing

    # When the stack restarts on the same state directory
    first.stop()
    second = started(config)
    stacks.append(second)
    again = second.add_user("paged")

    # Then the token continues the listing where it left off, with the same key
    two = page(second, again["token"], one["nextToken"])
    assert again["sub"] == user["sub"]
    assert second.composition.secrets.get(KEY_NAME) == key_before
    assert {item["id"] for item in one["items"] + two["items"]} == made
