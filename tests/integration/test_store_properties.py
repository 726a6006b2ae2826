"""The store's `record_fill` against moto, under generated fill sequences: what it holds is the reference's.

A smaller property than the unit one (each arrival is a GetItem and a TransactWriteItems): the same
hypothesis sequences (reordered, replayed, flipping through zero) applied with `apply_fill`, the
production use case, and the stored position read back after every arrival.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given

from tests.pnl_reference import Sequence, deterministic, disagreements, reference_of, sequences
from trading.ids import BasketId, ClientRequestId, OrderId, new_id
from trading.usecases.orders import apply_fill

if TYPE_CHECKING:
    from store import DynamoStore
    from trading.model import Fill

STORED_SEQUENCES = 40


@deterministic(STORED_SEQUENCES, HealthCheck.function_scoped_fixture)  # a fresh basket per example
@given(sequence=sequences())
def test_every_arrival_is_stored_as_the_reference_walks_it(store: DynamoStore, sequence: Sequence) -> None:
    # Given the sequence's orders in a basket of their own (the table outlives one example)
    basket = BasketId(new_id())
    ids = {o: OrderId(new_id()) for o in sequence.orders}
    orders = {
        o: replace(order, id=ids[o], basket_id=basket, client_request_id=ClientRequestId(new_id()))
        for o, order in sequence.orders.items()
    }
    store.orders.add_all(list(orders.values()))
    arrived: dict[tuple[OrderId, str], Fill] = {}
    for original, mark in zip(sequence.arrivals, sequence.marks, strict=True):
        fill = replace(original, order_id=ids[original.order_id])
        order = orders[original.order_id]
        # When each arrives through the use case (perhaps again, perhaps early)
        recorded = apply_fill(store, replace(order), fill)
        assert recorded == ((fill.order_id, fill.trade_id) not in arrived)
        arrived[(fill.order_id, fill.trade_id)] = fill
        # Then the stored position is the reference's walk of the fills so far, once each
        stored = store.orders.position(order)
        assert disagreements(stored, reference_of(list(arrived.values()), sequence.multiplier), mark) == []
    for o, order in orders.items():
        held = store.orders.get(order.owner, order.id)
        assert held.filled_quantity == sum(f.quantity for f in sequence.fills if f.order_id == o)
