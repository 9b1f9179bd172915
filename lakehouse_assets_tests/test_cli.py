"""`dagster asset materialize` from the shell, as the README shows it, on a copy of the lakehouse
built from data_seeds: one bronze dataset and day, a silver partition, and one table of a gold
multi-asset. Each command is a real Dagster CLI process with its own Spark session."""

import datetime as dt
import os
import shutil
import subprocess

import pyarrow.compute as pc
import pytest
from dagster import DagsterEventType, DagsterInstance
from dagster_deltalake import DeltaTableResource, LocalConfig

from lakehouse_assets.resources.delta_io_manager import AUDIT_COLUMNS
from lakehouse_assets_tests.conftest import DATA_SEEDS, REPO

DAY = "2023-01-07"  # a landing date of data_seeds with orders
DAGSTER = os.path.join(REPO, ".venv", "bin", "dagster")


@pytest.fixture(scope="module")
def cli(seeded_lakehouse, tmp_path_factory):
    """cli(select, partition=None) -> (CompletedProcess, materialized asset keys of its run)."""
    base = tmp_path_factory.mktemp("cli")
    root = base / "lakehouse"
    shutil.copytree(seeded_lakehouse.storage.root, root)
    home = base / "dagster_home"
    home.mkdir()
    env = {**os.environ, "LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_LANDING_ROOT": DATA_SEEDS,
           "DAGSTER_HOME": str(home)}

    def run(select: str, partition: str | None = None):
        command = [DAGSTER if os.path.exists(DAGSTER) else "dagster", "asset", "materialize",
                   "-m", "lakehouse_assets.definitions", "--select", select]
        if partition:
            command += ["--partition", partition]
        out = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=900)
        with DagsterInstance.from_config(str(home)) as instance:
            [run] = instance.get_runs(limit=1)
            keys = {
                e.dagster_event.asset_key.to_user_string()
                for e in instance.all_logs(run.run_id,
                                           of_type=DagsterEventType.ASSET_MATERIALIZATION)
            }
        return out, keys

    run.root = root
    return run


def table(root, layer: str, name: str):
    path = os.path.join(root, layer, name)
    return DeltaTableResource(url=path, storage_options=LocalConfig()).load()


def test_one_bronze_dataset_and_day(cli):
    ledger_before = table(cli.root, "bronze", "ledger_orders").version()
    out, keys = cli("bronze/orders,bronze/quarantine_orders,bronze/ledger_orders", DAY)

    assert out.returncode == 0, out.stderr[-3000:]
    assert keys == {"bronze/orders", "bronze/quarantine_orders", "bronze/ledger_orders"}
    ledger = table(cli.root, "bronze", "ledger_orders")
    assert ledger.version() > ledger_before
    day = ledger.to_pyarrow_table().filter(
        pc.field("_landing_date") == pc.scalar(dt.date.fromisoformat(DAY)))
    # Same files as the build read: recognised by their hash, carried over, not re-parsed.
    assert day.num_rows > 0 and set(day.column("status").to_pylist()) == {"unchanged"}


def test_one_table_of_a_step_that_writes_together_is_refused_with_the_reason(cli):
    out, keys = cli("bronze/orders", DAY)

    assert out.returncode != 0 and keys == set()
    assert "select all of them" in out.stdout + out.stderr


def test_a_silver_partition(cli):
    out, keys = cli("silver/stg_orders,silver/quarantine_orders", DAY)

    assert out.returncode == 0, out.stderr[-3000:]
    assert keys == {"silver/stg_orders", "silver/quarantine_orders"}


def test_one_gold_table_of_a_multi_asset_after_a_build(cli):
    pairs = table(cli.root, "gold", "fct_product_pairs")
    before, version = pairs.to_pyarrow_table(), pairs.version()
    reorders = table(cli.root, "gold", "fct_product_reorders").version()

    out, keys = cli("gold/fct_product_pairs")

    assert out.returncode == 0, out.stderr[-3000:]
    assert keys == {"gold/fct_product_pairs"}  # its step's other tables are not rewritten
    assert table(cli.root, "gold", "fct_product_reorders").version() == reorders
    after = table(cli.root, "gold", "fct_product_pairs")
    assert after.version() > version
    columns = [c for c in before.column_names if c not in AUDIT_COLUMNS]  # when, which run
    key = [(c, "ascending") for c in columns]
    assert after.to_pyarrow_table().select(columns).sort_by(key).equals(
        before.select(columns).sort_by(key))  # same inputs, same table
