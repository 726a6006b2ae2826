"""The feed service as it runs on Fargate: `python -m brokers.kite.feed` in its own process, following the
paper exchange's ticker with an access token from SSM and writing marks into the stack's table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from brokers.kite.accounts import access_token_name
from brokers.secrets import SsmSecretStore
from local import seed
from store import connect
from store.spec import create_table
from tests.helpers import wait_until
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

INFY = InstrumentRef("NSE", "INFY")


def test_the_feed_process_writes_marks_from_the_ticker(stack: LocalStack) -> None:
    # Given a user's paper session in SSM, a table of its own (the stack's feed writes the stack's),
    # and the feed started on them
    user = stack.add_user("feed_owner")
    marks_table = "FeedServiceMarks"
    create_table(stack.dynamodb, marks_table)
    feed_store = connect(marks_table, stack.dynamodb)
    feed_store.instruments.put_instruments([instrument for instrument, _ in seed.instruments()])
    secrets = SsmSecretStore(stack.ssm)
    name = access_token_name(user["sub"], "paper")
    parameter = secrets.name(name) if hasattr(secrets, "name") else name
    settings = stack.settings
    env = {
        **os.environ,
        # a Fargate task's settings are its environment; the stack's own come from its settings object
        "TABLE_NAME": marks_table,
        "ENDPOINT_URLS": json.dumps(settings.endpoint_urls),
        "KITE_API_KEY": settings.kite_api_key or "",
        "FEED_SECRET_PATH": parameter,
        "FEED_INSTRUMENTS": "NSE:INFY",
        "KITE_TICKER_ROOT": stack.exchange_url.replace("http://", "ws://"),
        "FEED_MARK_INTERVAL_MS": "100",
    }
    feed = subprocess.Popen(
        [sys.executable, "-m", "brokers.kite.feed"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        # When the exchange's price moves (the exchange alone: only the feed writes marks here)
        target = Decimal("1601.35")

        def marked() -> bool:
            if feed.poll() is not None:
                raise AssertionError(feed.stdout.read().decode() if feed.stdout else "feed exited")
            stack.exchange.set_price(INFY, target)
            return feed_store.marks.last_prices([INFY]).get(INFY) == target

        # Then the feed writes it as INFY's mark
        wait_until(marked, timeout=60, interval=0.5)
    finally:
        feed.send_signal(signal.SIGTERM)
        output = feed.communicate(timeout=30)[0].decode()
    assert feed.returncode == 0, output
    assert "feed following 1 instruments" in output
