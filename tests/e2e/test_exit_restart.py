"""An exit interrupted by a restart of the local stack finishes after it (issue 17): the stack is stopped with the
basket EXITING and its positions open, started again on the same state directory, and the reconciliation it runs
at start takes the exit's next turn: shorts bought back first, the basket CLOSED with every position at zero.

The stacks here are the test's own (their own table and state directory), not the session's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_broker_execution import basket, create, execute, leg
from tests.helpers import CE_26000, CE_26500, exchange_orders, wait_until
from trading.ids import BasketId, OwnerId
from trading.model import BasketStatus
from trading.usecases.versions import bump

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local.stack import LocalStack, StackConfig

pytestmark = pytest.mark.e2e

USER = "restarted"


@pytest.fixture
def config(tmp_path: Path) -> StackConfig:
    from local.stack import StackConfig

    return StackConfig(state_dir=tmp_path / "state", port=0, table_name="ExitRestart", simulate_market=False)


def started(config: StackConfig) -> LocalStack:
    from local.stack import LocalStack

    running = LocalStack(config)
    running.start()
    running.serve_in_thread()
    return running


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[LocalStack]]:
    """Every stack the test starts; whichever still runs is stopped at the end.

    A stack installs its composition as the process's (the Lambda handlers' `bootstrap()`); the session's
    stack, if any, gets its own back afterwards.
    """
    from composition import runtime

    monkeypatch.setattr(runtime, "_process", runtime._process)
    running: list[LocalStack] = []
    yield running
    for stack in running:
        if stack.moto is not None:
            stack.stop()


def test_an_exit_interrupted_by_a_restart_finishes_after_it(config: StackConfig, stacks: list[LocalStack]) -> None:
    # Given a LIVE basket long the 26000 call and short the 26500 call
    first = started(config)
    stacks.append(first)
    assert first.reconciled.wait(60)  # its reconciliation at start is over: nothing resumes this exit but a restart
    user = first.add_user(USER)
    basket_id = create(first, user["token"], [leg(CE_26000), leg(CE_26500, side="SELL")])
    execute(first, user["token"], basket_id)
    wait_until(lambda: basket(first, user["token"], basket_id)["status"] == "LIVE", timeout=60)
    # and its exit interrupted right after its first write (the gate that makes the basket EXITING): the process
    # went down before it cancelled or placed anything
    assert first.exchange.flush_postbacks(60)  # the entry's postbacks are in (a late one would go on with the exit)
    wait_until(lambda: {o["status"] for o in basket(first, user["token"], basket_id)["orders"]} == {"COMPLETE"})
    owner, key = OwnerId(user["sub"]), BasketId(basket_id)
    gate = first.store.baskets.get(owner, key)
    gate.start_exit()
    first.store.baskets.save(gate, bump(gate))
    left = first.store.baskets.view(owner, key)
    assert left.basket.status is BasketStatus.EXITING
    assert sorted(p.net_quantity for p in left.positions) == [-65, 65]
    assert len(left.orders) == 2
    first.stop()

    # When the stack starts again on the same state directory
    second = started(config)
    stacks.append(second)
    token = second.add_user(USER)["token"]  # the same user (same sub), a fresh token

    # Then the exit finishes: CLOSED, every position at zero, the short bought back before the long was sold
    def flat_and_closed() -> bool:
        view: dict[str, Any] = basket(second, token, basket_id)
        return view["status"] == BasketStatus.CLOSED and all(p["netQuantity"] == 0 for p in view["positions"])

    wait_until(flat_and_closed, timeout=90)
    book = exchange_orders(second, user["sub"])  # the restarted paper exchange kept its book: entry, then exit
    assert [(o["transaction_type"], o["tradingsymbol"], o["quantity"]) for o in book] == [
        ("BUY", CE_26000, 65),
        ("SELL", CE_26500, 65),
        ("BUY", CE_26500, 65),
        ("SELL", CE_26000, 65),
    ]
    second.stop()
