"""Keep what the stack's other moto services hold (SSM parameters, EventBridge schedules) across restarts.

Each write request those services answer with success is appended, as it arrived (method, path,
headers, body), to a journal file and fsynced before the response leaves; at the next start the
journal is replayed against the fresh moto server, in order. moto derives nothing random that the
stack depends on from these requests (a parameter's version counts its puts; a schedule is its request),
so a replay rebuilds the same state. Reads are not journaled.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger("basketgraph.local")

# SSM's writes (AWS JSON protocol: the action is the X-Amz-Target); every Scheduler write is a non-GET.
SSM_WRITES = frozenset(
    {"PutParameter", "DeleteParameter", "DeleteParameters", "LabelParameterVersion", "AddTagsToResource"}
)
KEPT_HEADERS = ("Content-Type", "X-Amz-Target", "Authorization", "X-Amz-Date")

_lock = threading.Lock()
_file: Path | None = None


def _journaled(response_class: Any, is_write: Any) -> None:
    call_action = response_class.call_action
    if getattr(call_action, "_journaled", False):
        return

    @functools.wraps(call_action)
    def journaled(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _file is None or not is_write(self):
            return call_action(self, *args, **kwargs)
        with _lock:  # one at a time, so the journal's order is the order applied
            result = call_action(self, *args, **kwargs)
            status = result[0] if isinstance(result, tuple) else 500
            if isinstance(status, int) and status < 300:
                _append(self)
        return result

    journaled._journaled = True  # type: ignore[attr-defined]
    response_class.call_action = journaled


def _append(response: Any) -> None:
    if _file is None:
        return
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    body = response.body.decode() if isinstance(response.body, bytes) else (response.body or "")
    query = response.parsed_url.query
    line = {"method": response.method, "path": response.path + (f"?{query}" if query else ""), "headers": headers}
    line["body"] = body
    with _file.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
        out.flush()
        os.fdatasync(out.fileno())


def journal_requests(path: Path, moto_url: str) -> int:
    """Replay `path` against `moto_url`, then journal every SSM and Scheduler write there; returns the replayed."""
    global _file
    from moto.scheduler.responses import EventBridgeSchedulerResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    _journaled(SimpleSystemManagerResponse, lambda r: r.headers.get("X-Amz-Target", "").split(".")[-1] in SSM_WRITES)
    _journaled(EventBridgeSchedulerResponse, lambda r: r.method != "GET")
    replayed = 0
    if path.exists():
        with requests.Session() as http:
            for raw in path.read_text(encoding="utf-8").splitlines():
                try:
                    line = json.loads(raw)
                except json.JSONDecodeError:
                    continue  # the torn tail of a crash mid-write: never acknowledged
                reply = http.request(
                    line["method"], moto_url + line["path"], headers=line["headers"], data=line["body"], timeout=30
                )
                replayed += 1
                if reply.status_code >= 300:
                    log.warning("replaying %s %s: HTTP %s", line["method"], line["path"], reply.status_code)
    _file = path
    return replayed


def stop_journaling() -> None:
    global _file
    _file = None
