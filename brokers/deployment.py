"""The brokers a deployment offers, composed from the environment (used by the entrypoints' bootstrap).

BROKER (kite|paper) names the default broker: `kite` on AWS, `paper` in the local stack.
KITE_API_KEY, KITE_ROOT: the deployment's Kite app (locally: the paper exchange); its API secret is
KITE_API_SECRET, or on AWS the SSM SecureString named by KITE_API_SECRET_PARAMETER (never in the template).
PAPER_ROOT: a paper exchange besides Kite (optional). ANGEL_API_KEY, ANGEL_ROOT; SHOONYA_ROOT,
SHOONYA_WEBSOCKET: Angel One and Shoonya endpoints (available on AWS, or wherever their root is set).
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

from brokers.kite.accounts import KiteLogin
from brokers.kite.broker import KITE_ROOT, KiteBroker
from brokers.registry import AccountBrokers
from brokers.secrets import SsmSecretStore
from trading.model.account import AppCredentials, BrokerName
from trading.ports import AccountPorts

if TYPE_CHECKING:
    from collections.abc import Callable

    from trading.ids import OwnerId
    from trading.ports import Broker, BrokerAccounts, BrokerLogin, Clock, Instruments, Secrets

    SecretReader = Callable[[str], str | None]


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


# A rotated secret is picked up within this many seconds by every warm Lambda instance.
SECRET_TTL_SECONDS = 300.0
_secrets_read: dict[str, tuple[float, str | None]] = {}
_secrets_lock = threading.Lock()


def kite_api_secret() -> str | None:
    """The deployment's Kite app secret: `KITE_API_SECRET`, else the SSM SecureString that
    `KITE_API_SECRET_PARAMETER` names (read with decryption, kept for `SECRET_TTL_SECONDS`); None if neither.

    Raises
    ------
    botocore.exceptions.ClientError
        SSM refused the read (no such parameter, no permission): the caller fails rather than guess.
    """
    direct = _env("KITE_API_SECRET")
    if direct:
        return direct
    name = _env("KITE_API_SECRET_PARAMETER")
    if not name:
        return None
    with _secrets_lock:
        cached = _secrets_read.get(name)
        if cached is not None and time.monotonic() - cached[0] < SECRET_TTL_SECONDS:
            return cached[1]
    import boto3

    value = SsmSecretStore(boto3.client("ssm"), prefix="").require(name) or None
    with _secrets_lock:
        _secrets_read[name] = (time.monotonic(), value)
    return value


def forget_secrets() -> None:
    """Read the secrets afresh on next use (tests; a rotation that cannot wait)."""
    with _secrets_lock:
        _secrets_read.clear()


def default_broker() -> str:
    return (_env("BROKER") or "kite").lower()


def _roots() -> dict[str, str]:
    """Adapter name -> API root, for every broker this deployment offers."""
    default = default_broker()
    roots: dict[str, str] = {}
    if default == "paper" or _env("PAPER_ROOT"):
        roots["paper"] = _env("PAPER_ROOT") or _env("KITE_ROOT") or ""
    if default == "kite":
        roots["kite"] = _env("KITE_ROOT") or KITE_ROOT
    if default == "kite" or _env("ANGEL_ROOT"):
        roots["angel"] = _env("ANGEL_ROOT") or ""
    if default == "kite" or _env("SHOONYA_ROOT"):
        roots["shoonya"] = _env("SHOONYA_ROOT") or ""
    return roots


def account_brokers(secrets: Secrets, instruments: Instruments, clock: Clock) -> AccountBrokers:
    """Every offered broker's adapter factory, over the owner's secrets."""
    roots = _roots()

    def kite(name: str) -> Callable[[OwnerId, SecretReader], Broker | None]:
        def build(owner: OwnerId, read: SecretReader) -> Broker | None:
            token = read("access_token")
            if not token:
                return None
            api_key = read("api_key") or _env("KITE_API_KEY") or ""
            # one order limiter per user account, kept across reconnects (a new token is the same account)
            return KiteBroker(api_key, token, root=roots[name] or None, name=name, account=f"{name}:{owner}")

        return build

    def angel(owner: OwnerId, read: SecretReader) -> Broker | None:
        from brokers.smartapi.broker import SmartApiBroker

        token = read("access_token")
        if not token:
            return None
        api_key = read("api_key") or _env("ANGEL_API_KEY") or ""
        return SmartApiBroker(api_key, token, instruments, root=roots["angel"] or None, clock=clock)

    def shoonya(owner: OwnerId, read: SecretReader) -> Broker | None:
        from brokers.shoonya.broker import ShoonyaBroker

        token, user_id = read("access_token"), read("user_id")
        if not token or not user_id:
            return None
        return ShoonyaBroker(
            user_id, token, instruments, root=roots["shoonya"] or None, websocket=_env("SHOONYA_WEBSOCKET")
        )

    factories: dict[str, Callable[[OwnerId, SecretReader], Broker | None]] = {}
    for name in roots:
        factories[name] = kite(name) if name in ("kite", "paper") else angel if name == "angel" else shoonya
    return AccountBrokers(factories, secrets, default_broker())


def logins(clock: Clock) -> dict[BrokerName, BrokerLogin]:
    """The login flows of the offered brokers (Shoonya sessions are not opened through the API yet)."""
    roots = _roots()
    offered: dict[BrokerName, BrokerLogin] = {}
    if "kite" in roots:
        offered[BrokerName.KITE] = KiteLogin(roots["kite"], clock=clock)
    if "paper" in roots:
        offered[BrokerName.PAPER] = KiteLogin(roots["paper"], paper=True, clock=clock)
    if "angel" in roots:
        from brokers.smartapi.accounts import AngelLogin

        offered[BrokerName.ANGEL] = AngelLogin(roots["angel"] or None)
    return offered


def apps() -> dict[BrokerName, AppCredentials]:
    """The deployment's own broker apps; a user may bring their own at connectBroker instead."""
    found: dict[BrokerName, AppCredentials] = {}
    kite_key = _env("KITE_API_KEY")
    if kite_key:
        app = AppCredentials(kite_key, kite_api_secret())
        roots = _roots()
        for name, broker in (("kite", BrokerName.KITE), ("paper", BrokerName.PAPER)):
            if name in roots:
                found[broker] = app
    angel_key = _env("ANGEL_API_KEY")
    if angel_key:
        found[BrokerName.ANGEL] = AppCredentials(angel_key, None)
    return found


def account_ports(accounts: BrokerAccounts, secrets: Secrets, brokers: AccountBrokers, clock: Clock) -> AccountPorts:
    return AccountPorts(
        accounts=accounts, secrets=secrets, logins=logins(clock), apps=apps(), sessions=brokers, clock=clock
    )
