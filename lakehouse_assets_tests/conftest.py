"""Shared fixtures: one real SparkSession with Delta Lake for the whole test process.

Every test gets its own lakehouse root under pytest's tmp_path, so tables never leak
between tests; the session (and its JVM) is started once.
"""

from __future__ import annotations

import os

import pytest

from lakehouse_assets.resources.spark import build_spark_session


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    catalog_dir = str(tmp_path_factory.mktemp("catalog"))
    session = build_spark_session(
        catalog_dir=catalog_dir,
        shuffle_partitions=2,
        app_name="lakehouse_assets_tests",
    )
    yield session


@pytest.fixture
def lakehouse_root(tmp_path) -> str:
    root = tmp_path / "lakehouse"
    root.mkdir()
    return str(root)
