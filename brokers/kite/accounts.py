"""Per-user Kite sessions: the Kite login flow, access tokens in a secret store, one `KiteBroker` per owner.

Access tokens are kept in a `trading.ports.Secrets` store (`brokers.secrets.SsmSecretStore` in production).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kiteconnect import KiteConnect

from brokers.kite.broker import DEFAULT_TIMEOUT, KITE_ROOT, KiteBroker, kite_errors_mapped
from brokers.kite.login import kite_token_expiry
from trading.clock import SystemClock
from trading.errors import BrokerNotConnected, BrokerRejected, ValidationError
from trading.ids import OwnerId
from trading.model.account import Session, secret_name

if TYPE_CHECKING:
    from trading.model.account import AppCredentials
    from trading.ports import Clock, Secrets

KITE_LOGIN_ROOT = "https://kite.zerodha.com"


def access_token_name(owner: str, broker: str) -> str:
    """Where a user's access token for a broker is kept, relative to the secrets prefix."""
    return secret_name(OwnerId(owner), broker, "access_token")


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
        secrets: Secrets,
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
    secrets: Secrets,
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
