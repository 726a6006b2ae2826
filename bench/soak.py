"""A long session of the local stack: does its state and memory stay flat? (Not in CI, not in `make bench`.)

    python -m bench.soak [--minutes 60] [--every 10] [--baskets 8] [--lambda-environments 4]
                         [--delivery-ttl S] [--max-record-age S] [--stream-retention S]

`basketgraph dev` runs as its own process with the market simulator on; `--baskets` users each execute one
demo iron condor (four legs), so the stream handler publishes P&L for 8 LIVE baskets as the market moves.
Every `--every` minutes it prints: delivery markers and all items in the table (a Scan of the embedded
DynamoDB from outside), the records its stream holds (read from TRIM_HORIZON), the journal's image and the
whole state directory's size, and the peak memory (VmHWM) of the stack process and of its largest Lambda
execution environment. At the end: whether each figure stayed flat after the first interval (within 10%,
or 1 MB / 500 items), whether VmHWM ≤ 500 MB, and how long Ctrl-C took.

State is bounded by how long it lives: a delivery marker `--delivery-ttl` seconds, a stream record the poller
settled `--stream-retention` seconds (an unsettled one at most `--max-record-age`); markers therefore level
off once the run is longer than the TTL (the local stack's defaults, `local.stack`: 7 min, records 5 min, so
by the first interval; on AWS 75 min and 1 h). Shorter values (e.g. 120/60/30) show the same levelling in a
short run; the settings a run used are printed first.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import boto3

from bench.dev_process import DevStack, gql_session
from bench.waiting import wait_until
from local.dynamodb.stream_retention import STREAM_RETENTION_SECONDS
from local.seed import demo_basket
from local.stack import LOCAL_DELIVERY_TTL_SECONDS, LOCAL_MAX_RECORD_AGE_SECONDS

EXECUTE = "mutation($b: ID!, $r: String!) { executeBasket(basketId: $b, clientRequestId: $r) { basket { id } } }"
VMHWM_GOAL_MIB = 500


@dataclass
class Sample:
    minute: float
    markers: int
    items: int
    records: int
    image_mib: float
    state_mib: float
    stack_hwm: float
    environment_hwm: float


def _client(service: Literal["dynamodb", "dynamodbstreams"], moto_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=moto_url,
        region_name="ap-south-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto's, on loopback
    )


def table_counts(moto_url: str) -> tuple[int, int]:
    """(delivery markers, items) in the table, by a paged Scan of its `type` attribute."""
    client = _client("dynamodb", moto_url)
    markers = items = 0
    for page in client.get_paginator("scan").paginate(
        TableName="Trading", ProjectionExpression="#t", ExpressionAttributeNames={"#t": "type"}
    ):
        items += page["Count"]
        markers += sum(1 for item in page["Items"] if item.get("type", {}).get("S") == "Delivery")
    return markers, items


def stream_records(moto_url: str) -> int:
    """The records the table's stream holds, read from TRIM_HORIZON to the end (again if trimmed meanwhile)."""
    arn = _client("dynamodb", moto_url).describe_table(TableName="Trading")["Table"]["LatestStreamArn"]
    streams = _client("dynamodbstreams", moto_url)
    while True:
        try:
            return _count_records(streams, arn)
        except streams.exceptions.TrimmedDataAccessException:
            continue


def _count_records(streams: Any, arn: str) -> int:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    position, count = iterator["ShardIterator"], 0
    while position:
        reply = streams.get_records(ShardIterator=position, Limit=1000)
        count += len(reply["Records"])
        if not reply["Records"]:
            break
        position = reply.get("NextShardIterator")
    return count


def directory_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def sample(stack: DevStack, moto_url: str, began: float) -> Sample:
    markers, items = table_counts(moto_url)
    records = stream_records(moto_url)
    image = stack.state / "dynamodb" / "image.json"
    image_mib = image.stat().st_size / 2**20 if image.exists() else 0.0
    stack_hwm, environment_hwm = stack.peak_rss_mib()
    return Sample(
        (time.monotonic() - began) / 60,
        markers,
        items,
        records,
        image_mib,
        directory_mib(stack.state),
        stack_hwm,
        environment_hwm,
    )


def flat(first: float, last: float, slack: float) -> bool:
    return last <= max(first * 1.1, first + slack)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--every", type=float, default=10, help="minutes between samples")
    parser.add_argument("--baskets", type=int, default=8)
    parser.add_argument("--lambda-environments", type=int, default=4)
    parser.add_argument("--delivery-ttl", type=int, default=LOCAL_DELIVERY_TTL_SECONDS, metavar="SECONDS")
    parser.add_argument("--max-record-age", type=int, default=LOCAL_MAX_RECORD_AGE_SECONDS, metavar="SECONDS")
    parser.add_argument("--stream-retention", type=int, default=STREAM_RETENTION_SECONDS, metavar="SECONDS")
    args = parser.parse_args()
    print(
        f"settings: delivery marker TTL {args.delivery_ttl} s, maximum record age {args.max_record_age} s, "
        f"settled stream records kept {args.stream_retention} s",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as state:
        stack = DevStack.start(
            Path(state),
            *("--lambda-environments", str(args.lambda_environments)),
            *("--delivery-ttl", str(args.delivery_ttl)),
            *("--max-record-age", str(args.max_record_age)),
            *("--stream-retention", str(args.stream_retention)),
        )
        try:
            stack_file = Path(state) / "stack.json"
            wait_until(stack_file.exists, timeout=60, interval=0.1)  # written once the stack serves
            moto_url = json.loads(stack_file.read_text())["moto"]
            for i in range(args.baskets):
                live(stack, f"soak{i}")
            print(f"{args.baskets} LIVE baskets, market simulator on; a sample every {args.every} min", flush=True)
            print(
                f"{'minute':>7} {'markers':>8} {'items':>7} {'records':>8} {'image MiB':>10} {'state MiB':>10}"
                f" {'stack VmHWM':>12} {'env VmHWM':>10}"
            )
            began = time.monotonic()
            samples: list[Sample] = []
            while True:
                samples.append(sample(stack, moto_url, began))
                s = samples[-1]
                print(
                    f"{s.minute:7.1f} {s.markers:8d} {s.items:7d} {s.records:8d} {s.image_mib:10.2f}"
                    f" {s.state_mib:10.2f} {s.stack_hwm:9.0f} MiB"
                    f" {s.environment_hwm:6.0f} MiB",
                    flush=True,
                )
                if s.minute >= args.minutes - 1e-6:
                    break
                time.sleep(max(0.0, began + len(samples) * args.every * 60 - time.monotonic()))
        finally:
            stop_seconds, left = stack.stop()
    report(samples, stop_seconds, left, args)


def live(stack: DevStack, name: str) -> None:
    gql: Any = gql_session(stack.url, stack.user(name)["token"])
    basket_id = gql("mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }", {"i": demo_basket()})
    basket_id = basket_id["createBasket"]["id"]
    gql(EXECUTE, {"b": basket_id, "r": str(uuid.uuid4())})
    status = "query($b: ID!) { basket(id: $b) { status } }"
    wait_until(lambda: gql(status, {"b": basket_id})["basket"]["status"] == "LIVE", timeout=300, interval=0.5)


def report(samples: list[Sample], stop_seconds: float, left: list[int], args: argparse.Namespace) -> None:
    first, last = samples[1 if len(samples) > 1 else 0], samples[-1]
    checks = [
        ("delivery markers", flat(first.markers, last.markers, 500)),
        ("items", flat(first.items, last.items, 500)),
        ("stream records", flat(first.records, last.records, 500)),
        ("journal image", flat(first.image_mib, last.image_mib, 1.0)),
        ("state directory", flat(first.state_mib, last.state_mib, 1.0)),
        ("stack VmHWM", flat(first.stack_hwm, last.stack_hwm, 1.0)),
    ]
    for what, ok in checks:
        print(f"  {what} flat after the first interval: {'yes' if ok else 'NO'}")
    peak = max(last.stack_hwm, last.environment_hwm)
    print(
        f"  VmHWM <= {VMHWM_GOAL_MIB} MB (stack and each environment): {'met' if peak <= VMHWM_GOAL_MIB else 'NOT met'}"
    )
    print(f"  Ctrl-C took {stop_seconds:.1f} s; environments left running: {len(left)}")
    print(
        f"reproduce: python -m bench.soak --minutes {args.minutes:g} --every {args.every:g} --baskets {args.baskets}"
        f" --lambda-environments {args.lambda_environments} --delivery-ttl {args.delivery_ttl}"
        f" --max-record-age {args.max_record_age} --stream-retention {args.stream_retention}"
    )


if __name__ == "__main__":
    main()
