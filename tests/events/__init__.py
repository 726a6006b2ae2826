"""Recorded events, loaded with one helper."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((HERE / f"{name}.json").read_text()))


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json."""
    return copy.deepcopy(_load(name))


def appsync_event(
    parent: str, field: str, arguments: dict[str, Any] | None = None, sub: str | None = "alice"
) -> dict[str, Any]:
    """A direct Lambda resolver event for `parent.field` from the user `sub` (None: no identity)."""
    event = load_event("appsync_resolver")
    event["info"]["parentTypeName"] = parent
    event["info"]["fieldName"] = field
    event["arguments"] = arguments or {}
    if sub is None:
        event["identity"] = None
    else:
        event["identity"]["sub"] = sub
        event["identity"]["username"] = sub
    return event
