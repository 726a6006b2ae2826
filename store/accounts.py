"""`trading.ports.BrokerAccounts` over the single table: one metadata item per (owner, broker), no secrets.

Key: PK `ACCOUNT#{owner}`, SK `BROKER#{broker}`, so a user's accounts are one Query of one partition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store.errors import translated
from store.items.attributes import deserialize, parse_timestamp, serialize, timestamp, typed
from trading.ids import OwnerId
from trading.model.account import AccountStatus, BrokerAccount, BrokerName

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEM_TYPE = "BrokerAccount"
SK_PREFIX = "BROKER#"


def account_partition(owner: str) -> str:
    return f"ACCOUNT#{owner}"


def account_key(owner: str, broker: BrokerName) -> dict[str, Any]:
    return serialize({"PK": account_partition(owner), "SK": f"{SK_PREFIX}{broker.value}"})


def _time(value: Any) -> Any:
    return None if value is None else timestamp(value)


def account_item(account: BrokerAccount) -> dict[str, Any]:
    values = {
        "PK": account_partition(account.owner),
        "SK": f"{SK_PREFIX}{account.broker.value}",
        "type": ITEM_TYPE,
        "owner": account.owner,
        "broker": account.broker.value,
        "status": account.status.value,
        "brokerUserId": account.broker_user_id,
        "apiKey": account.api_key,
        "tokenExpiresAt": _time(account.token_expires_at),
        "connectedAt": _time(account.connected_at),
        "updatedAt": timestamp(account.updated_at),
        "reason": account.reason,
    }
    return serialize(values)


def account_of(item: dict[str, Any]) -> BrokerAccount:
    values = deserialize(item)

    def when(name: str) -> Any:
        return None if values.get(name) is None else parse_timestamp(values[name])

    return BrokerAccount(
        owner=OwnerId(values["owner"]),
        broker=BrokerName(values["broker"]),
        status=AccountStatus(values["status"]),
        updated_at=parse_timestamp(values["updatedAt"]),
        broker_user_id=values.get("brokerUserId"),
        api_key=values.get("apiKey"),
        token_expires_at=when("tokenExpiresAt"),
        connected_at=when("connectedAt"),
        reason=values.get("reason"),
    )


class DynamoBrokerAccounts:
    """The accounts repository: GetItem, PutItem, and one Query per listing."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, owner: OwnerId, broker: BrokerName) -> BrokerAccount | None:
        with translated():
            reply = self._client.get_item(TableName=self._table, Key=account_key(owner, broker), ConsistentRead=True)
        item = reply.get("Item")
        return None if item is None else account_of(item)

    def put(self, account: BrokerAccount) -> None:
        with translated():
            self._client.put_item(TableName=self._table, Item=account_item(account))

    def list(self, owner: OwnerId) -> list[BrokerAccount]:
        with translated():
            reply = self._client.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :broker)",
                ExpressionAttributeValues={
                    ":pk": typed(account_partition(owner)),
                    ":broker": typed(SK_PREFIX),
                },
                ConsistentRead=True,
            )
        return sorted((account_of(i) for i in reply.get("Items", [])), key=lambda a: a.broker.value)
