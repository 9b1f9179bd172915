"""Shared fixtures: one real SparkSession with Delta Lake for the whole test process.

Every test gets its own lakehouse root under pytest's tmp_path, so tables never leak
between tests; the session (and its JVM) is started once.
"""

from __future__ import annotations

import os

import pytest

from lakehouse_assets.build import PLANNED_EVENTS_ENV
from lakehouse_assets.resources.spark import build_spark_session

# As lakehouse-build runs: one planned event per asset for a range run, not one per day.
os.environ.setdefault(PLANNED_EVENTS_ENV, "true")


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


DATA_SEEDS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data_seeds")


class SeededLakehouse:
    """The whole lakehouse built once from data_seeds through the real build_lakehouse job."""

    def __init__(self, spark, storage, resources, result):
        self.spark, self.storage, self.resources, self.result = spark, storage, resources, result

    def table(self, layer: str, name: str):
        return self.spark.read.format("delta").load(self.storage.table_path(layer, name))

    def rows(self, layer: str, name: str, key: str) -> dict:
        return {r[key]: r for r in self.table(layer, name).collect()}


@pytest.fixture(scope="session")
def seeded_lakehouse(spark, tmp_path_factory) -> SeededLakehouse:
    from lakehouse_assets.definitions import build_definitions, build_lakehouse_job
    from lakehouse_assets.landing import scan_landing_zone
    from lakehouse_assets.resources import LakehouseStorage, build_resources

    storage = LakehouseStorage(
        lakehouse_root=str(tmp_path_factory.mktemp("seeded") / "lakehouse"),
        landing_root=DATA_SEEDS,
    )
    resources = build_resources(storage)
    dates = sorted({f.landing_date for f in scan_landing_zone(DATA_SEEDS).files})
    result = (
        build_definitions(resources)
        .resolve_job_def(build_lakehouse_job.name)
        .execute_in_process(
            tags={
                "dagster/asset_partition_range_start": dates[0].isoformat(),
                "dagster/asset_partition_range_end": dates[-1].isoformat(),
            }
        )
    )
    assert result.success
    return SeededLakehouse(spark, storage, resources, result)
