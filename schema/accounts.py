"""Broker account types. Secrets never appear here: no token, no API secret, no request token."""

from __future__ import annotations

import strawberry

from schema.aws import AWSDateTime
from trading.model import account

strawberry.enum(
    account.BrokerName,
    description="KITE (Zerodha Kite Connect), ANGEL (Angel One SmartAPI), SHOONYA (Finvasia), "
    "PAPER (the paper exchange)",
)
strawberry.enum(
    account.AccountStatus,
    description="CONNECTED; EXPIRED once the token passed its expiry (Kite: 06:00 IST next day); "
    "DISCONNECTED after disconnectBroker or when the broker refused the session (see statusReason)",
)


@strawberry.type(description="A broker account of the caller; its secrets stay in the secret store")
class BrokerAccount:
    broker: account.BrokerName
    status: account.AccountStatus
    status_reason: str | None = strawberry.field(description="Why it is not CONNECTED, when it is not")
    broker_user_id: str | None = strawberry.field(description="Your user id at the broker")
    token_expires_at: AWSDateTime | None = strawberry.field(description="When the session token stops working")
    connected_at: AWSDateTime | None
    updated_at: AWSDateTime


@strawberry.type(
    description="Open `loginUrl`, sign in, then pass what the broker redirects with to completeBrokerLogin"
)
class BrokerLogin:
    account: BrokerAccount
    login_url: str
