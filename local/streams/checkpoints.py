"""The stream poller's checkpoints: per shard the last settled record, and the shards drained, in a JSON file."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from local.atomic_file import write_atomically

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger("basketgraph.local.streams")


class CheckpointFile:
    """Where one stream's checkpoints persist, so a restarted stack resumes after the last settled record."""

    def __init__(self, path: Path, stream_arn: str) -> None:
        self.path = path
        self.stream_arn = stream_arn

    def load(self) -> tuple[dict[str, str], set[str]]:
        """Shard id → last settled sequence number, and the finished shards (both empty when there are none)."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}, set()
        if state.get("streamArn") != self.stream_arn:
            # a recreated table has a new stream; the old positions mean nothing there
            log.info("checkpoints in %s are for another stream; starting at TRIM_HORIZON", self.path)
            return {}, set()
        return dict(state.get("shards", {})), set(state.get("finishedShards", []))

    def save(self, positions: dict[str, str], finished: set[str]) -> None:
        """Replace the file atomically; not fsynced (records after an older checkpoint are delivered again,
        and publishing is idempotent)."""
        state = {"streamArn": self.stream_arn, "shards": positions, "finishedShards": sorted(finished)}
        write_atomically(self.path, json.dumps(state, indent=1), durable=False)
