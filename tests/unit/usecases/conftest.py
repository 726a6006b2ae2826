"""The fakes every use-case test starts from."""

from __future__ import annotations

import pytest

from tests.fakes import Fakes


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()
