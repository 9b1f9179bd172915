"""Smoke run of the benchmark harness: the README's benchmark command at size XS, once.

Benchmarks are not tests; this only proves that the one command still runs end to end and
writes a complete report: every scenario measured, the gold numbers of the Dagster build, the
plain PySpark script and DuckDB equal, and every Spark run in one JVM. It writes into pytest's
temporary directory, never into benchmarks/out.
"""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = ("generator", "full_build", "incremental_day", "incremental_scaling", "peers")
# The generator, DuckDB and the run against the warm Spark Connect server start no JVM.
NO_JVM = {("generator", "generate"), ("peers", "duckdb"), ("incremental_day", "warm_server")}


def test_benchmark_command_at_size_xs(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--size", "XS", "--repeat", "1",
         "--workdir", str(work), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=3600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    assert (out / "XS" / "report.md").is_file()
    report = json.loads((out / "XS" / "report.json").read_text())
    assert report["machine"]["cores"] and report["machine"]["spark"]

    for scenario in SCENARIOS:
        entry = report["scenarios"][scenario]
        assert not entry.get("error") and not entry.get("skipped"), (scenario, entry)
        assert entry["variants"], scenario
        for name, variant in entry["variants"].items():
            [run] = variant["runs"]
            assert run["ok"], (scenario, name, run["inner"].get("error"), run["log"])
            assert run["wall_s"] > 0 and run["peak_rss_mib"] > 0, (scenario, name)
            expected_jvms = 0 if (scenario, name) in NO_JVM else 1
            assert run["jvm_starts"] == expected_jvms, (scenario, name, run["jvm_starts"])
            if (scenario, name) == ("incremental_day", "warm_server"):  # the server's CPU
                assert run["jvm_cpu_s"]["spark_tasks"] > 0, run["jvm_cpu_s"]
            if expected_jvms:  # the driver JVM's CPU time, split by what its threads do
                cpu = run["jvm_cpu_s"]
                assert cpu["jit_compiler"] > 0 and cpu["spark_tasks"] > 0, (scenario, name, cpu)
                parts = sum(v for k, v in cpu.items() if k != "total")
                assert abs(parts - cpu["total"]) < 0.5, (scenario, name, cpu)

    verification = report["scenarios"]["peers"]["verification"]
    assert verification["equal"], verification.get("differences") or verification.get("error")
    assert report["scenarios"]["full_build"]["variants"]["dagster"]["stats"]["steps_median_s"]
    assert report["scenarios"]["incremental_day"]["share_of_full_build"] > 0
    assert report["scenarios"]["incremental_day"]["warm_server_share_of_full_build"] > 0
    # XS skips the server's warm-up run (a second whole-graph run) and says so.
    assert report["scenarios"]["incremental_day"]["warm_server_warmed_up"] is False
    assert "not warmed at this size" in (out / "XS" / "report.md").read_text()
    assert report["scenarios"]["incremental_scaling"]["ratio_steps_full_over_short"] > 0
    assert {g["goal"] for g in report["goals"]}  # the goals table is there
    assert "CPU time of the Spark driver JVM" in (out / "XS" / "report.md").read_text()
