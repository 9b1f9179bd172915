"""The command line, as the README shows it.

`dagster asset materialize` on a copy of the lakehouse built from data_seeds: one bronze
dataset and day, a silver partition, and one table of a gold multi-asset, each a real Dagster
CLI process with its own Spark session; `dg` and `dagster` load the one code location; and
`lakehouse-build`'s progress, as a bar on a terminal (a pseudo-terminal) and as lines elsewhere.
"""

import datetime as dt
import json
import os
import shutil
import subprocess

import pyarrow.compute as pc
import pytest
from dagster import DagsterEventType, DagsterInstance

from lakehouse_assets.resources.delta_io_manager import AUDIT_COLUMNS
from lakehouse_assets.resources.storage import local_delta_table
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
    return local_delta_table(path)


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


def test_every_command_loads_the_one_code_location():
    """`dagster` through workspace.yaml or -m, and `dg` through [tool.dg], load the same
    definitions (the defs/ folder) under one name, without warnings."""
    from lakehouse_assets.definitions import defs

    venv = os.path.join(REPO, ".venv")
    env = {**os.environ, "VIRTUAL_ENV": venv,
           "PATH": os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", "")}
    listed = subprocess.run(["dg", "list", "defs", "--json"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300, check=True)
    found = json.loads(listed.stdout)
    assert {a["asset_key"] for a in found["assets"]} == {
        key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()
    }
    assert {s["name"] for s in found["sensors"]} == {s.name for s in defs.sensors}
    assert sorted(r["name"] for r in found["resources"]) == sorted(defs.resources)
    for pointer in ([], ["-m", "lakehouse_assets.definitions"]):
        checked = subprocess.run(["dagster", "definitions", "validate", *pointer], cwd=REPO,
                                 env=env, capture_output=True, text=True, timeout=300)
        log = checked.stdout + checked.stderr
        assert checked.returncode == 0, log
        assert "Validation successful for code location lakehouse_assets.definitions" in log
        assert " - WARNING - " not in log, log


def _followed_run(out) -> str:
    """Progress of a real three-step run (one step fails) written to ``out``; the run's id."""
    import uuid

    from dagster import DagsterInstance, Definitions, asset, define_asset_job

    from lakehouse_assets.build import Progress

    @asset
    def first() -> int:
        return 1

    @asset
    def second(first: int) -> int:
        return first + 1

    @asset
    def broken() -> int:
        raise ValueError("this step fails")

    job = Definitions(assets=[first, second, broken], jobs=[define_asset_job("all")]
                      ).resolve_job_def("all")
    run_id = str(uuid.uuid4())
    with DagsterInstance.ephemeral() as instance, Progress(instance, run_id, out):
        job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False)
    return run_id


def test_progress_on_a_terminal_is_one_bar_redrawn_in_place():
    import pty

    controller, terminal = pty.openpty()
    with os.fdopen(terminal, "w") as out:
        assert out.isatty()
        _followed_run(out)
        os.set_blocking(controller, False)
        shown = b""
        while True:
            try:
                shown += os.read(controller, 65536)
            except BlockingIOError:
                break
    os.close(controller)
    text = shown.decode()
    frames = [frame.rstrip() for frame in text.split("\r") if frame.strip()]
    assert frames and all(frame.startswith("  [") for frame in frames), frames
    assert "3/3 steps, 1 failed" in frames[-1] and "#" * 24 in frames[-1], frames[-1]
    assert text.endswith("\n") and text.count("\n") == 1  # redrawn in place, one final newline
    assert "done (" not in text  # no per-step lines on a terminal


def test_progress_elsewhere_is_one_line_per_finished_step():
    import io

    out = io.StringIO()
    _followed_run(out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith("  [") for line in lines), lines
    assert [line.split("] ")[0] for line in lines] == ["  [1/3", "  [2/3", "  [3/3"]
    assert [line for line in lines if " FAILED (" in line] == [
        next(line for line in lines if "broken FAILED (" in line)]
    assert "\r" not in out.getvalue()
