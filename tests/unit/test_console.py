"""The console is for people: where options go, what INFO shows, and JSON logs for shippers."""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING

import pytest

from local import cli
from local.streams import poller

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.mark.parametrize(
    ("argv", "state_dir"),
    [
        (["dev"], ".state"),
        (["--state-dir", "A", "dev"], "A"),
        (["dev", "--state-dir", "B"], "B"),
        (["user", "add", "alice", "--state-dir", "C"], "C"),
        (["--state-dir", "D", "token"], "D"),
        (["dlq", "list", "--state-dir", "E"], "E"),
        (["reconcile"], ".state"),
    ],
)
def test_state_dir_goes_before_or_after_the_command(argv: list[str], state_dir: str) -> None:
    assert cli.parser().parse_args(argv).state_dir == state_dir


def test_dev_takes_a_log_level_and_format() -> None:
    args = cli.parser().parse_args(["dev", "--log-level", "debug", "--log-format", "json"])
    assert (args.log_level, args.log_format) == ("debug", "json")
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["dev", "--log-format", "xml"])


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_format_writes_one_object_per_line(root_logging: None) -> None:
    cli._configure_logging("info", "json")
    stream = io.StringIO()
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger("basketgraph.test").info("hello %s", "there")
    logging.getLogger("basketgraph.test").debug("not at info")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert (record["message"], record["level"]) == ("hello there", "INFO")


def test_routine_batches_are_summarised_once_a_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(poller.time, "monotonic", lambda: now[0])
    summary = poller._Summary()
    caplog.set_level(logging.INFO, logger=poller.log.name)
    for _ in range(100):  # 100 batches of 13 records in 50 s: nothing at INFO yet
        summary.add(13, "streams")
        now[0] += 0.5
    assert not caplog.records
    now[0] += 11
    summary.add(0, "streams")
    assert [r.getMessage() for r in caplog.records] == [
        "streams settled 1300 stream records in 100 batches in the last 61 s"
    ]
    now[0] += 61  # an idle minute says nothing
    summary.add(0, "streams")
    assert len(caplog.records) == 1
