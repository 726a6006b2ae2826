"""Broker accounts: connect (login URL), complete the login, list, disconnect. Never returns a secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from resolvers import arguments as args
from resolvers.composed import accounts
from resolvers.identity import caller
from trading.model.account import BrokerName
from trading.usecases import accounts as use_cases

if TYPE_CHECKING:
    from datetime import datetime

    from trading.model.account import BrokerAccount

router = Router()


def _when(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def account_shape(account: BrokerAccount) -> dict[str, Any]:
    return {
        "broker": account.broker.value,
        "status": account.status.value,
        "statusReason": account.reason,
        "brokerUserId": account.broker_user_id,
        "tokenExpiresAt": _when(account.token_expires_at),
        "connectedAt": _when(account.connected_at),
        "updatedAt": _when(account.updated_at),
    }


def _broker(value: Any) -> BrokerName:
    return BrokerName.of(value)


@router.resolver(type_name="Query", field_name="brokerAccounts")
def broker_accounts() -> list[dict[str, Any]]:
    return [account_shape(a) for a in use_cases.broker_accounts(accounts(), caller(router))]


@router.resolver(type_name="Mutation", field_name="connectBroker")
def connect_broker(broker: str, apiKey: str | None = None, apiSecret: str | None = None) -> dict[str, Any]:
    account, url = use_cases.connect_broker(
        accounts(),
        caller(router),
        _broker(broker),
        None if apiKey is None else args.text(apiKey, "apiKey", 256),
        None if apiSecret is None else args.text(apiSecret, "apiSecret", 256),
    )
    return {"account": account_shape(account), "loginUrl": url}


@router.resolver(type_name="Mutation", field_name="completeBrokerLogin")
def complete_broker_login(broker: str, requestToken: str, brokerUserId: str | None = None) -> dict[str, Any]:
    account = use_cases.complete_broker_login(
        accounts(),
        caller(router),
        _broker(broker),
        args.text(requestToken, "requestToken", 2048),
        None if brokerUserId is None else args.text(brokerUserId, "brokerUserId", 256),
    )
    return account_shape(account)


@router.resolver(type_name="Mutation", field_name="disconnectBroker")
def disconnect_broker(broker: str) -> dict[str, Any]:
    return account_shape(use_cases.disconnect_broker(accounts(), caller(router), _broker(broker)))
