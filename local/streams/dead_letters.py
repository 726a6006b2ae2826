"""The on-failure store of the stream poller: records a stream handler gave up on, kept and replayable."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.atomic_file import write_atomically
from local.lambda_context import LambdaContext
from local.streams.invocation import DEFAULT_FUNCTION_NAME, error_text, failed_ids

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from local.streams.invocation import StreamHandler

log = logging.getLogger("basketgraph.local.streams")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


DeadLetters = list[dict[str, Any]]


class DeadLetterStore:
    """Records a stream handler gave up on, as JSON lines of `{record, error, failedAt, attempts}`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def add(self, record: Mapping[str, Any], error: str, attempts: int) -> None:
        """Append one dead record (one line, flushed and fsynced before returning)."""
        self.add_all([record], error, attempts)

    def add_all(self, records: Sequence[Mapping[str, Any]], error: str, attempts: int) -> None:
        """Append dead records given up on together (a line each, one fsync before returning)."""
        if not records:
            return
        failed_at = now_iso()
        line = "\n".join(
            json.dumps({"record": record, "error": error, "failedAt": failed_at, "attempts": attempts})
            for record in records
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as out:
                if out.seek(0, os.SEEK_END) > 0:
                    out.seek(-1, os.SEEK_END)
                    if out.read(1) != b"\n":
                        line = "\n" + line  # a crash tore the last line; keep this one whole
                out.write((line + "\n").encode())
                out.flush()
                os.fsync(out.fileno())

    def list(self) -> DeadLetters:
        """Every dead record, oldest first."""
        with self._lock:
            return self._read()

    def __len__(self) -> int:
        return len(self.list())

    def _read(self) -> DeadLetters:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                # only a crash mid-append leaves a torn line, and it can only be the last one
                log.warning("skipping unreadable dead-letter line %d of %s", number, self.path)
        return entries

    def replay(self, handler: StreamHandler, *, function_name: str = DEFAULT_FUNCTION_NAME) -> tuple[int, int]:
        """Re-invoke `handler` with each dead record (one per batch); drop the ones that now succeed.

        A record still failing stays, with its error, time and attempt count updated. Records dead-lettered
        while the replay runs are kept.

        Returns
        -------
        (replayed, still_failing)
        """
        with self._lock:
            entries = self._read()
        outcomes: list[dict[str, Any] | None] = []
        for entry in entries:
            record = entry["record"]
            event = {"Records": [record]}
            error: str | None = None
            try:
                ids = failed_ids(handler(event, LambdaContext(function_name)))
                if ids is None:
                    error = "malformed batchItemFailures reply"
                elif ids:
                    error = "reported in batchItemFailures"
            except Exception as exc:  # the handler's failure is the outcome being recorded
                error = error_text(exc)
            if error is None:
                outcomes.append(None)
                log.info("replayed dead record %s", record.get("dynamodb", {}).get("SequenceNumber"))
            else:
                outcomes.append(
                    {**entry, "error": error, "failedAt": now_iso(), "attempts": int(entry.get("attempts", 0)) + 1}
                )
        with self._lock:
            appended = self._read()[len(entries) :]
            kept = [outcome for outcome in outcomes if outcome is not None] + appended
            write_atomically(self.path, "".join(json.dumps(entry) + "\n" for entry in kept))
        still_failing = sum(1 for outcome in outcomes if outcome is not None)
        return len(entries) - still_failing, still_failing
