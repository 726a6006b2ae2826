"""A DynamoDB stream's shards in lineage order, as Lambda reads them (a parent before its children)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Shard:
    shard_id: str
    parent_id: str | None
    closed: bool


def describe_shards(streams: Any, stream_arn: str) -> list[Shard]:
    """The stream's shards (every page of DescribeStream), each parent before its children."""
    shards: list[Shard] = []
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        for shard in description.get("Shards", []):
            shards.append(
                Shard(
                    shard_id=shard["ShardId"],
                    parent_id=shard.get("ParentShardId"),
                    closed="EndingSequenceNumber" in shard.get("SequenceNumberRange", {}),
                )
            )
        start = description.get("LastEvaluatedShardId")
        if not start:
            break
    known = {shard.shard_id: shard for shard in shards}
    ordered: list[Shard] = []
    placed: set[str] = set()

    def place(shard: Shard) -> None:
        if shard.shard_id in placed:
            return
        placed.add(shard.shard_id)
        if shard.parent_id in known:
            place(known[shard.parent_id])
        ordered.append(shard)

    for shard in shards:
        place(shard)
    return ordered
