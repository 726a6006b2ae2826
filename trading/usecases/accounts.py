"""Broker accounts: the use cases that connect a user's broker account, complete its login, and drop it.

An account's metadata (status, the user id at the broker, token expiry) is plain data; its secrets
(access token, API secret) live only behind the `Secrets` port, never in an account.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from trading.errors import BrokerNotConnected, ValidationError
from trading.model.account import AccountStatus, AppCredentials, BrokerAccount, secret_name

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trading.ids import OwnerId
    from trading.model.account import BrokerName
    from trading.ports import BrokerAccounts, BrokerLogin, Clock, Secrets, Sessions

MAX_TOKEN_LENGTH = 2048
MAX_CREDENTIAL_LENGTH = 256


class AccountBookPorts(Protocol):
    @property
    def accounts(self) -> BrokerAccounts: ...
    @property
    def clock(self) -> Clock: ...


class ConnectPorts(AccountBookPorts, Protocol):
    @property
    def secrets(self) -> Secrets: ...
    @property
    def logins(self) -> Mapping[BrokerName, BrokerLogin]: ...
    @property
    def apps(self) -> Mapping[BrokerName, AppCredentials]: ...


class LoginPorts(ConnectPorts, Protocol):
    @property
    def sessions(self) -> Sessions: ...


class DisconnectPorts(AccountBookPorts, Protocol):
    @property
    def secrets(self) -> Secrets: ...
    @property
    def sessions(self) -> Sessions: ...


def _text(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise ValidationError(f"{what} must be 1-{limit} printable characters")
    return value


def _login(ports: ConnectPorts, broker: BrokerName) -> BrokerLogin:
    login = ports.logins.get(broker)
    if login is None:
        supported = ", ".join(sorted(b.value for b in ports.logins))
        raise ValidationError(f"{broker} accounts cannot be connected on this deployment; choose one of {supported}")
    return login


def _app(ports: ConnectPorts, owner: OwnerId, broker: BrokerName, account: BrokerAccount | None) -> AppCredentials:
    """The user's own app when they gave one at connectBroker, else the deployment's."""
    default = ports.apps.get(broker)
    if account is not None and account.api_key and (default is None or account.api_key != default.api_key):
        return AppCredentials(account.api_key, ports.secrets.get(secret_name(owner, broker, "api_secret")))
    if default is None:
        raise ValidationError(f"{broker} needs your app's apiKey and apiSecret; pass them to connectBroker")
    return default


def connect_broker(
    ports: ConnectPorts,
    owner: OwnerId,
    broker: BrokerName,
    api_key: str | None = None,
    api_secret: str | None = None,
) -> tuple[BrokerAccount, str]:
    """Start connecting an account: remember the user's app (its secret in `Secrets`) and return the login URL.

    Raises
    ------
    ValidationError
        The broker cannot be connected here, or only one of apiKey/apiSecret was given.
    """
    login = _login(ports, broker)
    key = _text(api_key, "apiKey", MAX_CREDENTIAL_LENGTH)
    secret = _text(api_secret, "apiSecret", MAX_CREDENTIAL_LENGTH)
    if (key is None) != (secret is None):
        raise ValidationError("give both apiKey and apiSecret (your broker app's), or neither to use this deployment's")
    now = ports.clock.now()
    existing = ports.accounts.get(owner, broker)
    if key is not None and secret is not None:
        ports.secrets.put(secret_name(owner, broker, "api_secret"), secret)
        app = AppCredentials(key, secret)
    else:
        app = _app(ports, owner, broker, existing)
    if existing is None:
        account = BrokerAccount(
            owner, broker, AccountStatus.DISCONNECTED, now, api_key=app.api_key, reason="login not completed yet"
        )
    else:
        account = replace(existing, api_key=app.api_key, updated_at=now)
    ports.accounts.put(account)
    return account, login.login_url(app.api_key)


def complete_broker_login(
    ports: LoginPorts, owner: OwnerId, broker: BrokerName, request_token: str, broker_user_id: str | None = None
) -> BrokerAccount:
    """Exchange the token the broker's login handed back for a session; store it and mark the account CONNECTED.

    Raises
    ------
    ValidationError
        A malformed token, or a broker that cannot be connected here.
    BrokerRejected
        The broker refused the token (used, expired, or another app's).
    """
    login = _login(ports, broker)
    token = _text(request_token, "requestToken", MAX_TOKEN_LENGTH)
    user_id = _text(broker_user_id, "brokerUserId", MAX_CREDENTIAL_LENGTH)
    if token is None:
        raise ValidationError("requestToken is required")
    existing = ports.accounts.get(owner, broker)
    app = _app(ports, owner, broker, existing)
    session = login.open_session(owner, token, app, user_id)
    ports.secrets.put(secret_name(owner, broker, "access_token"), session.access_token)
    ports.secrets.put(secret_name(owner, broker, "user_id"), session.user_id)
    ports.secrets.put(secret_name(owner, broker, "api_key"), app.api_key)
    ports.sessions.forget(owner, broker.key)
    now = ports.clock.now()
    account = BrokerAccount(
        owner=owner,
        broker=broker,
        status=AccountStatus.CONNECTED,
        updated_at=now,
        broker_user_id=session.user_id,
        api_key=app.api_key,
        token_expires_at=session.expires_at,
        connected_at=now,
    )
    ports.accounts.put(account)
    return account


def disconnect_broker(ports: DisconnectPorts, owner: OwnerId, broker: BrokerName) -> BrokerAccount:
    """Drop the session (and the user's app secret); the account stays, DISCONNECTED, for its history.

    Raises
    ------
    BrokerNotConnected
        The user never connected this broker.
    """
    existing = ports.accounts.get(owner, broker)
    if existing is None:
        raise BrokerNotConnected(f"you have no {broker} account to disconnect")
    for what in ("access_token", "api_secret"):
        ports.secrets.delete(secret_name(owner, broker, what))
    ports.sessions.forget(owner, broker.key)
    account = replace(
        existing,
        status=AccountStatus.DISCONNECTED,
        updated_at=ports.clock.now(),
        token_expires_at=None,
        reason="disconnected by you",
    )
    ports.accounts.put(account)
    return account


def mark_disconnected(ports: AccountBookPorts, owner: OwnerId, broker: BrokerName, reason: str) -> None:
    """The broker refused the session: record it, with why, so the user sees the account needs reconnecting.

    The dead token is left where it is: every process holding it hears the same refusal from the
    broker (and says to reconnect), until a new login replaces it.
    """
    existing = ports.accounts.get(owner, broker)
    now = ports.clock.now()
    if existing is None:
        existing = BrokerAccount(owner, broker, AccountStatus.DISCONNECTED, now)
    elif existing.status is AccountStatus.DISCONNECTED and existing.reason == reason:
        return  # already recorded by an earlier refusal
    ports.accounts.put(replace(existing, status=AccountStatus.DISCONNECTED, updated_at=now, reason=reason))


def broker_accounts(ports: AccountBookPorts, owner: OwnerId) -> list[BrokerAccount]:
    """The user's accounts, with EXPIRED for a connected one whose token has passed its expiry."""
    now = ports.clock.now()
    return [replace(a, status=a.status_at(now)) for a in ports.accounts.list(owner)]
