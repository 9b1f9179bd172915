"""The benchmark report: machine facts, statistics, goals, Markdown, and publishing.

``report.json`` keeps every repetition (wall time, peak RSS, JVM starts, the child's inner
timings and per-step times); ``finish`` derives the statistics and goals from them, so the
JSON can always be re-rendered. ``publish`` puts the Markdown of one size into BENCHMARKS.md
between ``<!-- results:start -->`` and ``<!-- results:end -->``, keeping the other sizes.
"""

import datetime as dt
import os
import platform
import re
import statistics
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

from benchmarks.measure import JVM_THREAD_KINDS

GIB = 2**30
START_MARK, END_MARK = "<!-- results:start -->", "<!-- results:end -->"
SIZE_MARK = "<!-- results:size {} -->"

# Which Spark runs must start exactly one JVM: all but the generator, DuckDB and the runs
# against the warm Spark Connect server (whose JVM was started before them).
NO_JVM = {("generator", "generate"), ("peers", "duckdb"), ("incremental_day", "warm_server")}
TOP_STEPS = 25
# The driver JVM's CPU seconds as measure.Measurement.jvm_cpu_s has them.
JVM_CPU_COLUMNS = ("total", *JVM_THREAD_KINDS, "driver_and_other")


# ------------------------------------------------------------------------------ machine
def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _java_version() -> str | None:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (out.stderr or out.stdout).strip().splitlines()
    return " / ".join(line.strip() for line in lines) if lines else None


def _git(repo: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine(repo: Path) -> dict:
    memory = psutil.virtual_memory().total
    commit = _git(repo, "rev-parse", "--short=12", "HEAD")
    dirty = _git(repo, "status", "--porcelain", "--", "lakehouse_assets", "benchmarks")
    return {
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(memory / GIB, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": _java_version(),
        "spark": _version("pyspark"),
        "delta_spark": _version("delta-spark"),
        "dagster": _version("dagster"),
        "duckdb": _version("duckdb"),
        "git_commit": commit,
        "git_dirty": bool(dirty),
        "git_dirty_files": dirty.splitlines() if dirty else [],
    }


def contention(ours: frozenset[int] = frozenset()) -> dict:
    """Load and other JVMs on the machine right before a child starts (none are ours then,
    but for the pids in ``ours``: the harness's own Spark Connect server)."""
    jvms = 0
    for proc in psutil.process_iter(["name"]):
        if proc.info.get("name") == "java" and proc.pid not in ours:
            jvms += 1
    return {"load_1m": round(os.getloadavg()[0], 2), "other_jvms": jvms}


def new_report(*, command: str, size: dict, repeat: int, scenarios: list[str], repo: Path) -> dict:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return {
        "harness": {
            "command": command,
            "started": now,
            "finished": None,
            "repeat": repeat,
            "scenarios": scenarios,
        },
        "machine": machine(repo),
        "size": dict(size),
        "scenarios": {},
        "goals": [],
    }


# ------------------------------------------------------------------------------ statistics
def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _variants(scenarios: dict):
    """(scenario, variant name, variant) for every variant of every scenario."""
    for name, entry in scenarios.items():
        for vname, variant in entry.get("variants", {}).items():
            yield name, vname, variant


def _ok_runs(variant: dict) -> list[dict]:
    return [r for r in variant.get("runs", []) if r["ok"]]


def variant_stats(variant: dict) -> dict:
    runs = variant.get("runs", [])
    ok = _ok_runs(variant)
    walls = [r["wall_s"] for r in ok]
    cpus = [r.get("jvm_cpu_s") or {} for r in ok]
    stats = {
        "n": len(ok),
        "failed": len(runs) - len(ok),
        "median_s": _median(walls),
        "min_s": min(walls) if walls else None,
        "max_s": max(walls) if walls else None,
        "spread_pct": (
            round(100 * (max(walls) - min(walls)) / statistics.median(walls), 1)
            if len(walls) > 1 and statistics.median(walls) > 0 else None
        ),
        "peak_rss_mib": max((r["peak_rss_mib"] for r in ok), default=None),
        "peak_rss_by_kind_mib": max(ok, key=lambda r: r["peak_rss_mib"]).get("peak_rss_by_kind_mib")
        if ok else None,
        "jvm_starts": sorted({r["jvm_starts"] for r in ok}),
        "jvm_cpu_median_s": {
            kind: _median([c.get(kind) for c in cpus])
            for kind in JVM_CPU_COLUMNS if any(c.get(kind) for c in cpus)
        },
        "inner_run_median_s": _median([r["inner"].get("run_seconds") for r in ok]),
        "import_median_s": _median([r["inner"].get("import_seconds") for r in ok]),
        "spark_start_median_s": _median([r["inner"].get("spark_start_seconds") for r in ok]),
        "before_run_start_median_s": _median(
            [r["inner"].get("before_run_start_seconds") for r in ok]
        ),
        "run_events_median": _median([r["inner"].get("run_events") for r in ok]),
        "materializations_median": _median(
            [r["inner"].get("materialization_log", {}).get("events") for r in ok]
        ),
        "materialization_log_median_s": _median(
            [r["inner"].get("materialization_log", {}).get("seconds") for r in ok]
        ),
        "max_other_jvms": max(
            (r["inner"].get("contention_before", {}).get("other_jvms", 0) for r in runs), default=0
        ),
        "max_load_1m": max(
            (r["inner"].get("contention_before", {}).get("load_1m", 0) for r in runs), default=0
        ),
    }
    steps = step_medians(ok)
    if steps:
        stats["steps_median_s"] = steps
        stats["steps_count"] = _median([len(r["inner"].get("steps", {})) for r in ok])
        stats["steps_total_median_s"] = _median(
            [sum(r["inner"].get("steps", {}).values()) for r in ok]
        )
    if runs and not ok:
        stats["error"] = runs[-1]["inner"].get("error") or f"exit code {runs[-1]['returncode']}"
    return stats


def step_medians(runs: list[dict]) -> dict[str, float]:
    keys = sorted({k for r in runs for k in r["inner"].get("steps", {})})
    medians = {k: _median([r["inner"].get("steps", {}).get(k) for r in runs]) for k in keys}
    return dict(sorted(medians.items(), key=lambda kv: -(kv[1] or 0)))


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def _median_of(report: dict, scenario: str, variant: str) -> float | None:
    return (
        report["scenarios"].get(scenario, {}).get("variants", {}).get(variant, {})
        .get("stats", {}).get("median_s")
    )


def finish(report: dict) -> None:
    """Derive statistics, scenario figures and goals from the recorded repetitions."""
    report["harness"]["finished"] = (
        dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    )
    scenarios = report["scenarios"]
    for entry in scenarios.values():
        for variant in entry.get("variants", {}).values():
            variant["stats"] = variant_stats(variant)

    if gen := scenarios.get("generator"):
        ok = _ok_runs(gen["variants"].get("generate", {}))
        if ok:
            rows = ok[0]["inner"]["summary"]["rows"]
            seconds = _median([r["inner"]["seconds"] for r in ok])
            write = {
                ds: _median([r["inner"]["write_seconds"].get(ds) for r in ok]) for ds in rows
            }
            gen["throughput"] = {
                "rows": rows,
                "seconds": seconds,
                "simulate_seconds": _median([r["inner"]["simulate_seconds"] for r in ok]),
                "rows_per_s_total": round(sum(rows.values()) / seconds) if seconds else None,
                "order_items_per_s": round(rows.get("order_items", 0) / seconds) if seconds else None,
                "write_seconds": write,
                "rows_per_s_written": {
                    ds: round(n / write[ds]) if write.get(ds) else None for ds, n in rows.items()
                },
                "mib": round(ok[0]["inner"]["summary"]["bytes_written"] / 2**20, 1),
                "files": ok[0]["inner"]["summary"]["files_written"],
            }

    full = _median_of(report, "full_build", "dagster")
    if inc := scenarios.get("incremental_day"):
        ok = _ok_runs(inc["variants"].get("sensor_and_run", {}))
        inc["sensor_median_s"] = _median([r["inner"].get("sensor_seconds") for r in ok])
        inc["share_of_full_build"] = _ratio(_median_of(report, "incremental_day", "sensor_and_run"), full)
        inc["warm_server_share_of_full_build"] = _ratio(
            _median_of(report, "incremental_day", "warm_server"), full
        )
        if ok:
            inc["sensor_request"] = ok[0]["inner"].get("sensor_run_requests")

    if sc := scenarios.get("incremental_scaling"):
        for variant in sc.get("variants", {}).values():
            s = variant["stats"]
            s["bronze_silver_steps_median_s"] = _median([
                sum(v for k, v in r["inner"].get("steps", {}).items()
                    if k.startswith(("bronze_", "silver_")))
                for r in _ok_runs(variant)
            ])
        vshort = sc["variants"].get("history_short", {}).get("stats", {})
        vfull = sc["variants"].get("history_full", {}).get("stats", {})
        sc["ratio_steps_full_over_short"] = _ratio(
            vfull.get("bronze_silver_steps_median_s"), vshort.get("bronze_silver_steps_median_s")
        )
        sc["ratio_wall_full_over_short"] = _ratio(vfull.get("median_s"), vshort.get("median_s"))

    if peers := scenarios.get("peers"):
        script = _median_of(report, "peers", "script")
        duck = _median_of(report, "peers", "duckdb")
        same = _median_of(report, "peers", "dagster_same_tables")
        peers["comparable"] = bool(peers.get("verification", {}).get("equal"))
        peers["ratios"] = {
            "dagster_same_tables/script": _ratio(same, script),
            "full_build/script": _ratio(full, script),
            "script/duckdb": _ratio(script, duck),
            "dagster_same_tables/duckdb": _ratio(same, duck),
        }

    report["goals"] = goals(report)


def _steps(scenarios: dict, scenario: str, variant: str) -> str:
    count = (scenarios.get(scenario, {}).get("variants", {}).get(variant, {})
             .get("stats", {}).get("steps_count"))
    return "–" if count is None else str(int(count))


def goals(report: dict) -> list[dict]:
    scenarios = report["scenarios"]
    size = report["size"]["name"]
    out = []

    def goal(name, target, measured, passed, note=""):
        out.append({
            "goal": name, "target": target, "measured": measured,
            "status": "n/a" if passed is None else ("pass" if passed else "fail"), "note": note,
        })

    peers = scenarios.get("peers", {})
    ratio = peers.get("ratios", {}).get("dagster_same_tables/script")
    note = "" if peers.get("comparable", True) else "gold numbers differ: not comparable"
    if size != "M":
        note = "; ".join(filter(None, [note, "the goal is set at size M"]))
    goal("Dagster vs plain script, same tables (dagster_same_tables / script)", "<= 1.25 at M",
         ratio, None if ratio is None or size != "M" or not peers.get("comparable") else ratio <= 1.25,
         note)

    inc = scenarios.get("incremental_day", {})
    steps = f"steps: full build {_steps(scenarios, 'full_build', 'dagster')}, new day " + (
        _steps(scenarios, "incremental_day", "sensor_and_run")
    )
    share = inc.get("share_of_full_build")
    goal("One new day vs full build (incremental_day / full_build)", "<= 0.15", share,
         None if share is None else share <= 0.15, steps)
    warm = inc.get("warm_server_share_of_full_build")
    goal("One new day against a warm Spark Connect server vs full build", "<= 0.05 at M", warm,
         None if warm is None or size != "M" else warm <= 0.05,
         "; ".join(filter(None, [
             f"steps: new day {_steps(scenarios, 'incremental_day', 'warm_server')}",
             "" if size == "M" else "the goal is set at size M",
         ])))

    scaling = scenarios.get("incremental_scaling", {}).get("ratio_steps_full_over_short")
    goal("Bronze+silver day after full history vs after 30 days (S: 10), step time ratio", "<= 1.5",
         scaling, None if scaling is None else scaling <= 1.5)

    jvm_runs = [
        r["jvm_starts"]
        for name, vname, variant in _variants(scenarios)
        if (name, vname) not in NO_JVM
        for r in variant.get("runs", []) if r["ok"]
    ]
    measured = sorted(set(jvm_runs))
    goal("JVM starts per Spark run", "== 1", measured if jvm_runs else None,
         None if not jvm_runs else measured == [1], f"{len(jvm_runs)} runs")

    rss = scenarios.get("full_build", {}).get("variants", {}).get("dagster", {}).get("stats", {})
    peak = rss.get("peak_rss_mib")
    goal("Full build peak RSS (process tree)", "< 4 GiB", None if peak is None else f"{peak / 1024:.2f} GiB",
         None if peak is None else peak < 4 * 1024)
    return out


# ------------------------------------------------------------------------------ markdown
def _s(value, digits=1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_s(v) for v in value) or "–"
    return str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def markdown(report: dict, heading_level: int = 1) -> str:
    h = "#" * heading_level
    size, m, harness = report["size"], report["machine"], report["harness"]
    scenarios = report["scenarios"]
    lines = [
        f"{h} Benchmark results, size {size['name']}",
        "",
        f"`{harness['command']}`, {harness['started']} to {harness['finished']} (UTC), "
        f"commit `{m['git_commit']}`" + (" with local changes" if m["git_dirty"] else "") + ".",
        "",
        f"{h}# Machine and size",
        "",
    ]
    if harness.get("environment"):
        lines += [
            "Settings of the runs: "
            + ", ".join(f"`{k}={v}`" for k, v in harness["environment"].items()) + ".",
            "",
        ]
    if harness.get("dagster_instance"):
        instance = harness["dagster_instance"].strip()
        lines += (
            ["Dagster instance: " + instance + ".", ""] if "\n" not in instance
            else ["Dagster instance (`dagster.yaml`, besides telemetry off):", "", "```yaml",
                  instance, "```", ""]
        )
    lines += _table(
        ["cores", "memory", "OS", "Python", "Java", "Spark", "delta-spark", "Dagster", "DuckDB"],
        [[m["cores"], f"{m['memory_gib']} GiB", m["os"], m["python"],
          (m["java"] or "–").split(" / ")[0], m["spark"], m["delta_spark"], m["dagster"], m["duckdb"]]],
    )
    rows = size.get("rows", {})
    lines += [
        "",
        f"Size {size['name']}: {size['order_items']:,} order items, {size['history_days']} days of "
        f"history ({size['history'][0]} to {size['history'][1]}) plus the new day {size['new_day']}; "
        f"seed {size['seed']}, clean data (defect rate 0)"
        + (f"; {size.get('files', 0):,} files, {size.get('mib', 0)} MiB; rows: "
           + ", ".join(f"{k} {v:,}" for k, v in rows.items()) if rows else "")
        + ".",
        "",
        f"{h}# Scenarios",
        "",
        f"Wall time of the whole child process (interpreter, imports, JVM, work); peak RSS of its "
        f"process tree (Python, JVM, Python workers); {harness['repeat']} repetition(s) each.",
        "",
    ]
    table_rows = []
    for name, entry in scenarios.items():
        for vname, variant in entry.get("variants", {}).items():
            s = variant.get("stats", {})
            status = f"{s.get('failed')} failed: {s.get('error', '')[:120]}" if s.get("failed") else ""
            if s.get("max_other_jvms"):
                status = "; ".join(filter(None, [status, f"up to {s['max_other_jvms']} other JVMs running"]))
            table_rows.append([
                name, vname, s.get("n"), _s(s.get("median_s")), _s(s.get("min_s")),
                _s(s.get("max_s")), _s(s.get("spread_pct")), _s(s.get("peak_rss_mib"), 0),
                _s(s.get("jvm_starts")), _s(s.get("inner_run_median_s")), status,
            ])
        if entry.get("error") or entry.get("skipped"):
            table_rows.append([name, "", 0, "–", "–", "–", "–", "–", "–", "–",
                               entry.get("error") or entry.get("skipped")])
    lines += _table(
        ["scenario", "variant", "n", "median s", "min s", "max s", "spread %", "peak RSS MiB",
         "JVM starts", "inner run s", "notes"],
        table_rows,
    )

    lines += _jvm_cpu_table(scenarios, report["machine"].get("cores"))

    lines += ["", f"{h}# Goals", ""]
    lines += _table(
        ["goal", "target", "measured", "verdict", "note"],
        [[g["goal"], g["target"], _s(g["measured"], 3), g["status"], g["note"]] for g in report["goals"]],
    )

    if full := scenarios.get("full_build"):
        s = full.get("variants", {}).get("dagster", {}).get("stats", {})
        if s.get("steps_median_s"):
            lines += ["", f"{h}# Full build: step times (median)", ""]
            lines += [_run_overheads(s), ""]
            lines += _steps_table(s, full_wall=s.get("median_s"))

    if inc := scenarios.get("incremental_day"):
        s = inc.get("variants", {}).get("sensor_and_run", {}).get("stats", {})
        lines += ["", f"{h}# Incremental day", ""]
        req = inc.get("sensor_request") or [{}]
        lines += [
            f"Landing sensor tick with the history's cursor: {_s(inc.get('sensor_median_s'), 2)} s "
            f"(median), requesting partition {req[0].get('partition_key', '–')} of "
            f"{len(req[0].get('asset_selection', []))} bronze assets; the run materializes them and "
            f"everything downstream, checks included. Wall time {_s(s.get('median_s'))} s = "
            f"{_s(inc.get('share_of_full_build'), 3)} of the full build.",
            "",
        ]
        warm = inc.get("variants", {}).get("warm_server", {}).get("stats", {})
        if warm.get("median_s"):
            how = ("warmed by re-running the history's last day" if inc.get(
                "warm_server_warmed_up", True) else "not warmed at this size: a cold server")
            lines += [
                f"The same tick and run against a local Spark Connect server ({how}; the run "
                f"starts no JVM of its own): {_s(warm.get('median_s'))} s = "
                f"{_s(inc.get('warm_server_share_of_full_build'), 3)} of the full build, "
                f"{_steps(scenarios, 'incremental_day', 'warm_server')} steps.",
                "",
            ]
        if s.get("steps_median_s"):
            lines += [_run_overheads(s), ""]
            lines += _steps_table(s, limit=15)

    if day := scenarios.get("day_stages"):
        lines += _day_stages(day, h)

    if sc := scenarios.get("incremental_scaling"):
        lines += ["", f"{h}# Incremental scaling", ""]
        short = sc.get("short_history") or ["–", "–"]
        lines += [
            f"Bronze and silver (daily-partitioned tables, no checks) for the new day, on a "
            f"lakehouse holding only the short history ({short[0]} to {short[1]}) versus the "
            "full history.",
            "",
        ]
        rows = []
        for vname in ("history_short", "history_full"):
            s = sc.get("variants", {}).get(vname, {}).get("stats", {})
            rows.append([vname, _s(s.get("bronze_silver_steps_median_s"), 2),
                         _s(s.get("median_s"), 1), _s(s.get("inner_run_median_s"), 1)])
        rows.append(["ratio full / short", _s(sc.get("ratio_steps_full_over_short"), 3),
                     _s(sc.get("ratio_wall_full_over_short"), 3), ""])
        lines += _table(["history", "bronze+silver steps s", "wall s", "inner run s"], rows)
        per_step = {
            vname: sc.get("variants", {}).get(vname, {}).get("stats", {}).get("steps_median_s", {})
            for vname in ("history_short", "history_full")
        }
        keys = sorted(set(per_step["history_short"]) | set(per_step["history_full"]),
                      key=lambda k: -(per_step["history_full"].get(k)
                                      or per_step["history_short"].get(k) or 0))
        if keys:
            lines += [""]
            lines += _table(
                ["step", "short history s", "history_full s", "ratio"],
                [[f"`{k}`", _s(per_step["history_short"].get(k), 2), _s(per_step["history_full"].get(k), 2),
                  _s(_ratio(per_step["history_full"].get(k), per_step["history_short"].get(k)), 2)]
                 for k in keys],
            )

    if peers := scenarios.get("peers"):
        lines += ["", f"{h}# Peers", ""]
        if peers.get("skipped"):
            lines += [f"Skipped: {peers['skipped']}."]
        v = peers.get("verification", {})
        if v:
            verdict = "equal" if v.get("equal") else "DIFFERENT"
            lines += [
                f"Gold numbers, three ways (Dagster full build, plain PySpark script, DuckDB): "
                f"**{verdict}**." + ("" if peers.get("comparable") else
                                     " The ratios below are not comparable."),
                "",
            ]
            if v.get("error"):
                lines += [f"Verification error: {v['error']}", ""]
            for pair, diffs in (v.get("differences") or {}).items():
                if diffs:
                    lines += [f"- {pair}: {len(diffs)} difference(s)"]
                    lines += [f"  - {d}" for d in diffs[:10]]
            if v.get("summary"):
                lines += [] if lines[-1] == "" else [""]
                lines += ["Summary of the gold tables (Dagster build):", "", "```"]
                lines += [f"{k}: {val}" for k, val in v["summary"].items()]
                lines += ["```", ""]
        ratios = peers.get("ratios", {})
        if ratios:
            lines += _table(["ratio (median wall time)", "value"],
                            [[k, _s(val, 3)] for k, val in ratios.items()])
        same = peers.get("variants", {}).get("dagster_same_tables", {}).get("stats")
        if same and same.get("n"):
            lines += ["", "Dagster on the script's tables: " + _run_overheads(same)]

    if gen := scenarios.get("generator"):
        t = gen.get("throughput")
        if t:
            lines += ["", f"{h}# Generator", ""]
            lines += [
                f"{_s(t['seconds'], 2)} s (median) for {sum(t['rows'].values()):,} rows in "
                f"{t['files']:,} files, {t['mib']} MiB: {t['rows_per_s_total']:,} rows/s in total, "
                f"{t['order_items_per_s']:,} order items/s. Simulation (shared by all datasets) "
                f"{_s(t['simulate_seconds'], 2)} s; rendering and writing per dataset:",
                "",
            ]
            lines += _table(
                ["dataset", "rows", "write s", "rows/s written"],
                [[ds, f"{n:,}", _s(t["write_seconds"].get(ds), 2), _s(t["rows_per_s_written"].get(ds))]
                 for ds, n in t["rows"].items()],
            )
    return "\n".join(lines) + "\n"


def _day_stages(day: dict, h: str) -> list[str]:
    """Per step of the untimed new day: Spark jobs, task time, and how much of it went to
    stages over ``stages.MANY_ROWS`` rows (the history rather than the day)."""
    from benchmarks.stages import MANY_ROWS

    runs = day.get("variants", {}).get("sensor_and_run", {}).get("runs", [])
    inner = runs[0]["inner"] if runs and runs[0].get("ok") else {}
    per_step = inner.get("stages") or {}
    lines = ["", f"{h}# New day: where the steps spend Spark's task time", ""]
    if not per_step:
        return lines + ["No stage data (the run failed; see report.json).", ""]
    wall = inner.get("steps", {})
    lines += [
        "One untimed run of the new day with Spark's UI on; each Spark job is assigned to the "
        "step it started in. Task time is summed over the stages' tasks (2 cores: it can exceed "
        f"the wall time); *over {MANY_ROWS:,} rows* counts the stages that read or shuffle more "
        "rows than that: work that follows the history, not the day.",
        "",
    ]
    rows = []
    for step, e in sorted(per_step.items(), key=lambda kv: -wall.get(kv[0], 0)):
        site, top = next(iter(e["sites"].items()), ("–", {"task_s": None}))
        site = re.sub(r"(?<= )\S*/", "", site)  # a file's name, not its directories
        rows.append([f"`{step}`", _s(wall.get(step)), e["jobs"], _s(e["task_s"]),
                     _s(e["many_rows_task_s"]), f"{site[:60]} ({_s(top['task_s'])} s)"])
    totals = ["all steps", _s(sum(wall.values())), sum(e["jobs"] for e in per_step.values()),
              _s(sum(e["task_s"] for e in per_step.values())),
              _s(sum(e["many_rows_task_s"] for e in per_step.values())), ""]
    return lines + _table(
        ["step", "wall s", "Spark jobs", "task s", f"task s over {MANY_ROWS:,} rows",
         "call site with most task time"],
        [*rows, totals],
    )


def _jvm_cpu_table(scenarios: dict, cores) -> list[str]:
    """Where each Spark run's driver JVM spent its CPU time (measure.JVM_THREAD_KINDS)."""
    rows = []
    for name, vname, variant in _variants(scenarios):
        s = variant.get("stats", {})
        cpu, wall = s.get("jvm_cpu_median_s") or {}, s.get("median_s")
        if not cpu.get("total") or not wall:
            continue
        rows.append([name, vname, _s(wall), _s(cpu["total"]), _s(cpu["total"] / wall, 2)] + [
            f"{_s(cpu.get(kind))} ({_s(100 * (cpu.get(kind) or 0) / cpu['total'], 0)} %)"
            for kind in JVM_CPU_COLUMNS[1:]
        ])
    if not rows:
        return []
    return [
        "",
        f"CPU time of the Spark driver JVM (median; read from `/proc` once a second) by what its "
        f"threads do, against the wall time; the machine has {cores} cores. For a run against "
        f"the Spark Connect server the JVM is the server's, over the run's life:",
        "",
        *_table(["scenario", "variant", "wall s", "JVM CPU s", "cores busy",
                 *(f"{kind.replace('_', ' ')} s" for kind in JVM_CPU_COLUMNS[1:])], rows),
    ]


def _run_overheads(stats: dict) -> str:
    kinds = stats.get("peak_rss_by_kind_mib") or {}
    memory = (
        f" Peak RSS {_s(stats.get('peak_rss_mib'), 0)} MiB: "
        + ", ".join(f"{k} {_s(v, 0)}" for k, v in kinds.items()) + "."
        if kinds else ""
    )
    events, logged = stats.get("materializations_median"), stats.get("materialization_log_median_s")
    # Each materialization is timed to its step's next event (scenario.materialization_log).
    materializations = (
        f" Recording its {_s(events, 0)} materializations (one per table and day) took about "
        f"{_s(logged)} s ({_s(1000 * logged / events, 0)} ms each)."
        if events and logged else ""
    )
    return (
        f"Child process {_s(stats.get('median_s'))} s: imports {_s(stats.get('import_median_s'))} s, "
        f"Dagster run {_s(stats.get('inner_run_median_s'))} s, of which "
        f"{_s(stats.get('before_run_start_median_s'))} s before RUN_START (Dagster plans the run "
        f"and logs its planned materializations) and {_s(stats.get('steps_total_median_s'))} s in "
        f"steps, the first of which starts Spark ({_s(stats.get('spark_start_median_s'))} s); "
        f"{_s(stats.get('run_events_median'), 0)} events in the run's event log."
        + materializations
        + memory
    )


def _steps_table(stats: dict, full_wall: float | None = None, limit: int = TOP_STEPS) -> list[str]:
    steps = stats["steps_median_s"]
    total = sum(v for v in steps.values() if v)
    rows = [[f"`{k}`", _s(v, 2), _s(100 * v / total if total and v else None, 1)]
            for k, v in list(steps.items())[:limit]]
    lines = _table(["step", "median s", "% of step time"], rows)
    rest = len(steps) - limit
    summary = f"Sum of all {len(steps)} steps: {_s(total, 1)} s"
    if full_wall:
        summary += f" of {_s(full_wall, 1)} s wall time"
    if rest > 0:
        summary += f"; {rest} shorter steps not listed (see report.json)"
    return lines + ["", summary + "."]


# ------------------------------------------------------------------------------ publish
def publish(report: dict, benchmarks_md: Path) -> None:
    """Replace this size's block in BENCHMARKS.md's generated section, keeping other sizes."""
    text = benchmarks_md.read_text() if benchmarks_md.exists() else f"{START_MARK}\n{END_MARK}\n"
    if START_MARK not in text or END_MARK not in text:
        text = text.rstrip("\n") + f"\n\n{START_MARK}\n{END_MARK}\n"
    head, rest = text.split(START_MARK, 1)
    body, tail = rest.split(END_MARK, 1)
    blocks = {}
    for match in re.finditer(r"<!-- results:size (\w+) -->\n(.*?)(?=<!-- results:size |\Z)", body, re.S):
        blocks[match.group(1)] = match.group(2).strip("\n")
    blocks[report["size"]["name"]] = markdown(report, heading_level=3).strip("\n")
    order = {"XS": -1, "S": 0, "M": 1, "L": 2}
    parts = [f"{SIZE_MARK.format(name)}\n{blocks[name]}\n"
             for name in sorted(blocks, key=lambda n: order.get(n, 9))]
    benchmarks_md.write_text(head + START_MARK + "\n" + "\n".join(parts) + END_MARK + tail)
