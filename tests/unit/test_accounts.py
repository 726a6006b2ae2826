"""Broker account use cases and the broker registry, with fakes for every port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from brokers.kite.login import kite_token_expiry
from brokers.registry import AccountBrokers
from trading.errors import BrokerNotConnected, ValidationError
from trading.ids import BrokerOrderId, OwnerId
from trading.model.account import AccountStatus, AppCredentials, BrokerAccount, BrokerName, Session
from trading.ports import AccountPorts
from trading.usecases import accounts

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 09:30 IST
ALICE, BOB = OwnerId("alice"), OwnerId("bob")


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


class MemoryAccounts:
    def __init__(self) -> None:
        self.items: dict[tuple[str, BrokerName], BrokerAccount] = {}
        self.puts = 0

    def get(self, owner: OwnerId, broker: BrokerName) -> BrokerAccount | None:
        return self.items.get((owner, broker))

    def put(self, account: BrokerAccount) -> None:
        self.puts += 1
        self.items[(account.owner, account.broker)] = account

    def list(self, owner: OwnerId) -> list[BrokerAccount]:
        return [a for (o, _), a in sorted(self.items.items()) if o == owner]


class MemorySecrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def put(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


class FakeLogin:
    def __init__(self) -> None:
        self.opened: list[tuple[str, str, AppCredentials]] = []

    def login_url(self, api_key: str) -> str:
        return f"https://broker.example/login?api_key={api_key}"

    def open_session(self, owner: OwnerId, request_token: str, app: AppCredentials, user_id: str | None) -> Session:
        self.opened.append((owner, request_token, app))
        return Session(f"AB{owner}", f"access-{request_token}", kite_token_expiry(NOW))


class Forgetful:
    def __init__(self) -> None:
        self.forgotten: list[tuple[str, str]] = []

    def forget(self, owner: OwnerId, broker: str) -> None:
        self.forgotten.append((owner, broker))


def ports(apps: dict[BrokerName, AppCredentials] | None = None, clock: Clock | None = None) -> AccountPorts:
    return AccountPorts(
        accounts=MemoryAccounts(),
        secrets=MemorySecrets(),
        logins={BrokerName.KITE: FakeLogin()},
        apps=apps if apps is not None else {BrokerName.KITE: AppCredentials("desk-app", "desk-secret")},
        sessions=Forgetful(),
        clock=clock or Clock(),
    )


def test_kite_tokens_expire_at_the_next_six_in_the_morning_ist() -> None:
    assert kite_token_expiry(NOW) == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    early = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 05:30 IST: today's 06:00 is still ahead
    assert kite_token_expiry(early) == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


def test_a_users_own_app_secret_goes_to_the_secret_store_and_never_into_the_account() -> None:
    # Given
    p = ports()

    # When
    account, url = accounts.connect_broker(p, ALICE, BrokerName.KITE, "alice-app", "alice-secret")
    done = accounts.complete_broker_login(p, ALICE, BrokerName.KITE, "req-1")

    # Then
    assert url == "https://broker.example/login?api_key=alice-app"
    assert (account.status, account.reason) == (AccountStatus.DISCONNECTED, "login not completed yet")
    assert p.secrets.get("/alice/kite/api_secret") == "alice-secret"  # type: ignore[attr-defined]
    assert p.secrets.get("/alice/kite/access_token") == "access-req-1"  # type: ignore[attr-defined]
    login = p.logins[BrokerName.KITE]
    assert login.opened == [(ALICE, "req-1", AppCredentials("alice-app", "alice-secret"))]  # type: ignore[attr-defined]
    assert (done.status, done.broker_user_id, done.api_key) == (AccountStatus.CONNECTED, "ABalice", "alice-app")
    assert "alice-secret" not in repr(done)
    assert "access-req-1" not in repr(done)
    assert p.sessions.forgotten == [(ALICE, "kite")]  # type: ignore[attr-defined]


def test_without_an_app_the_deployments_is_used_and_a_lone_key_is_refused() -> None:
    p = ports()
    _, url = accounts.connect_broker(p, ALICE, BrokerName.KITE)
    assert url.endswith("api_key=desk-app")
    with pytest.raises(ValidationError, match="give both apiKey and apiSecret"):
        accounts.connect_broker(p, BOB, BrokerName.KITE, "bob-app", None)
    assert p.accounts.get(BOB, BrokerName.KITE) is None

    bare = ports(apps={})
    with pytest.raises(ValidationError, match="needs your app's apiKey and apiSecret"):
        accounts.connect_broker(bare, ALICE, BrokerName.KITE)
    with pytest.raises(ValidationError, match="cannot be connected on this deployment; choose one of KITE"):
        accounts.connect_broker(bare, ALICE, BrokerName.ANGEL)


def test_a_connected_account_past_its_token_expiry_reads_expired() -> None:
    clock = Clock()
    p = ports(clock=clock)
    accounts.complete_broker_login(p, ALICE, BrokerName.KITE, "req")
    assert [a.status for a in accounts.broker_accounts(p, ALICE)] == [AccountStatus.CONNECTED]

    clock.moment = NOW + timedelta(days=1)

    assert [a.status for a in accounts.broker_accounts(p, ALICE)] == [AccountStatus.EXPIRED]
    assert accounts.broker_accounts(p, BOB) == []


def test_a_refusal_is_recorded_once_with_its_reason_and_disconnect_removes_the_secrets() -> None:
    p = ports()
    accounts.connect_broker(p, ALICE, BrokerName.KITE, "alice-app", "alice-secret")
    accounts.complete_broker_login(p, ALICE, BrokerName.KITE, "req")
    puts = p.accounts.puts  # type: ignore[attr-defined]

    accounts.mark_disconnected(p, ALICE, BrokerName.KITE, "kite session expired or invalid")
    accounts.mark_disconnected(p, ALICE, BrokerName.KITE, "kite session expired or invalid")

    [account] = accounts.broker_accounts(p, ALICE)
    assert (account.status, account.reason) == (AccountStatus.DISCONNECTED, "kite session expired or invalid")
    assert p.accounts.puts == puts + 1  # type: ignore[attr-defined]

    accounts.disconnect_broker(p, ALICE, BrokerName.KITE)
    assert p.secrets.get("/alice/kite/access_token") is None  # type: ignore[attr-defined]
    assert p.secrets.get("/alice/kite/api_secret") is None  # type: ignore[attr-defined]
    with pytest.raises(BrokerNotConnected):
        accounts.disconnect_broker(p, BOB, BrokerName.KITE)


class RefusingBroker:
    name = "kite"

    def __init__(self) -> None:
        self.calls = 0

    def place_order(self, request: Any) -> BrokerOrderId:
        self.calls += 1
        raise BrokerNotConnected("kite session expired or invalid; reconnect the broker account")

    def cancel_order(self, broker_order_id: Any, variety: Any) -> None:
        raise NotImplementedError

    def order_update(self, broker_order_id: Any) -> Any:
        raise NotImplementedError

    def order_fills(self, order: Any) -> list[Any]:
        raise NotImplementedError


def test_the_registry_builds_each_owners_session_once_and_reports_refusals() -> None:
    # Given
    secrets = MemorySecrets()
    secrets.put("/alice/kite/access_token", "tok")
    built: list[tuple[str, str | None]] = []
    inner = RefusingBroker()

    def factory(owner: OwnerId, read: Any) -> RefusingBroker | None:
        built.append((owner, read("access_token")))
        return inner if read("access_token") else None

    registry = AccountBrokers({"kite": factory}, secrets, default="kite")
    refusals: list[tuple[str, str, str]] = []
    registry.on_refused(lambda owner, broker, reason: refusals.append((owner, broker, reason)))

    # When / Then: one session per owner, a clear refusal for whoever has none
    assert registry.for_owner(ALICE) is registry.for_owner(ALICE, "KITE")
    assert built == [(ALICE, "tok")]
    with pytest.raises(BrokerNotConnected, match="your KITE account is not connected"):
        registry.for_owner(BOB)
    with pytest.raises(BrokerNotConnected, match="ANGEL is not available on this deployment"):
        registry.for_owner(ALICE, "angel")

    # When the broker refuses the session
    with pytest.raises(BrokerNotConnected, match="reconnect it with connectBroker") as refused:
        registry.for_owner(ALICE).place_order(None)

    # Then the accounts side hears it, the cache is dropped, and the token never shows
    assert refusals == [(ALICE, "kite", "kite session expired or invalid; reconnect the broker account")]
    assert "tok" not in refused.value.message
    registry.for_owner(ALICE)
    assert len(built) == 3  # rebuilt after the refusal (BOB's attempt was the second)
