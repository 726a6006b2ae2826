"""A position carried overnight on the local stack: its previous close and Kite's m2m through GraphQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import requests

from tests.graphql_client import graphql_data
from tests.helpers import CE_26000, CE_26500, PE_25500, PE_26000, condor_input, wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

PNL = (
    "query($id: ID!) { pnl(basketId: $id) { positions { lastPrice closePrice pnl m2m "
    "position { tradingsymbol netQuantity averagePrice multiplier overnightQuantity } } } }"
)


class ShiftedClock:
    """The wall clock moved by `offset`: the stack lives through days while its threads keep real time."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture(scope="module")
def day_stack(tmp_path_factory: pytest.TempPathFactory, clock: ShiftedClock) -> Iterator[LocalStack]:
    """A stack of its own on the shifted clock (the exchange, the feed and the resolvers share it), on its own
    table; the process's composition (the session's stack's, if any) comes back afterwards."""
    from composition import runtime
    from local.stack import LocalStack, StackConfig

    state: Path = tmp_path_factory.mktemp("close-state")
    config = StackConfig(state_dir=state, port=0, table_name="PreviousClose", simulate_market=False, clock=clock)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime, "_process", runtime._process)
        running = LocalStack(config)
        running.start()
        running.serve_in_thread()
        yield running
        running.stop()


def move(stack: LocalStack, prices: dict[str, str]) -> None:
    reply = requests.post(f"{stack.url}/local/prices", json={f"NFO:{k}": v for k, v in prices.items()}, timeout=10)
    assert reply.status_code == 200


def test_a_carried_condor_shows_yesterdays_close_and_kites_m2m(day_stack: LocalStack, clock: ShiftedClock) -> None:
    token = day_stack.add_user("carol")["token"]
    # Given a condor filled on day 1 at these prices, and day 1 closing at others
    opening = {CE_26000: "318.65", PE_26000: "281.20", CE_26500: "121.55", PE_25500: "108.40"}
    move(day_stack, opening)
    created = graphql_data(
        day_stack,
        token,
        "mutation($input: CreateBasketInput!) { createBasket(input: $input) { id } }",
        {"input": condor_input()},
    )["createBasket"]
    graphql_data(
        day_stack,
        token,
        "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) { basket { id } } }",
        {"id": created["id"], "rid": str(uuid.uuid4())},
    )

    def filled() -> bool:
        rows = graphql_data(day_stack, token, PNL, {"id": created["id"]})["pnl"]["positions"]
        return len(rows) == 4 and all(r["position"]["netQuantity"] != 0 for r in rows)

    wait_until(filled)
    closing = {CE_26000: "310.00", PE_26000: "290.05", CE_26500: "118.00", PE_25500: "111.10"}
    move(day_stack, closing)
    on_day_one = graphql_data(day_stack, token, PNL, {"id": created["id"]})["pnl"]["positions"]
    # (on day 1 nothing is carried and the paper exchange has simulated no earlier session: no close)
    assert {(r["position"]["overnightQuantity"], r["closePrice"]) for r in on_day_one} == {(0, None)}

    # When the stack lives into day 2 and the market trades again
    clock.offset += timedelta(days=1)
    day_two = {CE_26000: "305.50", PE_26000: "295.25", CE_26500: "116.20", PE_25500: "113.75"}
    move(day_stack, day_two)
    rows = graphql_data(day_stack, token, PNL, {"id": created["id"]})["pnl"]["positions"]

    # Then each position is carried, its closePrice is day 1's close, and m2m values the carried quantity at it
    assert {r["position"]["tradingsymbol"]: r["closePrice"] for r in rows} == closing
    assert {r["position"]["tradingsymbol"]: r["lastPrice"] for r in rows} == day_two
    for row in rows:
        position = row["position"]
        net, average = position["netQuantity"], Decimal(position["averagePrice"])
        assert position["overnightQuantity"] == net
        assert average == Decimal(opening[position["tradingsymbol"]])
        close, last = Decimal(row["closePrice"]), Decimal(row["lastPrice"])
        multiplier = Decimal(position["multiplier"])
        assert Decimal(row["pnl"]) == net * (last - average) * multiplier
        assert Decimal(row["m2m"]) == net * (last - close) * multiplier  # day 2's move alone
        assert row["m2m"] != row["pnl"]
