"""Per-user Kite sessions: access tokens in a secret store, one `KiteBroker` per owner and process."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from kiteconnect import KiteConnect

from brokers.kite.broker import DEFAULT_TIMEOUT, KITE_ROOT, KiteBroker, kite_errors_mapped
from trading.errors import BrokerNotConnected

if TYPE_CHECKING:
    from trading.ids import OwnerId


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...
    def put(self, name: str, value: str) -> None: ...


def access_token_name(owner: str, broker: str) -> str:
    """Where a user's access token for a broker is kept."""
    return f"/basketgraph/{owner}/{broker}/access_token"


class SsmSecretStore:
    """Secrets as SSM Parameter Store SecureStrings (the local stack points the client at its own SSM)."""

    def __init__(self, ssm_client: Any, prefix: str = "") -> None:
        self._ssm = ssm_client
        self._prefix = prefix.rstrip("/")

    def get(self, name: str) -> str | None:
        try:
            reply = self._ssm.get_parameter(Name=self._prefix + name, WithDecryption=True)
        except self._ssm.exceptions.ParameterNotFound:
            return None
        value: str = reply["Parameter"]["Value"]
        return value

    def put(self, name: str, value: str) -> None:
        self._ssm.put_parameter(Name=self._prefix + name, Value=value, Type="SecureString", Overwrite=True)


class KiteBrokers:
    """Each owner's `KiteBroker`, built from the access token in the secret store and cached per process."""

    def __init__(
        self,
        *,
        api_key: str,
        secrets: SecretStore,
        root: str | None = None,
        name: str = "kite",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.api_key = api_key
        self.root = root or KITE_ROOT
        self.name = name
        self.timeout = timeout
        self._secrets = secrets
        self._brokers: dict[str, KiteBroker] = {}
        self._lock = threading.Lock()

    def for_owner(self, owner: OwnerId) -> KiteBroker:
        """The owner's broker session.

        Raises
        ------
        BrokerNotConnected
            The owner has never connected this broker account.
        """
        with self._lock:
            cached = self._brokers.get(owner)
        if cached is not None:
            return cached
        token = self._secrets.get(access_token_name(owner, self.name))
        if not token:
            raise BrokerNotConnected(f"no {self.name} session for this user; connect the broker account")
        broker = KiteBroker(self.api_key, token, root=self.root, timeout=self.timeout, name=self.name)
        with self._lock:
            return self._brokers.setdefault(owner, broker)

    def forget(self, owner: OwnerId) -> None:
        """Drop the cached session (after the owner reconnects, or when the token expired)."""
        with self._lock:
            self._brokers.pop(owner, None)


def connect_paper_account(
    secrets: SecretStore,
    owner: OwnerId,
    *,
    root: str,
    api_key: str,
    api_secret: str,
    broker: str = "paper",
    brokers: KiteBrokers | None = None,
) -> str:
    """Open a paper exchange session for `owner` by Kite's own flow and store its access token.

    The paper exchange accepts the request token `paper-{user_id}`; the owner's id is the user id.
    Returns the paper exchange's user id.

    Raises
    ------
    BrokerRejected, BrokerNotConnected, BrokerUnavailable
        The exchange refused the session or could not be reached.
    """
    kite = KiteConnect(api_key, root=root, timeout=DEFAULT_TIMEOUT)
    with kite_errors_mapped(broker):
        session = kite.generate_session(f"paper-{owner}", api_secret=api_secret)
    secrets.put(access_token_name(owner, broker), session["access_token"])
    if brokers is not None:
        brokers.forget(owner)
    return str(session["user_id"])
