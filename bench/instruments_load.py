"""Loading Kite's instrument dump: a generated 90,000-row dump into the embedded DynamoDB (moto).

    python -m bench.instruments_load [--rows 90000] [--batch 1000]

The dump has the shape of Kite's `/instruments` (the columns of kite-mocks/instruments_*.csv) and about the
real file's mix: NFO/BFO options and futures, NSE/BSE equities, MCX contracts, CDS, and index rows (skipped).
Printed: the load's wall seconds into moto through the production loader, the parse alone, and peak memory —
the loader's own (tracemalloc, parse and batches without the store, so moto's copy of the items does not
count) and the process's peak RSS after the load (moto runs in this process and holds every item).
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import platform
import random
import resource
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path

import boto3

from brokers.kite.instruments import COLUMNS, open_dump, read_dump
from composition.instruments import load_instrument_dump
from local.dynamodb.server import start_moto
from store import create_table
from store.instruments import DynamoInstruments
from trading.usecases.instruments import DEFAULT_BATCH, InstrumentLoad, load_instruments

REGION = "ap-south-1"
INDEX_NAMES = ("NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "NIFTYNXT50")
MCX_NAMES = ("CRUDEOIL", "CRUDEOILM", "GOLD", "GOLDM", "SILVER", "SILVERM", "NATURALGAS", "COPPER", "ZINC")


def rows(count: int, seed: int = 11) -> list[dict[str, object]]:
    """`count` Kite-shaped rows: 2% indices, 10% equities, 8% MCX, 3% CDS, the rest index and stock options."""
    rng = random.Random(seed)
    made: list[dict[str, object]] = []
    expiries = [date(2026, 12, 29) + timedelta(weeks=w) for w in range(12)]
    for n in range(count):
        token = 1_000_000 + n * 256
        base = {"instrument_token": token, "exchange_token": token >> 8, "last_price": "0.0", "strike": "0.0"}
        share = n % 100
        if share < 2:
            row = {"tradingsymbol": f"INDEX {n}", "name": f"INDEX {n}", "expiry": "", "tick_size": "0.0",
                   "lot_size": 0, "instrument_type": "EQ", "segment": "INDICES", "exchange": "NSE"}  # fmt: skip
        elif share < 12:
            exchange = "NSE" if share % 2 else "BSE"
            row = {"tradingsymbol": f"STOCK{n}", "name": f"STOCK {n}", "expiry": "", "tick_size": "0.05",
                   "lot_size": 1, "instrument_type": "EQ", "segment": exchange, "exchange": exchange}  # fmt: skip
        elif share < 20:
            name = MCX_NAMES[n % len(MCX_NAMES)]
            row = {"tradingsymbol": f"{name}{n}FUT", "name": name, "expiry": rng.choice(expiries).isoformat(),
                   "tick_size": "1.0", "lot_size": 1, "instrument_type": "FUT", "segment": "MCX-FUT",
                   "exchange": "MCX"}  # fmt: skip
        elif share < 23:
            row = {"tradingsymbol": f"USDINR{n}FUT", "name": "USDINR", "expiry": rng.choice(expiries).isoformat(),
                   "tick_size": "0.0025", "lot_size": 1, "instrument_type": "FUT", "segment": "CDS-FUT",
                   "exchange": "CDS"}  # fmt: skip
        else:
            name = INDEX_NAMES[n % len(INDEX_NAMES)] if share < 70 else f"STOCK{n % 180}"
            kind = "CE" if n % 2 else "PE"
            strike = 20_000 + 50 * (n % 400)
            row = {"tradingsymbol": f"{name}{n}{strike}{kind}", "name": name,
                   "expiry": rng.choice(expiries).isoformat(), "strike": f"{strike}.0", "tick_size": "0.05",
                   "lot_size": 65, "instrument_type": kind, "segment": "NFO-OPT", "exchange": "NFO"}  # fmt: skip
        made.append({**base, **row})
    return made


def write_dump(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows(count))


class Discard:
    def put_instruments(self, instruments: list[object]) -> None:
        pass


def loader_memory(path: Path, batch: int) -> tuple[float, int, InstrumentLoad]:
    """Seconds and peak traced bytes of parsing and batching the dump, with a writer that keeps nothing."""
    tracemalloc.start()
    started = time.perf_counter()
    with open_dump(str(path)) as lines:
        report = load_instruments(read_dump(lines), Discard(), batch_size=batch)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instruments_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=90_000)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    options = parser.parse_args(argv)
    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(name, value)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instruments.csv"
        write_dump(path, options.rows)
        size = path.stat().st_size
        parse_seconds, peak, _ = loader_memory(path, options.batch)

        server, url = start_moto()
        try:
            client = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
            table = f"Bench-{uuid.uuid4().hex[:8]}"
            create_table(client, table)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started, cpu = time.perf_counter(), time.process_time()
            report = load_instrument_dump(str(path), DynamoInstruments(client, table))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            stored = client.describe_table(TableName=table)["Table"].get("ItemCount")
        finally:
            server.stop()

    print(f"python {platform.python_version()} on {platform.machine()}; moto in-process")
    print(f"dump: {options.rows:,} rows, {size / 1e6:.1f} MB; batches of {options.batch} ({report.loaded:,} loaded,")
    print(f"      {report.skipped:,} index rows skipped, MCX without multiplier: {sorted(report.without_multiplier)})")
    print(f"load into moto:        {seconds:7.1f} s  ({report.loaded / seconds:,.0f} instruments/s; "
          f"{math.ceil(report.loaded / 25):,} BatchWriteItem requests, one at a time)")  # fmt: skip
    print(f"  CPU of this process: {cpu:7.1f} s  (loader and moto together; load average {os.getloadavg()[0]:.1f})")
    print(f"parse + batch only:    {parse_seconds:7.1f} s  (tracemalloc on)")
    print(f"loader peak memory:    {peak / 1e6:7.1f} MB  (tracemalloc: parse and batches, no store)")
    print(f"process peak RSS:      {rss_after / 1024:7.1f} MB  (was {rss_before / 1024:.1f} MB before the load;")
    print("                                  moto in this process holds every item)")
    print(f"items moto reports:    {stored}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
