"""The brokers a deployment offers, composed from its settings.

`broker` (kite|paper) names the default broker: `kite` on AWS, `paper` in the local stack.
`kite_api_key`, `kite_root`: the deployment's Kite app (locally: the paper exchange); its API secret is
`kite_api_secret`, or on AWS the SSM SecureString named by `kite_api_secret_parameter` (never in the
template). `paper_root`: a paper exchange besides Kite (optional). `angel_api_key`, `angel_root`;
`shoonya_root`, `shoonya_websocket`: Angel One and Shoonya endpoints (on AWS, or wherever their root is set).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from brokers.kite.accounts import KiteLogin
from brokers.kite.broker import KITE_ROOT, KiteBroker
from brokers.registry import AccountBrokers
from brokers.secrets import SsmSecretStore
from trading.model.account import AppCredentials, BrokerName
from trading.ports import AccountPorts

if TYPE_CHECKING:
    from collections.abc import Callable

    from composition.settings import Settings
    from trading.ids import OwnerId
    from trading.ports import Broker, BrokerAccounts, BrokerLogin, Clock, Instruments, MarkSource, Secrets

    SecretReader = Callable[[str], str | None]


# A rotated secret is picked up within this many seconds by every warm Lambda instance.
SECRET_TTL_SECONDS = 300.0
_secrets_read: dict[str, tuple[float, str | None]] = {}
_secrets_lock = threading.Lock()


def kite_api_secret(settings: Settings, ssm: Any = None) -> str | None:
    """The deployment's Kite app secret: `kite_api_secret`, else the SSM SecureString that
    `kite_api_secret_parameter` names (read with decryption, kept for `SECRET_TTL_SECONDS`); None if neither.

    Raises
    ------
    botocore.exceptions.ClientError
        SSM refused the read (no such parameter, no permission): the caller fails rather than guess.
    """
    if settings.kite_api_secret:
        return settings.kite_api_secret
    name = settings.kite_api_secret_parameter
    if not name:
        return None
    with _secrets_lock:
        cached = _secrets_read.get(name)
        if cached is not None and time.monotonic() - cached[0] < SECRET_TTL_SECONDS:
            return cached[1]
    if ssm is None:
        import boto3

        ssm = boto3.client("ssm")
    value = SsmSecretStore(ssm, prefix="").require(name) or None
    with _secrets_lock:
        _secrets_read[name] = (time.monotonic(), value)
    return value


def forget_secrets() -> None:
    """Read the secrets afresh on next use (tests; a rotation that cannot wait)."""
    with _secrets_lock:
        _secrets_read.clear()


def _roots(settings: Settings) -> dict[str, str]:
    """Adapter name -> API root, for every broker this deployment offers."""
    default = settings.default_broker
    roots: dict[str, str] = {}
    if default == "paper" or settings.paper_root:
        roots["paper"] = settings.paper_root or settings.kite_root or ""
    if default == "kite":
        roots["kite"] = settings.kite_root or KITE_ROOT
    if default == "kite" or settings.angel_root:
        roots["angel"] = settings.angel_root or ""
    if default == "kite" or settings.shoonya_root:
        roots["shoonya"] = settings.shoonya_root or ""
    return roots


def account_brokers(
    settings: Settings, secrets: Secrets, instruments: Instruments, clock: Clock, marks: MarkSource | None = None
) -> AccountBrokers:
    """Every offered broker's adapter factory, over the owner's secrets (`marks` price Angel's and Shoonya's
    protected LIMITs, which stand in for MARKET orders there)."""
    roots = _roots(settings)

    def kite(name: str) -> Callable[[OwnerId, SecretReader], Broker | None]:
        def build(owner: OwnerId, read: SecretReader) -> Broker | None:
            token = read("access_token")
            if not token:
                return None
            api_key = read("api_key") or settings.kite_api_key or ""
            # one order limiter per user account, kept across reconnects (a new token is the same account)
            return KiteBroker(
                api_key,
                token,
                root=roots[name] or None,
                name=name,
                account=f"{name}:{owner}",
                order_rate=settings.kite_order_rate,
            )

        return build

    def angel(owner: OwnerId, read: SecretReader) -> Broker | None:
        from brokers.smartapi.broker import SmartApiBroker

        token = read("access_token")
        if not token:
            return None
        api_key = read("api_key") or settings.angel_api_key or ""
        return SmartApiBroker(api_key, token, instruments, root=roots["angel"] or None, clock=clock, marks=marks)

    def shoonya(owner: OwnerId, read: SecretReader) -> Broker | None:
        from brokers.shoonya.broker import ShoonyaBroker

        token, user_id = read("access_token"), read("user_id")
        if not token or not user_id:
            return None
        return ShoonyaBroker(
            user_id,
            token,
            instruments,
            root=roots["shoonya"] or None,
            websocket=settings.shoonya_websocket,
            marks=marks,
        )

    factories: dict[str, Callable[[OwnerId, SecretReader], Broker | None]] = {}
    for name in roots:
        factories[name] = kite(name) if name in ("kite", "paper") else angel if name == "angel" else shoonya
    return AccountBrokers(factories, secrets, settings.default_broker)


def logins(settings: Settings, clock: Clock) -> dict[BrokerName, BrokerLogin]:
    """The login flows of the offered brokers (Shoonya sessions are not opened through the API yet)."""
    roots = _roots(settings)
    offered: dict[BrokerName, BrokerLogin] = {}
    if "kite" in roots:
        offered[BrokerName.KITE] = KiteLogin(roots["kite"], clock=clock)
    if "paper" in roots:
        offered[BrokerName.PAPER] = KiteLogin(roots["paper"], paper=True, clock=clock)
    if "angel" in roots:
        from brokers.smartapi.accounts import AngelLogin

        offered[BrokerName.ANGEL] = AngelLogin(roots["angel"] or None)
    return offered


def apps(settings: Settings, ssm: Any = None) -> dict[BrokerName, AppCredentials]:
    """The deployment's own broker apps; a user may bring their own at connectBroker instead."""
    found: dict[BrokerName, AppCredentials] = {}
    kite_key = settings.kite_api_key
    if kite_key:
        app = AppCredentials(kite_key, kite_api_secret(settings, ssm))
        roots = _roots(settings)
        for name, broker in (("kite", BrokerName.KITE), ("paper", BrokerName.PAPER)):
            if name in roots:
                found[broker] = app
    angel_key = settings.angel_api_key
    if angel_key:
        found[BrokerName.ANGEL] = AppCredentials(angel_key, None)
    return found


def account_ports(
    settings: Settings,
    accounts: BrokerAccounts,
    secrets: Secrets,
    brokers: AccountBrokers,
    clock: Clock,
    ssm: Any = None,
) -> AccountPorts:
    return AccountPorts(
        accounts=accounts,
        secrets=secrets,
        logins=logins(settings, clock),
        apps=apps(settings, ssm),
        sessions=brokers,
        clock=clock,
    )
