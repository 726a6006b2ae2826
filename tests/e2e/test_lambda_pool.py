"""Requests run concurrently, as on AppSync + Lambda: the local stack's resolver Lambda runs in a pool of execution
environments (processes), so one user's slow request does not hold up another user's, and the environments end
with the stack (`stop()`, and Ctrl-C of `basketgraph dev`).

The stacks here are the test's own (their own table and state directory), not the session's.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.e2e.test_broker_execution import basket, create, execute, leg
from tests.helpers import CE_26500, an_order_input, exchange_orders, wait_until
from tests.stack_fixtures import pooled_stack

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status quantity } }"
SLICE = 1755  # 27 lots of 65 under NIFTY's freeze quantity of 1,800
SLICED = 10 * SLICE  # the most one order may have: ten slices


@pytest.fixture
def pooled(tmp_path: Path) -> Iterator[LocalStack]:
    """A stack whose Lambdas run in two execution environments each."""
    with pooled_stack(tmp_path / "state", "LambdaPool", 2) as stack:
        yield stack


def post(stack: LocalStack, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = requests.post(
        f"{stack.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": token},
        timeout=120,
    )
    return dict(reply.json())


def test_another_users_me_is_answered_while_a_sliced_order_is_in_flight(
    pooled: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slicer, reader = pooled.add_user("slicer"), pooled.add_user("reader")
    basket_id = create(pooled, slicer["token"], [leg(CE_26500)])
    execute(pooled, slicer["token"], basket_id)
    wait_until(lambda: basket(pooled, slicer["token"], basket_id)["status"] == "LIVE", timeout=60)
    # the paper exchange holds the slicer's slices until the test lets them through
    reached, release = threading.Event(), threading.Event()
    exchange = pooled.exchange
    for name in ("place_order", "place_autoslice_order"):
        original = getattr(exchange, name)

        def held(account: Any, variety: str, form: Any, original: Any = original) -> Any:
            if int(form.get("quantity") or 0) >= SLICE:
                reached.set()
                release.wait(120)
            return original(account, variety, form)

        monkeypatch.setattr(exchange, name, held)
    replies: list[dict[str, Any]] = []
    order = an_order_input(basket_id, tradingsymbol=CE_26500, quantity=SLICED)
    placing = threading.Thread(target=lambda: replies.append(post(pooled, slicer["token"], PLACE, {"i": order})))
    try:
        placing.start()
        assert reached.wait(120), "the sliced order never reached the exchange"

        # while the slicer's placeOrder is held inside its Lambda invocation, the reader's `me` is answered
        me = post(pooled, reader["token"], "{ me { id } }")
        assert me == {"data": {"me": {"id": reader["sub"]}}}
        assert placing.is_alive()
        assert replies == []
    finally:
        release.set()
        placing.join(120)
    assert replies[0].get("errors") is None, replies
    assert replies[0]["data"]["placeOrder"]["quantity"] == SLICE  # the first slice is the one returned
    wait_until(lambda: sum(int(o["quantity"]) == SLICE for o in exchange_orders(pooled, slicer["sub"])) == 10)


def test_the_environments_end_with_the_stack(pooled: LocalStack) -> None:
    user = pooled.add_user("ending")
    assert post(pooled, user["token"], "{ me { id } }") == {"data": {"me": {"id": user["sub"]}}}
    wait_until(lambda: len(pooled.lambda_pids()) >= 4, timeout=120)  # two warm environments per Lambda
    environments = pooled.lambda_pids()
    assert all(Path(f"/proc/{pid}").exists() for pid in environments)

    pooled.stop()

    assert [pid for pid in environments if Path(f"/proc/{pid}").exists()] == []


def test_ctrl_c_of_basketgraph_dev_ends_its_environments(tmp_path: Path) -> None:
    from bench.dev_process import DevStack, gql_session

    dev = DevStack.start(tmp_path, "--still-market", "--lambda-environments", "2")
    try:
        user = dev.user("ctrl_c")
        assert gql_session(dev.url, user["token"])("{ me { id } }") == {"me": {"id": user["sub"]}}
        wait_until(lambda: len(dev.pids()) >= 5, timeout=120)  # the stack and its four environments
    finally:
        _, left = dev.stop()
    assert dev.process.returncode == 0
    assert left == []
