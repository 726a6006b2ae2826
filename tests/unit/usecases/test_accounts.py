"""Broker account use cases (trading/usecases/accounts.py), with fakes for every port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brokers.kite.login import kite_token_expiry
from tests.fakes import FakeLogin, FixedClock, MemoryAccounts, MemorySecrets, MemorySessions
from trading.errors import BrokerNotConnected, ValidationError
from trading.ids import OwnerId
from trading.model.account import AccountStatus, AppCredentials, BrokerName
from trading.ports import AccountPorts
from trading.usecases.accounts import (
    broker_accounts,
    complete_broker_login,
    connect_broker,
    disconnect_broker,
    mark_disconnected,
)

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 09:30 IST
ALICE, BOB = OwnerId("alice"), OwnerId("bob")


def ports(apps: dict[BrokerName, AppCredentials] | None = None, clock: FixedClock | None = None) -> AccountPorts:
    clock = clock or FixedClock(NOW)
    return AccountPorts(
        accounts=MemoryAccounts(),
        secrets=MemorySecrets(),
        logins={BrokerName.KITE: FakeLogin(clock)},
        apps=apps if apps is not None else {BrokerName.KITE: AppCredentials("desk-app", "desk-secret")},
        sessions=MemorySessions(),
        clock=clock,
    )


def test_kite_tokens_expire_at_the_next_six_in_the_morning_ist() -> None:
    assert kite_token_expiry(NOW) == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    early = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 05:30 IST: today's 06:00 is still ahead
    assert kite_token_expiry(early) == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


def test_a_users_own_app_secret_goes_to_the_secret_store_and_never_into_the_account() -> None:
    # Given
    p = ports()

    # When
    account, url = connect_broker(p, ALICE, BrokerName.KITE, "alice-app", "alice-secret")
    done = complete_broker_login(p, ALICE, BrokerName.KITE, "req-1")

    # Then
    assert url == "https://broker.example/login?api_key=alice-app"
    assert (account.status, account.reason) == (AccountStatus.DISCONNECTED, "login not completed yet")
    assert p.secrets.get("/alice/kite/api_secret") == "alice-secret"
    assert p.secrets.get("/alice/kite/access_token") == "access-req-1"
    login = p.logins[BrokerName.KITE]
    assert login.opened == [(ALICE, "req-1", AppCredentials("alice-app", "alice-secret"))]  # type: ignore[attr-defined]
    assert (done.status, done.broker_user_id, done.api_key) == (AccountStatus.CONNECTED, "ABalice", "alice-app")
    assert "alice-secret" not in repr(done)
    assert "access-req-1" not in repr(done)
    assert p.sessions.forgotten == [(ALICE, "kite")]  # type: ignore[attr-defined]


def test_without_an_app_the_deployments_is_used_and_a_lone_key_is_refused() -> None:
    p = ports()
    _, url = connect_broker(p, ALICE, BrokerName.KITE)
    assert url.endswith("api_key=desk-app")
    with pytest.raises(ValidationError, match="give both apiKey and apiSecret"):
        connect_broker(p, BOB, BrokerName.KITE, "bob-app", None)
    assert p.accounts.get(BOB, BrokerName.KITE) is None

    bare = ports(apps={})
    with pytest.raises(ValidationError, match="needs your app's apiKey and apiSecret"):
        connect_broker(bare, ALICE, BrokerName.KITE)
    with pytest.raises(ValidationError, match="cannot be connected on this deployment; choose one of KITE"):
        connect_broker(bare, ALICE, BrokerName.ANGEL)


def test_a_connected_account_past_its_token_expiry_reads_expired() -> None:
    clock = FixedClock(NOW)
    p = ports(clock=clock)
    complete_broker_login(p, ALICE, BrokerName.KITE, "req")
    assert [a.status for a in broker_accounts(p, ALICE)] == [AccountStatus.CONNECTED]

    clock.at = NOW + timedelta(days=1)

    assert [a.status for a in broker_accounts(p, ALICE)] == [AccountStatus.EXPIRED]
    assert broker_accounts(p, BOB) == []


def test_a_refusal_is_recorded_once_with_its_reason_and_disconnect_removes_the_secrets() -> None:
    p = ports()
    connect_broker(p, ALICE, BrokerName.KITE, "alice-app", "alice-secret")
    complete_broker_login(p, ALICE, BrokerName.KITE, "req")
    puts = p.accounts.puts  # type: ignore[attr-defined]

    mark_disconnected(p, ALICE, BrokerName.KITE, "kite session expired or invalid")
    mark_disconnected(p, ALICE, BrokerName.KITE, "kite session expired or invalid")

    [account] = broker_accounts(p, ALICE)
    assert (account.status, account.reason) == (AccountStatus.DISCONNECTED, "kite session expired or invalid")
    assert p.accounts.puts == puts + 1  # type: ignore[attr-defined]

    disconnect_broker(p, ALICE, BrokerName.KITE)
    assert p.secrets.get("/alice/kite/access_token") is None
    assert p.secrets.get("/alice/kite/api_secret") is None
    with pytest.raises(BrokerNotConnected):
        disconnect_broker(p, BOB, BrokerName.KITE)
