"""The README's two commands: the test command is what CI runs, the main command builds the
lakehouse through a real Dagster run (run here into a temporary lakehouse and DAGSTER_HOME)."""

import os
import re
import subprocess

from dagster import DagsterInstance

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_commands() -> list[str]:
    with open(os.path.join(REPO, "README.md")) as f:
        return re.findall(r"```bash\n(.+?)\n```", f.read())[:2]


def test_ci_runs_the_readme_test_command_exactly():
    main_command, test_command = readme_commands()
    with open(os.path.join(REPO, ".ci", "run")) as f:
        ci_lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    assert test_command in ci_lines
    assert "lakehouse-build" in main_command and "pytest" in test_command


def test_main_command_builds_every_table_in_one_dagster_run_with_one_jvm(tmp_path):
    main_command, _ = readme_commands()
    env = {
        **os.environ,
        "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    out = subprocess.run(
        ["bash", "-c", main_command], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=1500,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "succeeded. Tables (Delta) under " + str(tmp_path / "lakehouse") in out.stdout
    assert "Customers by segment" in out.stdout and "Champions" in out.stdout
    for layer in ("bronze", "silver", "gold", "ml"):
        assert os.listdir(tmp_path / "lakehouse" / layer)

    from lakehouse_assets.definitions import all_assets

    expected = {key for a in all_assets for key in a.keys}
    with DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        # Latest event per asset: a range run records one materialization per partition.
        latest = {key: instance.get_latest_materialization_event(key) for key in expected}
    missing = sorted(k.to_user_string() for k, e in latest.items() if e is None)
    assert not missing, f"not materialized: {missing}"
    runs = {e.run_id for e in latest.values()}
    app_ids = {
        e.asset_materialization.metadata["spark_application_id"].value
        for e in latest.values()
        if "spark_application_id" in e.asset_materialization.metadata
    }
    assert len(runs) == 1, "the whole build is one Dagster run"
    assert len(app_ids) == 1, f"one SparkSession for the whole run, got {app_ids}"
