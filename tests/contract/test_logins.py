"""Broker login flows over loopback HTTP: Kite's session exchange (against the paper exchange, with the
official kiteconnect client) and Angel One's publisher-login token (against recorded responses)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from brokers.kite.accounts import KiteLogin
from brokers.smartapi.accounts import AngelLogin
from tests.contract.venues import CE, TODAY, AngelVenue, FixedClock
from trading.errors import BrokerRejected, ValidationError
from trading.ids import OwnerId
from trading.model.account import AppCredentials

OWNER = OwnerId("3f0c9a1e-owner")


@pytest.fixture
def paper_root() -> object:
    from brokers.paper.exchange import PaperExchange
    from brokers.paper.http import PaperExchangeServer

    exchange = PaperExchange([CE], {CE.ref: Decimal("318.65")}, api_key="desk-app", api_secret="desk-secret")
    with PaperExchangeServer(exchange) as server:
        yield server.base_url
    exchange.close()


def test_kites_login_url_and_session_exchange(paper_root: str) -> None:
    # Given Kite's flow pointed at a Kite-compatible API
    login = KiteLogin(paper_root, clock=FixedClock(TODAY))

    # When
    url = login.login_url("desk-app")
    session = login.open_session(OWNER, "paper-AB1234", AppCredentials("desk-app", "desk-secret"), None)

    # Then: Kite's own login page, a working token, expiring at 06:00 IST tomorrow
    assert url == "https://kite.zerodha.com/connect/login?v=3&api_key=desk-app"
    assert session.user_id == "AB1234"
    assert len(session.access_token) >= 16
    assert session.expires_at == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)


def test_kite_refuses_a_wrong_secret_or_token_as_a_rejection(paper_root: str) -> None:
    login = KiteLogin(paper_root)
    with pytest.raises(BrokerRejected, match="refused the request token"):
        login.open_session(OWNER, "paper-AB1234", AppCredentials("desk-app", "not-the-secret"), None)
    with pytest.raises(BrokerRejected, match="refused the request token"):
        login.open_session(OWNER, "not-a-token", AppCredentials("desk-app", "desk-secret"), None)
    with pytest.raises(ValidationError, match="no API secret"):
        login.open_session(OWNER, "paper-AB1234", AppCredentials("desk-app", None), None)


def test_a_paper_login_opens_only_the_callers_own_account(paper_root: str) -> None:
    login = KiteLogin(paper_root, paper=True)
    assert login.login_url("desk-app") == f"{paper_root}/connect/login?v=3&api_key=desk-app"
    page = requests.get(login.login_url("desk-app"), timeout=5)
    assert page.status_code == 200
    assert 'requestToken: "paper-<your me.id>"' in page.text
    assert requests.get(login.login_url("another-app"), timeout=5).status_code == 400
    app = AppCredentials("desk-app", "desk-secret")
    assert login.open_session(OWNER, f"paper-{OWNER}", app, None).user_id == OWNER
    with pytest.raises(ValidationError, match="another user's is refused"):
        login.open_session(OWNER, "paper-someone-else", app, None)


def jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS512'})}.{part(claims)}.signature"


def test_angels_auth_token_is_checked_with_angel_and_read_for_client_code_and_expiry() -> None:
    # Given Angel's recorded API, honouring one session token
    venue = AngelVenue()
    try:
        token = jwt({"username": "A123456", "exp": 1795500000})
        venue.TOKEN = token
        login = AngelLogin(venue.broker.client.root)

        # When the user hands back the auth_token of Angel's publisher login
        session = login.open_session(OWNER, token, AppCredentials("angel-app", None), None)

        # Then
        assert login.login_url("angel-app") == "https://smartapi.angelone.in/publisher-login?api_key=angel-app"
        assert (session.user_id, session.access_token) == ("A123456", token)
        assert session.expires_at == datetime.fromtimestamp(1795500000, UTC)
        # and a token Angel refuses is a rejection
        with pytest.raises(BrokerRejected, match="refused the auth_token"):
            login.open_session(OWNER, jwt({"username": "A123456"}), AppCredentials("angel-app", None), None)
    finally:
        venue.close()
