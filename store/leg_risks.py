"""`trading.ports.LegRisks` over the table: one versioned item per leg, in its basket's item collection."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from store.errors import translated
from store.items.attributes import typed
from store.items.keys import basket_partition
from store.items.leg_risk import LEG_RISK_SK_PREFIX, leg_risk_item, leg_risk_key, leg_risk_state_of
from store.table import Table, owned_by
from trading.model import MAX_LEGS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from trading.ids import BasketId, LegId, OwnerId
    from trading.model.leg_risk import LegRiskState


class DynamoLegRisks:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    def get(self, owner: OwnerId, basket_id: BasketId, leg_id: LegId) -> LegRiskState | None:
        """The leg's state (consistent read); None before its first save or when it is another user's."""
        item = self._table.get(leg_risk_key(basket_id, leg_id))
        if item is None or not owned_by(item, owner):
            return None
        return leg_risk_state_of(item)[3]

    def of_basket(self, owner: OwnerId, basket_id: BasketId) -> dict[LegId, LegRiskState]:
        """Every leg's state of the basket (one Query of its collection, by sort-key prefix)."""
        items, _ = self._table.query_page(basket_partition(basket_id), MAX_LEGS, None, sort_prefix=LEG_RISK_SK_PREFIX)
        states = [leg_risk_state_of(i) for i in items if owned_by(i, owner)]
        return {leg: state for _, _, leg, state in states}

    def save(self, owner: OwnerId, basket_id: BasketId, leg_id: LegId, state: LegRiskState) -> LegRiskState:
        """Store the state over its version (a first save: over nothing).

        Raises
        ------
        Conflict
            Another writer saved the leg's state since `state.version` was read.
        """
        saved = replace(state, version=state.version + 1)
        condition = "attribute_not_exists(PK)" if state.version == 0 else "#version = :expected AND #owner = :owner"
        names = {} if state.version == 0 else {"#version": "version", "#owner": "owner"}
        values = {} if state.version == 0 else {":expected": typed(state.version), ":owner": typed(owner)}
        extra = {"ExpressionAttributeNames": names, "ExpressionAttributeValues": values} if names else {}
        with translated(f"leg {leg_id}'s risk state changed since version {state.version}"):
            self._table.client.put_item(
                TableName=self._table.name,
                Item=leg_risk_item(owner, basket_id, leg_id, saved),
                ConditionExpression=condition,
                **extra,  # type: ignore[arg-type]
            )
        return saved
