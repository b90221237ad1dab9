"""Operator tests: kmock's emulator (the ``kmock`` fixture) taught our resources."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import kube


@pytest.fixture
async def cluster(kmock: Any) -> Any:
    kube.teach(kmock)
    return kmock
