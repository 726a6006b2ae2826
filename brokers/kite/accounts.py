"""Per-user Kite sessions: the Kite login flow, access tokens in a secret store, one `KiteBroker` per owner.

Secrets are SSM SecureStrings under `{SECRETS_PREFIX}/{sub}/{broker}/...` (default prefix
`/basketgraph/local/brokers`; on AWS `/basketgraph/<stage>/brokers`), encrypted with the KMS key
`SECRETS_KMS_KEY_ID` when one is set.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, Protocol

from kiteconnect import KiteConnect

from brokers.kite.broker import DEFAULT_TIMEOUT, KITE_ROOT, KiteBroker, kite_errors_mapped
from trading.accounts import Session, kite_token_expiry, secret_name
from trading.clock import SystemClock
from trading.errors import BrokerNotConnected, BrokerRejected, ValidationError
from trading.ids import OwnerId

if TYPE_CHECKING:
    from trading.accounts import AppCredentials
    from trading.ports import Clock

DEFAULT_SECRETS_PREFIX = "/basketgraph/local/brokers"
KITE_LOGIN_ROOT = "https://kite.zerodha.com"


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...
    def put(self, name: str, value: str) -> None: ...


def access_token_name(owner: str, broker: str) -> str:
    """Where a user's access token for a broker is kept, relative to the secrets prefix."""
    return secret_name(OwnerId(owner), broker, "access_token")


class SsmSecretStore:
    """Secrets as SSM Parameter Store SecureStrings (the local stack points the client at its own SSM).

    Parameters
    ----------
    prefix
        Prepended to every name (settings' `secrets_prefix`), `/basketgraph/local/brokers` by default.
    kms_key_id
        The KMS key SecureStrings are encrypted with (settings' `secrets_kms_key_id`), else the account's SSM key.
    """

    def __init__(self, ssm_client: Any, prefix: str = DEFAULT_SECRETS_PREFIX, kms_key_id: str | None = None) -> None:
        self._ssm = ssm_client
        self._prefix = prefix.rstrip("/")
        self._kms_key_id = kms_key_id or None

    def name(self, name: str) -> str:
        """The full parameter name of `name`."""
        return self._prefix + name

    def get(self, name: str) -> str | None:
        try:
            reply = self._ssm.get_parameter(Name=self.name(name), WithDecryption=True)
        except self._ssm.exceptions.ParameterNotFound:
            return None
        value: str = reply["Parameter"]["Value"]
        return value

    def put(self, name: str, value: str) -> None:
        extra = {"KeyId": self._kms_key_id} if self._kms_key_id else {}
        self._ssm.put_parameter(Name=self.name(name), Value=value, Type="SecureString", Overwrite=True, **extra)

    def delete(self, name: str) -> None:
        with contextlib.suppress(self._ssm.exceptions.ParameterNotFound):
            self._ssm.delete_parameter(Name=self.name(name))


class KiteLogin:
    """Kite Connect's login flow: the login URL, then `/session/token` for the `request_token` it redirects with.

    With `paper=True` it is the paper exchange's: the login URL is the exchange's own, and a paper
    account is the user's own (its request token is `paper-{sub}`), so nobody opens another's.
    """

    def __init__(
        self,
        root: str | None = None,
        *,
        login_root: str = KITE_LOGIN_ROOT,
        paper: bool = False,
        clock: Clock | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.root = root or KITE_ROOT
        self.login_root = (self.root if paper else login_root).rstrip("/")
        self.paper = paper
        self.name = "paper" if paper else "kite"
        self._clock = clock or SystemClock()
        self._timeout = timeout

    def login_url(self, api_key: str) -> str:
        return f"{self.login_root}/connect/login?v=3&api_key={api_key}"

    def open_session(self, owner: OwnerId, request_token: str, app: AppCredentials, user_id: str | None) -> Session:
        """Exchange the request token; raises BrokerRejected for a refused one, ValidationError without a secret."""
        if self.paper and request_token != f"paper-{owner}":
            raise ValidationError("a paper login's requestToken is paper-<your me.id>; another user's is refused")
        if not app.api_secret:
            raise ValidationError(f"no API secret for {self.name} app {app.api_key}; pass apiKey and apiSecret")
        kite = KiteConnect(app.api_key, root=self.root, timeout=self._timeout)
        try:
            with kite_errors_mapped(self.name):
                session = kite.generate_session(request_token, api_secret=app.api_secret)
        except BrokerNotConnected as exc:
            raise BrokerRejected(f"{self.name} refused the request token; open the login URL again") from exc
        return Session(
            user_id=str(session["user_id"]),
            access_token=str(session["access_token"]),
            expires_at=kite_token_expiry(self._clock.now()),
        )


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

    def for_owner(self, owner: OwnerId, broker: str | None = None) -> KiteBroker:
        """The owner's broker session (`broker`, if given, must be this one's name).

        Raises
        ------
        BrokerNotConnected
            The owner has never connected this broker account, or asked for another broker.
        """
        if broker is not None and broker.lower() != self.name:
            raise BrokerNotConnected(f"{broker.upper()} is not available here; only {self.name.upper()}")
        with self._lock:
            cached = self._brokers.get(owner)
        if cached is not None:
            return cached
        token = self._secrets.get(access_token_name(owner, self.name))
        if not token:
            raise BrokerNotConnected(f"no {self.name} session for this user; connect the broker account")
        session = KiteBroker(self.api_key, token, root=self.root, timeout=self.timeout, name=self.name)
        with self._lock:
            return self._brokers.setdefault(owner, session)

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
