"""The paper exchange keeps its book on disk: a restarted exchange knows its orders, trades and sessions."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kiteconnect import KiteConnect

from brokers.paper.book import PaperOrder
from brokers.paper.exchange import PaperExchange
from brokers.paper.http import PaperExchangeServer
from brokers.paper.persistence import load_book
from local.atomic_file import AtomicFile
from tests.helpers import wait_until
from tests.integration.test_paper_exchange import API_KEY, API_SECRET, CE, INSTRUMENTS

if TYPE_CHECKING:
    from pathlib import Path


def _exchange(book: Path) -> tuple[PaperExchange, PaperExchangeServer, str]:
    paper = PaperExchange(
        INSTRUMENTS, {CE: Decimal("120.00")}, api_key=API_KEY, api_secret=API_SECRET, book_file=AtomicFile(book)
    )
    server = PaperExchangeServer(paper)
    return paper, server, server.start()


def test_a_restarted_exchange_knows_what_it_acknowledged(tmp_path: Path) -> None:
    book = tmp_path / "paper-exchange.pickle"
    # Given an exchange that opened a session, filled one order and holds another working
    paper, server, url = _exchange(book)
    try:
        kite = KiteConnect(API_KEY, root=url)
        session = kite.generate_session("paper-AB1234", api_secret=API_SECRET)
        kite.set_access_token(session["access_token"])
        terms = {"variety": "regular", "exchange": "NFO", "tradingsymbol": CE.tradingsymbol, "quantity": 75}
        filled = kite.place_order(
            **terms, transaction_type="BUY", order_type="MARKET", product="NRML", tag="ours-1", market_protection=-1
        )
        working = kite.place_order(
            **terms, transaction_type="BUY", order_type="LIMIT", price=1.0, product="NRML", tag="ours-2"
        )
        before = {o["order_id"]: (o["status"], o["tag"]) for o in kite.orders()}
        trades = kite.trades()
    finally:
        server.stop()
        paper.close()

    # When it starts again on the same file (its server on another port)
    paper, server, url = _exchange(book)
    try:
        kite = KiteConnect(API_KEY, root=url, access_token=session["access_token"])
        # Then the session still works, the book and trades are as acknowledged, the working order can be
        # cancelled, and a new order gets a new id
        assert {o["order_id"]: (o["status"], o["tag"]) for o in kite.orders()} == before
        assert before[filled][0] == "COMPLETE" and before[working][0] == "OPEN"
        assert kite.trades() == trades
        kite.cancel_order("regular", working)
        assert {o["order_id"]: o["status"] for o in kite.orders()}[working] == "CANCELLED"
        fresh = kite.place_order(
            **terms, transaction_type="SELL", order_type="MARKET", product="NRML", market_protection=-1
        )
        assert fresh not in before
    finally:
        server.stop()
        paper.close()


class _HeldFile:
    """A book file whose first write waits for `release`; it keeps every write's bytes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def read(self) -> bytes | None:
        return self.writes[-1] if self.writes else None

    def replace(self, data: bytes) -> None:
        if not self.writes and not self.first_started.is_set():
            self.first_started.set()
            assert self.release.wait(30)
        self.writes.append(data)


def test_changes_made_during_a_write_share_the_next_and_none_returns_before_it_is_written() -> None:
    # Given an exchange whose book file is busy writing one change
    held = _HeldFile()
    paper = PaperExchange(INSTRUMENTS, {CE: Decimal("120.00")}, api_key=API_KEY, api_secret=API_SECRET)
    paper._lock = type(paper._lock)(paper._book_bytes, held)  # the same exchange, its book kept in `held`
    returned: list[str] = []

    def change(user: str) -> None:
        paper.set_funds(user, Decimal(len(user)))
        on_disk = load_book(held)
        assert on_disk is not None and user in on_disk["own_funds"]  # written before the call returned
        returned.append(user)

    first = threading.Thread(target=change, args=("first",))
    first.start()
    assert held.first_started.wait(30)
    # When eight more changes are made while it writes
    others = [threading.Thread(target=change, args=(f"user{i}",)) for i in range(8)]
    for thread in others:
        thread.start()
    wait_until(lambda: paper._lock._generation == 9, timeout=30)
    assert returned == []  # nobody's reply left before its change was on disk
    held.release.set()
    for thread in [first, *others]:
        thread.join(30)
    # Then each returned once its change was written, and the eight shared one write
    assert sorted(returned) == sorted(["first", *(f"user{i}" for i in range(8))])
    assert len(held.writes) == 2


class _Told:
    """Postbacks as sent, each with how many book writes had finished when it was."""

    def __init__(self, file: _HeldFile) -> None:
        self.file = file
        self.sent: list[tuple[str, int]] = []

    def send(self, payload: dict[str, Any]) -> None:
        self.sent.append((payload["status"], len(self.file.writes)))


def test_an_order_change_is_told_only_once_the_book_holding_it_is_on_disk() -> None:
    # Given an exchange whose next book write is held, and which records the postbacks it sends
    held = _HeldFile()
    paper = PaperExchange(INSTRUMENTS, {CE: Decimal("120.00")}, api_key=API_KEY, api_secret=API_SECRET)
    account = _session(paper, "AB1234")
    paper._lock = type(paper._lock)(paper._book_bytes, held)
    told = _Told(held)
    paper._postbacks = told  # type: ignore[assignment]
    # When an order is placed and the book holding it is being written
    placing = threading.Thread(target=paper.place_order, args=(account, "regular", _limit("100")))
    placing.start()
    assert held.first_started.wait(30)
    # Then nothing is told while the write is under way, and the order's postback follows the write
    assert told.sent == []
    held.release.set()
    placing.join(30)
    assert told.sent and all(writes >= 1 for _, writes in told.sent)
    assert told.sent[-1][0] == "OPEN"


def _session(paper: PaperExchange, user_id: str) -> Any:
    checksum = hashlib.sha256(f"{API_KEY}paper-{user_id}{API_SECRET}".encode()).hexdigest()
    session = paper.create_session({"api_key": API_KEY, "request_token": f"paper-{user_id}", "checksum": checksum})
    return paper.account_for(f"token {API_KEY}:{session['access_token']}")


def _limit(price: str) -> dict[str, str]:
    return {"exchange": "NFO", "tradingsymbol": CE.tradingsymbol, "transaction_type": "BUY", "order_type": "LIMIT"} | {
        "price": price,
        "quantity": "75",
        "product": "NRML",
    }


def test_orders_changed_after_a_write_are_written_again_and_come_back_as_one_object_each(tmp_path: Path) -> None:
    # Given a book written with two working orders, one of which then changes twice and one fills
    book = tmp_path / "paper-exchange.pickle"
    paper = PaperExchange(
        INSTRUMENTS, {CE: Decimal("120.00")}, api_key=API_KEY, api_secret=API_SECRET, book_file=AtomicFile(book)
    )
    account = _session(paper, "AB1234")
    kept = paper.place_order(account, "regular", _limit("100"))
    changed = paper.place_order(account, "regular", _limit("101"))
    filled = paper.place_order(account, "regular", _limit("99"))
    paper.modify_order(account, changed, {"price": "102"})
    paper.cancel_order(account, changed)
    paper.set_price(CE, Decimal("98.00"))  # fills the two still working, both at or above 98
    before = {o["order_id"]: (o["status"], o["price"], o["filled_quantity"]) for o in paper.orders(account)}
    trades = paper.trades(account)
    paper.close()

    # When the exchange starts again from that file
    again = PaperExchange(INSTRUMENTS, api_key=API_KEY, api_secret=API_SECRET, book_file=AtomicFile(book))
    account = _session(again, "AB1234")
    # Then every order is as it was last, and each is one object wherever the book refers to it
    assert {o["order_id"]: (o["status"], o["price"], o["filled_quantity"]) for o in again.orders(account)} == before
    assert before[changed][:2] == ("CANCELLED", 102) and before[kept][0] == before[filled][0] == "COMPLETE"
    assert again.trades(account) == trades
    engine = again._matching
    assert all(order is engine.orders[order_id][1] for order_id, order in account.orders.items())
    assert all(trade.order is engine.orders[trade.order.order_id][1] for trade in account.trades)
    assert all(account is engine.orders[order_id][0] for order_id in account.orders)
    again.close()


def test_a_book_written_whole_in_one_pickle_still_loads(tmp_path: Path) -> None:
    # Given a book file of version 1 (the whole book in one pickle, as written before each order was apart)
    book = tmp_path / "paper-exchange.pickle"
    paper = PaperExchange(INSTRUMENTS, {CE: Decimal("120.00")}, api_key=API_KEY, api_secret=API_SECRET)
    account = _session(paper, "AB1234")
    order_id = paper.place_order(account, "regular", _limit("100"))
    book.write_bytes(pickle.dumps({"version": 1, **paper._state()}))
    # When an exchange starts from it, then it knows the order
    again = PaperExchange(INSTRUMENTS, api_key=API_KEY, api_secret=API_SECRET, book_file=AtomicFile(book))
    assert [o["order_id"] for o in again.orders(_session(again, "AB1234"))] == [order_id]


def test_an_order_holds_no_container_but_its_history() -> None:
    # the book's codec sees an order change by its fields' values and its history's length (persistence._fingerprint)
    containers = {
        f.name for f in dataclasses.fields(PaperOrder) if any(t in str(f.type) for t in ("list", "dict", "set"))
    }
    assert containers == {"history"}
