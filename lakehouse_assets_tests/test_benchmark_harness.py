"""The benchmark harness's own logic, without running a benchmark (the smoke test does that):
its options, the Dagster instance configuration it gives every run, how it measures the cost of
recording materializations and how it reports the driver JVM's CPU time. No Spark here."""

import datetime as dt
import os

import pytest
from dagster import (
    DagsterInstance,
    DailyPartitionsDefinition,
    Definitions,
    asset,
    define_asset_job,
)

from benchmarks import report as reporting
from benchmarks.harness import DEFAULT_INSTANCE, Harness, parse_args
from benchmarks.measure import JVM_THREAD_KINDS, JvmCpuSpan, jvm_thread_kind
from benchmarks.scenario import materialization_log
from lakehouse_assets.build import RANGE_RUN_SETTINGS, apply_range_run_settings
from lakehouse_assets.partitions import range_tags

PG_YAML = "storage:\n  postgres:\n    postgres_db: {hostname: db, username: u, db_name: d}\n"


def test_dagster_yaml_is_refused_with_the_snapshot_scenarios(tmp_path, capsys):
    config = tmp_path / "pg.yaml"
    config.write_text(PG_YAML)
    for scenario in ("incremental_day", "incremental_scaling", "day_stages"):
        with pytest.raises(SystemExit):
            parse_args(["--size", "S", "--scenarios", scenario, "--dagster-yaml", str(config)])
        assert "--dagster-yaml works with generator, full_build and peers only" in (
            capsys.readouterr().err
        )
    args = parse_args(["--size", "S", "--scenarios", "peers,full_build",
                       "--dagster-yaml", str(config)])
    assert args.scenarios == ["full_build", "peers"]
    # The stage profile is a diagnosis: only when asked for.
    assert "day_stages" not in parse_args(["--size", "S"]).scenarios
    assert parse_args(["--size", "S", "--scenarios", "day_stages"]).scenarios == ["day_stages"]


def test_every_dagster_run_gets_the_instance_configuration(tmp_path):
    config = tmp_path / "pg.yaml"
    config.write_text(PG_YAML)
    common = ["--size", "S", "--scenarios", "peers", "--workdir", str(tmp_path / "work"),
              "--out", str(tmp_path / "out")]

    harness = Harness(parse_args([*common, "--dagster-yaml", str(config)]))
    env = harness.dagster_env(tmp_path / "run")
    written = (tmp_path / "run" / "dagster_home" / "dagster.yaml").read_text()
    assert env["DAGSTER_HOME"] == str(tmp_path / "run" / "dagster_home")
    assert written.startswith("telemetry:\n  enabled: false\n") and written.endswith(PG_YAML)
    assert harness.report["harness"]["dagster_instance"] == PG_YAML
    assert "```yaml\n" + PG_YAML.strip() + "\n```" in reporting.markdown(harness.report)

    default = Harness(parse_args(common))
    default.dagster_env(tmp_path / "run2")
    assert (tmp_path / "run2" / "dagster_home" / "dagster.yaml").read_text() == (
        "telemetry:\n  enabled: false\n"
    )
    assert f"Dagster instance: {DEFAULT_INSTANCE}." in reporting.markdown(default.report)


def test_runs_get_the_range_run_settings_unless_the_environment_has_its_own(tmp_path):
    env = {"DAGSTER_EVENT_BATCH_SIZE": "50"}
    apply_range_run_settings(env)
    assert env == {"DAGSTER_EVENT_BATCH_SIZE": "50",
                   "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}
    harness = Harness(parse_args(["--size", "S", "--workdir", str(tmp_path / "work"),
                                  "--out", str(tmp_path / "out")]))
    child = harness.env()
    for name, value in RANGE_RUN_SETTINGS.items():
        assert child[name] == os.environ.get(name, value)


def test_the_report_records_the_event_batching_setting(tmp_path, monkeypatch):
    # Dagster batches a range run's per-partition events only with this variable set; the
    # setting changes what a run costs, so a report measured with it must say so.
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    harness = Harness(parse_args(["--size", "S", "--scenarios", "peers", "--workdir",
                                  str(tmp_path / "work"), "--out", str(tmp_path / "out")]))
    assert harness.report["harness"]["environment"]["DAGSTER_EVENT_BATCH_SIZE"] == "1000"
    assert "`DAGSTER_EVENT_BATCH_SIZE=1000`" in reporting.markdown(harness.report)


@pytest.mark.parametrize("batch_size", ["0", "1000"])
def test_materialization_log_counts_one_event_per_table_and_day(batch_size, monkeypatch):
    # With batching on, the events of a range are stored together after the last one: the
    # gap that follows it is measured as well.
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
    days = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")

    @asset(partitions_def=days)
    def first() -> None:
        return None

    @asset(partitions_def=days, deps=[first])
    def second() -> None:
        return None

    job = define_asset_job("both")
    defs = Definitions(assets=[first, second], jobs=[job])
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("both").execute_in_process(
            instance=instance,
            tags=range_tags("2024-01-01", "2024-01-05"),
        )
        assert result.success
        log = materialization_log(instance.all_logs(result.run_id))
    assert log["events"] == 10  # 2 assets x 5 days
    # Every materialization is followed by another event of its step (the next
    # materialization, then the step's HANDLED_OUTPUT).
    assert log["measured"] == 10
    assert 0 < log["seconds"] < 60


def test_jvm_threads_are_told_apart_by_their_linux_names():
    # /proc shows at most 15 characters of a thread's name.
    kinds = {
        "C2 CompilerThre": "jit_compiler",
        "C1 CompilerThre": "jit_compiler",
        "GC Thread#0": "garbage_collector",  # G1 and Parallel GC workers
        "G1 Conc#0": "garbage_collector",
        "G1 Refine#0": "garbage_collector",
        "Executor task l": "spark_tasks",  # "Executor task launch worker"
        "Executor task i": "spark_tasks",  # the same thread between tasks: "... idle worker"
        "Thread-4": "driver_and_other",  # py4j: the Python driver's calls
        "dag-scheduler-e": "driver_and_other",
        "VM Thread": "driver_and_other",
    }
    assert {name: jvm_thread_kind(name) for name in kinds} == kinds


def test_the_report_shows_where_each_spark_runs_cpu_went(tmp_path):
    harness = Harness(parse_args(["--size", "S", "--scenarios", "peers", "--workdir",
                                  str(tmp_path / "work"), "--out", str(tmp_path / "out")]))
    cpu = {"total": 180.0, "jit_compiler": 90.0, "garbage_collector": 10.0, "spark_tasks": 30.0,
           "driver_and_other": 50.0}
    run = {"ok": True, "wall_s": 100.0, "peak_rss_mib": 2000.0, "jvm_starts": 1, "inner": {}}
    harness.report["scenarios"]["peers"] = {"variants": {
        "script": {"runs": [
            {**run, "jvm_cpu_s": cpu},
            {**run, "wall_s": 110.0, "jvm_cpu_s": {k: 2 * v for k, v in cpu.items()}},
            {**run, "wall_s": 90.0, "jvm_cpu_s": cpu},
        ]},
        "duckdb": {"runs": [{**run, "jvm_starts": 0, "jvm_cpu_s": {}}]},  # no JVM, no row
    }}
    reporting.finish(harness.report)
    stats = harness.report["scenarios"]["peers"]["variants"]["script"]["stats"]
    assert stats["jvm_cpu_median_s"] == cpu  # medians over the repetitions
    lines = reporting.markdown(harness.report).splitlines()
    assert "| peers | script | 100.0 | 180.0 | 1.80 | 90.0 (50 %) | 10.0 (6 %) | 30.0 (17 %) " \
           "| 50.0 (28 %) |" in lines
    assert not [line for line in lines if line.startswith("| peers | duckdb | 100.0 | ")]


def test_cpu_span_of_a_long_lived_process_counts_only_its_span():
    """JvmCpuSpan (the warm server's CPU over one run): CPU spent before ``start`` does not
    count; a process without JVM threads has all of it under driver_and_other."""
    import subprocess
    import sys
    import textwrap

    # Spends one CPU second, says so, waits for a line; twice.
    script = textwrap.dedent("""
        import sys, time
        for _ in range(2):
            end = time.process_time() + 1.0
            while time.process_time() < end:
                pass
            print("spent", flush=True)
            sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "spent\n"  # the first second: before the span
        span = JvmCpuSpan(proc.pid)
        span.start()
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "spent\n"  # the second one: inside it
        cpu = span.stop()
        proc.stdin.write("\n")
        proc.stdin.flush()
    finally:
        proc.wait(timeout=60)
    assert 0.9 <= cpu["total"] <= 1.5, cpu
    assert cpu["driver_and_other"] == cpu["total"]
    assert all(cpu[kind] == 0 for kind in JVM_THREAD_KINDS)
    gone = JvmCpuSpan(proc.pid)
    gone.start()
    assert gone.stop() == {}  # the process has exited: nothing to report


def test_stage_data_is_summed_per_step_with_the_history_s_share():
    """benchmarks.stages: each Spark job belongs to the step it started in; a stage over
    MANY_ROWS rows (read, shuffled or written) counts as work on the history."""
    from benchmarks import stages

    def job(job_id, at, stage_ids):
        return {"jobId": job_id, "submissionTime": f"2026-12-08T00:00:{at:02d}.000GMT",
                "stageIds": stage_ids}

    def stage(stage_id, ms, name, rows_in=0, shuffled=0, status="COMPLETE"):
        return {"stageId": stage_id, "executorRunTime": ms, "name": name, "status": status,
                "inputRecords": rows_in, "shuffleReadRecords": shuffled,
                "shuffleWriteRecords": 0}

    t0 = dt.datetime(2026, 12, 8, tzinfo=dt.timezone.utc).timestamp()
    steps = {"silver": (t0, t0 + 10), "gold": (t0 + 10.5, t0 + 20)}
    jobs = [job(0, 1, [0, 1]), job(1, 5, [2]), job(2, 12, [3]), job(3, 30, [4])]
    stage_list = [
        stage(0, 2000, "collect at /repo/checks/rules.py:1", rows_in=750_000),
        stage(1, 500, "collect at /repo/checks/rules.py:1", shuffled=3_000),
        stage(2, 1500, "merge", rows_in=2_000),
        stage(3, 250, "first at counting.py:9", rows_in=10),
        stage(4, 9000, "outside every step", rows_in=10**6),  # job 3: after the steps
        stage(5, 700, "skipped", status="SKIPPED"),
    ]
    summary = stages.summarize(jobs, stage_list, steps)
    assert summary["silver"] == {
        "jobs": 2, "stages": 3, "task_s": 4.0, "many_rows_task_s": 2.0,
        "sites": {"collect at /repo/checks/rules.py:1": {"stages": 2, "task_s": 2.5},
                  "merge": {"stages": 1, "task_s": 1.5}},
    }
    assert summary["gold"]["jobs"] == 1 and summary["gold"]["many_rows_task_s"] == 0.0
    report = {"variants": {"sensor_and_run": {"runs": [
        {"ok": True, "inner": {"stages": summary, "steps": {"silver": 10.0, "gold": 9.5}}}
    ]}}}
    text = "\n".join(reporting._day_stages(report, "##"))
    assert "| `silver` | 10.0 | 2 | 4.0 | 2.0 | collect at rules.py:1 (2.5 s) |" in text
