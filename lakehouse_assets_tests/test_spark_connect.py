"""The lakehouse over Spark Connect: a warm local server started by ``lakehouse-spark-server``,
found by every run of the lakehouse it was started for.

A real server (the installed pyspark's Spark Connect server class with Delta's SQL extension
and the cached jars) on a free loopback port; the README's main command in a new process,
which starts no JVM of its own, builds every table through it; the tables equal the classic
in-process build of the seeded lakehouse, row for row. No ``DeltaTable`` Python API is
involved: it needs a Delta Connect plugin the server does not have. The Delta IO manager's
tests and the write-audit-publish test run over the same server too.
"""

import os
import socket
import subprocess
import sys
import time

import psutil
import pytest

from lakehouse_assets_tests.conftest import REPO, readme_commands

SERVER = [os.path.join(REPO, ".venv", "bin", "lakehouse-spark-server")]
# Written when the run happens, not what it computes.
AUDIT = {"processing_timestamp", "_ingested_at", "_run_id"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("connect")
    env = {**os.environ, "LAKEHOUSE_SPARK_SERVER_STATE": str(base / "server.json"),
           "LAKEHOUSE_ROOT": str(base / "lakehouse"), "DAGSTER_HOME": str(base / "dagster_home")}
    port = str(_free_port())
    started = subprocess.run(
        [*SERVER, "start", "--port", port], env=env, capture_output=True, text=True, timeout=300
    )
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield env, port, started.stdout
    finally:
        stopped = subprocess.run([*SERVER, "stop"], env=env, capture_output=True, text=True)
        assert "Stopped." in stopped.stdout, stopped.stdout + stopped.stderr


def _run_watching_jvms(command: list[str], env: dict, log_dir: str) -> tuple[int, str, str, set]:
    """Run ``command``; its return code, output, errors and the JVMs its process tree started."""
    # Output to files, not pipes: nobody reads a pipe while the command runs, and its log fills
    # one (the command then blocks on its next write).
    logs = {name: open(os.path.join(log_dir, f"{os.getpid()}.{name}"), "w+")
            for name in ("out", "err")}
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=logs["out"], stderr=logs["err"],
                            text=True)
    jvms, deadline = set(), time.monotonic() + 1800
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            tree = psutil.Process(proc.pid).children(recursive=True)
            jvms |= {p.pid for p in tree if p.name() == "java"}
        except psutil.Error:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    out, err = (f.seek(0) or f.read() for f in logs.values())
    for f in logs.values():
        f.close()
    return proc.returncode, out, err, jvms


def test_the_main_command_builds_every_table_through_the_server(server, seeded_lakehouse, spark):
    env, port, started = server
    assert f"sc://127.0.0.1:{port}" in started
    status = subprocess.run([*SERVER, "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 0 and "Running at" in status.stdout

    main_command, _ = readme_commands()
    returncode, out, err, jvms = _run_watching_jvms(
        ["bash", "-c", main_command], env, os.path.dirname(env["LAKEHOUSE_ROOT"])
    )
    assert returncode == 0, out[-2000:] + err[-3000:]
    assert not jvms, "the build started a JVM of its own"
    assert "succeeded. Tables (Delta) under" in out and "Champions" in out

    # Every table equals the classic in-process build of the same landing zone.
    root = env["LAKEHOUSE_ROOT"]
    for layer in ("bronze", "silver", "gold", "ml"):
        for table in sorted(os.listdir(os.path.join(seeded_lakehouse.storage.root, layer))):
            if table == "exports" or table == "data_quality_summary":
                continue  # a Parquet file; one row per run (run ids differ)
            over_connect = spark.read.format("delta").load(os.path.join(root, layer, table))
            classic = seeded_lakehouse.table(layer, table)
            columns = [c for c in classic.columns if c not in AUDIT]
            assert sorted(over_connect.columns) == sorted(classic.columns), table
            difference = over_connect.select(columns).exceptAll(classic.select(columns))
            assert difference.isEmpty() and over_connect.count() == classic.count(), (
                f"{layer}.{table} differs over Spark Connect"
            )


def test_the_io_manager_and_write_audit_publish_tests_pass_over_the_server(server, tmp_path):
    """The Delta IO manager's tests and the write-audit-publish pipeline test, run as they are
    with LAKEHOUSE_SPARK_REMOTE pointing at the server: the same code, no JVM of their own."""
    env, port, _ = server
    returncode, out, err, jvms = _run_watching_jvms(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "lakehouse_assets_tests/test_delta_io_manager.py",
         "lakehouse_assets_tests/test_checks_pipeline.py"
         "::test_a_failed_blocking_rule_commits_nothing_and_says_why"],
        {**env, "LAKEHOUSE_SPARK_REMOTE": f"sc://127.0.0.1:{port}"}, str(tmp_path),
    )
    assert returncode == 0, out[-4000:] + err[-2000:]
    assert " passed" in out and "failed" not in out and "skipped" not in out, out[-2000:]
    assert not jvms, "the tests started a JVM of their own"
