"""Shared fixtures: one real SparkSession with Delta Lake for the whole test process.

Every test gets its own lakehouse root under pytest's tmp_path, so tables never leak
between tests; the session (and its JVM) is started once.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess

import pytest
from dagster import DagsterEventType

from lakehouse_assets.build import apply_range_run_settings
from lakehouse_assets.resources import LakehouseStorage, build_resources
from lakehouse_assets.resources.spark import build_spark_session

def free_port() -> int:
    """A free TCP port on the loopback interface, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# As lakehouse-build runs (one planned event per asset for a range run, events batched).
apply_range_run_settings()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    catalog_dir = str(tmp_path_factory.mktemp("catalog"))
    session = build_spark_session(
        # Set, the tests run over Spark Connect against that server (see test_spark_connect).
        remote=os.environ.get("LAKEHOUSE_SPARK_REMOTE") or None,
        catalog_dir=catalog_dir,
        shuffle_partitions=2,
        app_name="lakehouse_assets_tests",
    )
    yield session


@pytest.fixture(autouse=True, scope="module")
def _forget_delta_tables_after_each_module():
    """Delta keeps every table it opened, and a cached copy of its state, for the life of the
    JVM. One session runs the whole suite over thousands of short-lived tables: without this,
    those copies filled the driver's heap near the end of the suite (OutOfMemoryError)."""
    yield
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    jvm = getattr(session, "_jvm", None)  # None over Spark Connect: the server keeps its own
    if jvm is not None:
        jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()


@pytest.fixture
def lakehouse_root(tmp_path) -> str:
    root = tmp_path / "lakehouse"
    root.mkdir()
    return str(root)


@pytest.fixture
def resources(spark, lakehouse_root):
    """The code location's resources, bound to the test's own lakehouse root."""
    return build_resources(LakehouseStorage(lakehouse_root=lakehouse_root))


DATA_SEEDS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data_seeds")


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_commands() -> list[str]:
    """The README's two opening commands: build the lakehouse, run the tests."""
    with open(os.path.join(REPO, "README.md")) as f:
        return re.findall(r"```bash\n(.+?)\n```", f.read())[:2]


class RecordedRun:
    """A finished Dagster run read back from its instance (what ``execute_in_process`` returns
    in-process, for a run made by another process)."""

    def __init__(self, instance, run_id: str):
        self.instance, self.run_id = instance, run_id

    def _events(self, event_type):
        return [e.dagster_event for e in self.instance.all_logs(self.run_id, of_type=event_type)]

    def get_asset_materialization_events(self):
        return self._events(DagsterEventType.ASSET_MATERIALIZATION)

    def step_keys(self) -> list[str]:
        return sorted({e.step_key for e in self._events(DagsterEventType.STEP_SUCCESS)})

    def get_asset_check_evaluations(self):
        return [
            e.event_specific_data for e in self._events(DagsterEventType.ASSET_CHECK_EVALUATION)
        ]


class SeededLakehouse:
    """The whole lakehouse built once from data_seeds by the README's main command (a real
    ``lakehouse-build``: one Dagster run over every landing date, in its own process)."""

    def __init__(self, spark, storage, resources, result, stdout, stderr, dagster_home):
        self.spark, self.storage, self.resources, self.result = spark, storage, resources, result
        self.stdout, self.stderr, self.dagster_home = stdout, stderr, dagster_home

    def table(self, layer: str, name: str):
        return self.spark.read.format("delta").load(self.storage.table_path(layer, name))

    def rows(self, layer: str, name: str, key: str) -> dict:
        return {r[key]: r for r in self.table(layer, name).collect()}


@pytest.fixture(scope="session")
def seeded_lakehouse(spark, tmp_path_factory):
    from dagster import DagsterInstance

    from lakehouse_assets.resources import LakehouseStorage, build_resources

    base = tmp_path_factory.mktemp("seeded")
    storage = LakehouseStorage(lakehouse_root=str(base / "lakehouse"), landing_root=DATA_SEEDS)
    dagster_home = str(base / "dagster_home")
    main_command, _ = readme_commands()
    out = subprocess.run(
        ["bash", "-c", main_command],
        cwd=REPO,
        env={**os.environ, "LAKEHOUSE_ROOT": storage.root, "DAGSTER_HOME": dagster_home},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    with DagsterInstance.from_config(dagster_home) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success, [(r.run_id, r.status) for r in runs]
        yield SeededLakehouse(
            spark,
            storage,
            build_resources(storage),
            RecordedRun(instance, runs[0].run_id),
            out.stdout,
            out.stderr,
            dagster_home,
        )
