"""The README's two commands: the test command is what CI runs; the main command builds the
lakehouse through a real Dagster run. The main command's build is the ``seeded_lakehouse``
fixture (conftest), so the suite builds data_seeds once; these tests check what it printed,
recorded and registered."""

import json
import os
import subprocess
import sys

from lakehouse_assets.definitions import table_assets
from lakehouse_assets_tests.conftest import REPO, readme_commands


def test_ci_runs_the_readme_test_command_exactly():
    main_command, test_command = readme_commands()
    with open(os.path.join(REPO, ".ci", "run")) as f:
        ci_lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    assert test_command in ci_lines
    assert "lakehouse-build" in main_command and "pytest" in test_command


def test_main_command_builds_every_table_in_one_dagster_run_with_one_jvm(seeded_lakehouse):
    root = seeded_lakehouse.storage.root
    assert "succeeded. Tables (Delta) under " + root in seeded_lakehouse.stdout
    assert "Customers by segment" in seeded_lakehouse.stdout
    assert "Champions" in seeded_lakehouse.stdout
    for layer in ("bronze", "silver", "gold", "ml"):
        assert os.listdir(os.path.join(root, layer))

    expected = {key for a in table_assets for key in a.keys}
    events = seeded_lakehouse.result.get_asset_materialization_events()
    assert {e.asset_key for e in events} == expected
    app_ids = {
        e.materialization.metadata["spark_application_id"].value
        for e in events
        if "spark_application_id" in e.materialization.metadata
    }
    assert len(app_ids) == 1, f"one SparkSession for the whole run, got {app_ids}"


def test_main_command_output_is_progress_not_an_event_stream(seeded_lakehouse):
    """Not a terminal (captured): one line per finished step, then the summary; Dagster's event
    stream only with --verbose; Spark's expected warnings do not scroll by."""
    stdout, stderr = seeded_lakehouse.stdout, seeded_lakehouse.stderr
    steps = [line for line in stdout.splitlines() if line.lstrip().startswith("[")]
    total = len(seeded_lakehouse.result.step_keys())
    assert len(steps) == total and steps[-1].lstrip().startswith(f"[{total}/{total}]"), steps[-3:]
    assert all(line.split()[-3] == "done" for line in steps), [s for s in steps if "done" not in s]
    assert "STEP_START" not in stdout + stderr and " - DEBUG - " not in stdout + stderr
    for noise in ("No Partition Defined for Window operation", "was created concurrently",
                  "Couldn't find corresponding Hive SerDe", "task of very large size",
                  "resolves to a loopback address", "No dagster instance configuration file"):
        assert noise not in stderr, noise
    assert len(stdout) + len(stderr) < 30_000, (len(stdout), len(stderr))


CATALOG_PROBE = """
import json, sys
from lakehouse_assets.resources.spark import build_spark_session
spark = build_spark_session(catalog_dir=sys.argv[1])
tables = sorted(f"{db.name}.{t.name}" for db in spark.catalog.listDatabases()
                if db.name != "default" for t in spark.catalog.listTables(db.name))
detail = spark.sql("DESCRIBE DETAIL gold.fct_customer_metrics").first()
rows = spark.sql("SELECT count(*) AS n FROM gold.fct_customer_metrics").first()["n"]
print(json.dumps({"tables": tables, "location": detail["location"], "rows": rows}))
"""


def test_a_new_process_finds_every_table_in_the_catalog(seeded_lakehouse):
    """After the run, any Spark session on <root>/_catalog queries <layer>.<table> by name."""
    out = subprocess.run(
        [sys.executable, "-c", CATALOG_PROBE, seeded_lakehouse.storage.catalog_dir],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    tables = {
        ".".join(k.path) for a in table_assets for k in a.keys
        if k.path[-1] != "ml_customer_features_parquet"
    }
    assert set(found["tables"]) == tables
    path = seeded_lakehouse.storage.table_path("gold", "fct_customer_metrics")
    assert found["location"].removeprefix("file:").rstrip("/") == path
    assert found["rows"] == 70


def test_the_documented_postgres_instance_config_is_valid_for_dagster(tmp_path, monkeypatch):
    """deploy/dagster-postgres.yaml, read and validated by Dagster's own instance loader (no
    database is contacted); the extra that installs its storage is declared."""
    import shutil
    import tomllib

    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(os.path.join(REPO, "deploy", "dagster-postgres.yaml"), tmp_path / "dagster.yaml")
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        monkeypatch.setenv(name, "x")
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    assert any(d.startswith("dagster-postgres") for d in extras["postgres"])
