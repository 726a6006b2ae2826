"""Kite payloads (Zerodha's own published samples) into domain objects; postback checksums; error mapping."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from kiteconnect import exceptions as kite_errors

from brokers.kite.accounts import KiteBrokers, access_token_name
from brokers.kite.broker import kite_errors_mapped
from brokers.kite.mapping import (
    KITE_STATUSES,
    fill_from_kite,
    instruments_from_csv,
    order_type_from_kite,
    order_type_to_kite,
    order_update_from_kite,
    price_to_kite,
    status_from_kite,
    utc_from_kite,
    variety_from_kite,
    variety_to_kite,
)
from brokers.kite.postback import verify_postback
from brokers.secrets import SsmSecretStore
from trading.errors import (
    BrokerNotConnected,
    BrokerRejected,
    BrokerUnavailable,
    DomainError,
    RateLimited,
    Unauthorized,
    ValidationError,
)
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, OrderId, OwnerId, TradeId
from trading.model import (
    InstrumentRef,
    Order,
    OrderStatus,
    OrderType,
    Product,
    Side,
    Variety,
)

MOCKS = Path(__file__).resolve().parents[2].parent / "shared" / "kite-mocks"
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
SECRET = "s3cret-api-secret"


def load(name: str) -> Any:
    return json.loads((MOCKS / name).read_text())["data"]


def postback_sample() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((MOCKS / "postback.json").read_text())
    return body


def an_order(broker_order_id: str | None, side: Side = Side.BUY) -> Order:
    return Order(
        id=OrderId("o1"),
        owner=OwnerId("alice"),
        basket_id=BasketId("b1"),
        client_request_id=ClientRequestId("r1"),
        broker="kite",
        instrument=InstrumentRef("MCX", "GOLDPETAL21JUNFUT"),
        side=side,
        quantity=1,
        order_type=OrderType.LIMIT,
        product=Product.NRML,
        created_at=NOW,
        updated_at=NOW,
        broker_order_id=BrokerOrderId(broker_order_id) if broker_order_id else None,
    )


def signed(payload: dict[str, Any], secret: str = SECRET) -> bytes:
    digest = hashlib.sha256(f"{payload['order_id']}{payload['order_timestamp']}{secret}".encode())
    return json.dumps({**payload, "checksum": digest.hexdigest()}).encode()


class TestOrderUpdates:
    def test_every_order_book_row_parses(self) -> None:
        # Given Kite's orders.json / When each row is mapped
        updates = [order_update_from_kite(row) for row in load("orders.json")]

        # Then each keeps the broker's id and a known status
        assert [u.broker_order_id for u in updates][:3] == ["100000000000000", "300000000000000", "500000000000000"]
        assert all(u.status in OrderStatus for u in updates)

    def test_a_cancelled_order_has_no_average_and_its_exchange_update_time_in_utc(self) -> None:
        update = order_update_from_kite(load("orders.json")[0])

        assert update.status is OrderStatus.CANCELLED
        assert update.filled_quantity == 0
        assert update.average_price is None
        assert update.tag is None
        # 2021-05-31 09:18:58 IST
        assert update.at == datetime(2021, 5, 31, 3, 48, 58, tzinfo=UTC)

    def test_a_complete_order_keeps_the_exact_average_price(self) -> None:
        rows = load("orders.json")

        ioc = order_update_from_kite(rows[1])
        gold = order_update_from_kite(rows[4])
        option = order_update_from_kite(rows[-1])

        assert (ioc.status, ioc.filled_quantity, ioc.average_price) == (OrderStatus.COMPLETE, 1, Decimal("109.4"))
        assert (gold.tag, gold.average_price) == ("connect test order1", Decimal("4852"))
        assert (option.broker_order_id, option.filled_quantity) == ("1953367517686685697", 150)
        assert option.average_price == Decimal("12.3")

    def test_a_rejected_order_carries_the_brokers_message(self) -> None:
        update = order_update_from_kite(load("orders.json")[3])

        assert update.status is OrderStatus.REJECTED
        assert update.tag == "icebergord"
        assert update.message is not None and update.message.startswith("Insufficient funds.")
        assert update.at == datetime(2022, 5, 24, 6, 56, 52, tzinfo=UTC)  # only order_timestamp is set

    def test_order_history_walks_through_interim_states(self) -> None:
        history = load("order_info.json")

        statuses = [order_update_from_kite(row).status for row in history]

        assert statuses == [OrderStatus.PENDING] * 3 + [OrderStatus.OPEN] + [None] * 3 + [OrderStatus.OPEN]
        assert order_update_from_kite(history[-1]).broker_order_id == "171229000724687"

    def test_history_rows_as_kiteconnect_returns_them_with_naive_datetimes(self) -> None:
        row = {**load("order_info.json")[-1], "order_timestamp": datetime(2017, 12, 29, 11, 8, 16)}  # noqa: DTZ001
        row["exchange_timestamp"] = datetime(2017, 12, 29, 11, 8, 16)  # noqa: DTZ001

        assert order_update_from_kite(row).at == datetime(2017, 12, 29, 5, 38, 16, tzinfo=UTC)

    def test_a_postback_body_parses_like_an_order_row(self) -> None:
        update = order_update_from_kite(postback_sample())

        assert update.broker_order_id == "220303000308932"
        assert update.status is OrderStatus.COMPLETE
        assert (update.filled_quantity, update.average_price) == (1, Decimal("470"))
        assert update.at == datetime(2022, 3, 3, 3, 54, 25, tzinfo=UTC)


class TestStatuses:
    @pytest.mark.parametrize(
        ("kite", "ours"),
        [
            ("OPEN", OrderStatus.OPEN),
            ("COMPLETE", OrderStatus.COMPLETE),
            ("CANCELLED", OrderStatus.CANCELLED),
            ("REJECTED", OrderStatus.REJECTED),
            ("TRIGGER PENDING", OrderStatus.TRIGGER_PENDING),
            ("PUT ORDER REQ RECEIVED", OrderStatus.PENDING),
            ("VALIDATION PENDING", OrderStatus.PENDING),
            ("OPEN PENDING", OrderStatus.PENDING),
            ("AMO REQ RECEIVED", OrderStatus.PENDING),
            ("MODIFY PENDING", None),
            ("MODIFY VALIDATION PENDING", None),
            ("CANCEL PENDING", None),
            ("MODIFIED", None),
            ("UPDATE", None),
        ],
    )
    def test_kite_status_maps(self, kite: str, ours: OrderStatus | None) -> None:
        assert status_from_kite(kite) is ours
        assert KITE_STATUSES[kite] is ours

    def test_an_unknown_status_changes_nothing_and_is_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="brokers.kite.mapping"):
            assert status_from_kite("SOMETHING NEW") is None
        assert "SOMETHING NEW" in caplog.text

    def test_a_modified_trigger_pending_order_stays_trigger_pending(self) -> None:
        # Given a stop-loss order waiting for its trigger
        order = an_order("1")
        order.status = OrderStatus.TRIGGER_PENDING
        # When Kite reports the modification's interim states and the partial-fill UPDATE
        for status in ("MODIFY VALIDATION PENDING", "MODIFY PENDING", "MODIFIED", "UPDATE"):
            order.apply_update(order_update_from_kite({"order_id": "1", "status": status}))
        # Then it is still waiting for its trigger, and its real next state still applies
        assert order.status is OrderStatus.TRIGGER_PENDING
        assert order.apply_update(order_update_from_kite({"order_id": "1", "status": "OPEN"}))
        assert order.status is OrderStatus.OPEN


class TestFills:
    def test_an_order_trade_becomes_a_fill_of_our_order(self) -> None:
        trade = load("order_trades.json")[0]

        fill = fill_from_kite(trade, an_order("200000000000000"))

        assert fill.trade_id == TradeId("10000000")
        assert fill.order_id == OrderId("o1")
        assert (fill.side, fill.quantity, fill.price) == (Side.BUY, 1, Decimal("4852"))
        assert fill.filled_at == datetime(2021, 5, 31, 10, 30, 36, tzinfo=UTC)

    def test_fractional_prices_keep_kites_digits(self) -> None:
        trade = load("trades.json")[1]

        fill = fill_from_kite(trade, an_order("500000000000000"))

        assert fill.price == Decimal("72.755")
        assert fill.filled_at == datetime(2021, 5, 31, 5, 48, 27, tzinfo=UTC)

    def test_kiteconnects_parsed_datetime_is_taken_as_ist(self) -> None:
        trade = {**load("trades.json")[0], "fill_timestamp": datetime(2021, 5, 31, 9, 16, 39)}  # noqa: DTZ001

        fill = fill_from_kite(trade, an_order("200000000000000"))

        assert fill.filled_at == datetime(2021, 5, 31, 3, 46, 39, tzinfo=UTC)
        assert fill.price == Decimal("420.65")

    def test_a_trade_of_another_broker_order_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="not 999"):
            fill_from_kite(load("trades.json")[0], an_order("999"))


class TestInstruments:
    def test_the_all_exchanges_master_parses(self) -> None:
        instruments = instruments_from_csv((MOCKS / "instruments_all.csv").read_text())

        by_symbol = {i.tradingsymbol: i for i in instruments}
        option = by_symbol["BANKNIFTY18JAN23500CE"]
        assert len(instruments) == 99
        assert option.token == 12073986
        assert (option.exchange, option.segment, option.instrument_type) == ("NFO", "NFO-OPT", "CE")
        assert (option.lot_size, option.tick_size) == (40, Decimal("0.05"))
        assert (option.expiry, option.strike) == (date(2018, 1, 25), Decimal("23500.0"))
        assert option.freeze_quantity is None
        assert by_symbol["ADANIPORTS17DEC490PE"].lot_size == 2500

    def test_the_nse_master_parses_equities_without_expiry_or_strike(self) -> None:
        instruments = instruments_from_csv((MOCKS / "instruments_nse.csv").read_text())

        first = instruments[0]
        assert {i.exchange for i in instruments} == {"NSE"}
        assert (first.token, first.tradingsymbol, first.name) == (3813889, "CENTRALBK-BE", "CENTRAL BANK OF INDIA")
        assert (first.lot_size, first.tick_size, first.expiry, first.strike) == (1, Decimal("0.05"), None, None)
        assert first.ref == InstrumentRef("NSE", "CENTRALBK-BE")


class TestEnums:
    @pytest.mark.parametrize(
        ("ours", "kite"),
        [(OrderType.MARKET, "MARKET"), (OrderType.LIMIT, "LIMIT"), (OrderType.SL, "SL"), (OrderType.SL_M, "SL-M")],
    )
    def test_order_types_round_trip(self, ours: OrderType, kite: str) -> None:
        assert order_type_to_kite(ours) == kite
        assert order_type_from_kite(kite) is ours

    @pytest.mark.parametrize(("ours", "kite"), [(Variety.REGULAR, "regular"), (Variety.AMO, "amo")])
    def test_varieties_round_trip(self, ours: Variety, kite: str) -> None:
        assert variety_to_kite(ours) == kite
        assert variety_from_kite(kite) is ours

    def test_prices_leave_as_floats_of_the_decimals_digits(self) -> None:
        assert price_to_kite(Decimal("123.45")) == 123.45
        assert price_to_kite(None) is None

    def test_a_bare_time_has_no_date_and_is_ignored(self) -> None:
        assert utc_from_kite("16:00:36") is None


class TestPostbackVerification:
    def test_a_correctly_signed_body_is_accepted(self) -> None:
        body = signed(postback_sample())

        payload = verify_postback(body, SECRET)

        assert payload["order_id"] == "220303000308932"
        assert order_update_from_kite(payload).status is OrderStatus.COMPLETE

    def test_a_body_signed_with_another_secret_is_refused(self) -> None:
        with pytest.raises(Unauthorized, match="postback checksum mismatch"):
            verify_postback(signed(postback_sample(), secret="guess"), SECRET)

    def test_a_tampered_body_is_refused(self) -> None:
        forged = json.loads(signed(postback_sample()))
        forged["order_id"] = "220303000308933"

        with pytest.raises(Unauthorized):
            verify_postback(json.dumps(forged).encode(), SECRET)

    def test_the_published_sample_does_not_verify_with_our_secret(self) -> None:
        with pytest.raises(Unauthorized):
            verify_postback((MOCKS / "postback.json").read_bytes(), SECRET)

    @pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"order_id": "1"}', b"\xff\xfe"])
    def test_malformed_bodies_are_refused(self, body: bytes) -> None:
        with pytest.raises(Unauthorized, match="postback checksum mismatch"):
            verify_postback(body, SECRET)


class TestErrorMapping:
    @pytest.mark.parametrize(
        ("raised", "expected"),
        [
            (kite_errors.InputException("Invalid `quantity`."), BrokerRejected),
            (kite_errors.OrderException("Order cannot be cancelled."), BrokerRejected),
            (kite_errors.GeneralException("Insufficient funds.", code=400), BrokerRejected),
            (kite_errors.TokenException("Incorrect `api_key` or `access_token`."), BrokerNotConnected),
            (kite_errors.PermissionException("Insufficient permission"), BrokerNotConnected),
            (kite_errors.NetworkException("Too many requests", code=429), RateLimited),
            (kite_errors.NetworkException("Gateway timed out", code=504), BrokerUnavailable),
            (kite_errors.DataException("bad response"), BrokerUnavailable),
            (kite_errors.GeneralException("Something went wrong"), BrokerUnavailable),
            (requests.ConnectTimeout("timed out"), BrokerUnavailable),
            (requests.ConnectionError("refused"), BrokerUnavailable),
        ],
    )
    def test_kite_errors_become_domain_errors(self, raised: Exception, expected: type[DomainError]) -> None:
        with pytest.raises(expected) as caught, kite_errors_mapped("kite"):
            raise raised

        assert caught.value.__cause__ is raised

    def test_a_rejection_keeps_the_brokers_message(self) -> None:
        with pytest.raises(BrokerRejected, match=r"Invalid `quantity`\."), kite_errors_mapped("kite"):
            raise kite_errors.InputException("Invalid `quantity`.")

    def test_a_dead_session_asks_the_user_to_reconnect(self) -> None:
        with pytest.raises(BrokerNotConnected, match="reconnect the broker account"), kite_errors_mapped("kite"):
            raise kite_errors.TokenException("Incorrect `api_key` or `access_token`.")


class MemorySecrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.reads = 0

    def get(self, name: str) -> str | None:
        self.reads += 1
        return self.values.get(name)

    def put(self, name: str, value: str) -> None:
        self.values[name] = value


class TestAccounts:
    def test_an_owner_without_a_session_must_connect(self) -> None:
        brokers = KiteBrokers(api_key="k", secrets=MemorySecrets(), name="paper")

        with pytest.raises(BrokerNotConnected, match="no paper session for this user"):
            brokers.for_owner(OwnerId("alice"))

    def test_the_broker_is_built_from_the_stored_token_once_per_owner(self) -> None:
        secrets = MemorySecrets()
        secrets.put(access_token_name("alice", "kite"), "tok")
        brokers = KiteBrokers(api_key="k", secrets=secrets, root="http://127.0.0.1:9")

        first, second = brokers.for_owner(OwnerId("alice")), brokers.for_owner(OwnerId("alice"))

        assert first is second
        assert first.name == "kite"
        assert first.client.access_token == "tok"
        assert secrets.reads == 1

    def test_ssm_keeps_the_token_as_a_secure_string(self) -> None:
        boto3 = pytest.importorskip("boto3")
        moto = pytest.importorskip("moto")
        with moto.mock_aws():
            ssm = boto3.client("ssm", region_name="ap-south-1")
            store = SsmSecretStore(ssm)
            name = access_token_name("alice", "paper")

            assert store.get(name) is None
            store.put(name, "tok1")
            store.put(name, "tok2")

            parameter = ssm.get_parameter(Name=store.name(name), WithDecryption=True)["Parameter"]
            assert parameter["Name"] == "/basketgraph/local/brokers/alice/paper/access_token"
            assert (parameter["Type"], parameter["Value"]) == ("SecureString", "tok2")
            assert store.get(name) == "tok2"
