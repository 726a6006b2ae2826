"""The embedded DynamoDB's speed-ups patch moto only on the moto version they were written for."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.responses import DynamoHandler

from local.dynamodb import speedups


@pytest.mark.parametrize(
    "speedup",
    [
        speedups.fast_partition_queries,
        speedups.fast_read_responses,
        speedups.fast_transactions,
        speedups.fast_update_expressions,
        speedups.fast_query_results,
        speedups.keep_alive,
    ],
)
def test_a_speedup_refuses_another_moto_version(
    speedup: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a moto other than the one the speed-ups were written for
    monkeypatch.setattr(speedups, "installed_moto_version", lambda: "5.0.0")
    patched = (Table.query, DynamoHandler.serialized, DynamoDBBackend.transact_write_items)
    make = UpdateExpressionParser.__dict__["make"]

    # When the speed-up is asked for
    with caplog.at_level(logging.WARNING, logger=speedups.__name__):
        applied = speedup()  # type: ignore[operator]

    # Then it leaves moto as it is and says why
    assert applied is False
    assert (Table.query, DynamoHandler.serialized, DynamoDBBackend.transact_write_items) == patched
    assert UpdateExpressionParser.__dict__["make"] is make
    assert "moto 5.0.0 is installed, not " + speedups.WRITTEN_FOR_MOTO in caplog.text


def test_the_local_extra_pins_the_moto_the_speedups_were_written_for() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    moto = [pin for pin in project["project"]["optional-dependencies"]["local"] if pin.startswith("moto[")]
    assert moto == [f"moto[server,dynamodb,dynamodbstreams,cognitoidp,ssm]=={speedups.WRITTEN_FOR_MOTO}"]
