"""`basketgraph dev`'s stream lifetimes: a record age given alone keeps the markers' margin over it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from local.cli import _with_stream_lifetimes
from local.stack import LOCAL_DELIVERY_TTL_SECONDS, LOCAL_MAX_RECORD_AGE_SECONDS, StackConfig

CONFIG = StackConfig(state_dir=Path("unused"))


def given(delivery_ttl: int | None = None, max_record_age: int | None = None) -> argparse.Namespace:
    return argparse.Namespace(delivery_ttl=delivery_ttl, max_record_age=max_record_age, stream_retention=None)


def test_the_defaults_are_the_local_stacks() -> None:
    config = _with_stream_lifetimes(CONFIG, given())
    assert (config.delivery_ttl, config.max_record_age) == (LOCAL_DELIVERY_TTL_SECONDS, LOCAL_MAX_RECORD_AGE_SECONDS)


def test_a_record_age_alone_moves_the_markers_lifetime_with_it() -> None:
    config = _with_stream_lifetimes(CONFIG, given(max_record_age=3600))
    assert config.max_record_age == 3600
    assert config.delivery_ttl == 3600 + LOCAL_DELIVERY_TTL_SECONDS - LOCAL_MAX_RECORD_AGE_SECONDS


def test_markers_that_die_before_their_records_are_refused_with_a_message() -> None:
    with pytest.raises(SystemExit, match="--delivery-ttl must exceed --max-record-age"):
        _with_stream_lifetimes(CONFIG, given(delivery_ttl=100))
