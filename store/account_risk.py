"""`trading.ports.AccountRiskBook` over the single table: one item per account, read with GetItem, written with
conditional UpdateItems (a versioned save of limits and lock; the day's order count taken with its own condition)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store.errors import translated
from store.items.account_risk import ITEM_TYPE, account_risk_key, account_risk_of, risk_values
from store.items.attributes import timestamp, typed
from trading.errors import Conflict
from trading.model.account_risk import AccountRisk

if TYPE_CHECKING:
    from datetime import date, datetime

    from mypy_boto3_dynamodb import DynamoDBClient

    from trading.ids import OwnerId

UNLOCKED = "(attribute_not_exists(#haltUntil) OR #haltUntil <= :now)"


class DynamoAccountRisk:
    """The account-risk repository: GetItem, and UpdateItem with a condition for every write."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, owner: OwnerId, broker: str) -> AccountRisk:
        with translated():
            reply = self._client.get_item(
                TableName=self._table, Key=account_risk_key(owner, broker), ConsistentRead=True
            )
        item = reply.get("Item")
        return AccountRisk(owner, broker) if item is None else account_risk_of(item)

    def save(self, risk: AccountRisk, expected_version: int) -> None:
        values = risk_values(risk)
        names: dict[str, str] = {"#version": "version"}
        sets, removes, typed_values = ["#version = :next"], [], {":next": typed(expected_version + 1)}
        for index, (name, value) in enumerate(values.items()):
            names[f"#a{index}"] = name
            if value is None:
                removes.append(f"#a{index}")
            else:
                sets.append(f"#a{index} = :v{index}")
                typed_values[f":v{index}"] = typed(value)
        if expected_version:
            condition = "#version = :expected"
            typed_values[":expected"] = typed(expected_version)
        else:
            condition = "attribute_not_exists(#version)"
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        with translated(f"your {risk.broker.upper()} account's limits changed meanwhile; re-read them and retry"):
            self._client.update_item(
                TableName=self._table,
                Key=account_risk_key(risk.owner, risk.broker),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=typed_values,
            )

    def reserve_orders(
        self, owner: OwnerId, broker: str, day: date, count: int, cap: int | None, now: datetime
    ) -> bool:
        names = {"#haltUntil": "haltUntil", "#day": "ordersDay", "#count": "ordersToday"}
        shared: dict[str, Any] = {":now": typed(timestamp(now)), ":day": typed(day.isoformat()), ":n": typed(count)}
        same_day = f"#day = :day AND {UNLOCKED}"
        values = dict(shared)
        if cap is not None:
            same_day += " AND #count <= :room"
            values[":room"] = typed(cap - count)
        attempts: list[tuple[str, str, dict[str, Any]]] = [
            ("SET #count = #count + :n", same_day, values),
            (  # the first order of the day (or ever): the count starts again
                "SET #day = :day, #count = :n, #type = :type, #owner = :owner, #broker = :broker",
                f"(attribute_not_exists(#day) OR #day <> :day) AND {UNLOCKED}",
                {**shared, ":type": typed(ITEM_TYPE), ":owner": typed(owner), ":broker": typed(broker)},
            ),
        ]
        for update, condition, expression_values in attempts:
            extra = {"#type": "type", "#owner": "owner", "#broker": "broker"} if "#type" in update else {}
            try:
                with translated():
                    self._client.update_item(
                        TableName=self._table,
                        Key=account_risk_key(owner, broker),
                        UpdateExpression=update,
                        ConditionExpression=condition,
                        ExpressionAttributeNames={**names, **extra},
                        ExpressionAttributeValues=expression_values,
                    )
                return True
            except Conflict:
                continue
        return False
