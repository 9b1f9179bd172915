"""The benchmark command: ``python -m benchmarks --size S|M|L [options]`` (see BENCHMARKS.md).

The parent process (this module) prepares data and lakehouse snapshots, starts every timed
repetition as a fresh child process (``benchmarks.scenario``, measured by
``benchmarks.measure``) and writes ``<out>/<size>/report.json`` and ``report.md`` after every
repetition, so a crash keeps what was measured. It never imports Spark, Dagster or the
lakehouse itself: everything that touches them runs in a child.

Workdir layout, per size (``<workdir>/<size>/``)::

    landing/            the history: the first ``days`` landing days (generated once, cached)
    newday/             the last generated day, staged beside the landing zone
    landing_short/      hard links to the short history (last 30 days; S: 10) and the new day
    landing.json        generation parameters and summary; the cache is valid when it matches
    runs/<name>/        live lakehouses (``lakehouse/``) and Dagster homes (``dagster_home/``)
    snapshots/<name>/   copies of built lakehouses, restored to the same live path before use
    logs/<started>/     each child's spec, result and output, per invocation
"""

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import report as reporting
from benchmarks.measure import JvmCpuSpan, Measurement, python_command, run_measured
from lakehouse_assets.build import apply_range_run_settings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "benchmarks" / "out"
DEFAULT_WORKDIR = DEFAULT_OUT / "work"

SEED = 42
# The generator's realistic profile (guest orders, cancellations, header-only days, ...): the
# benchmarks measure the deliveries users have, not our tidy synthetic ones.
PROFILE = "retail"
START = "2024-01-01"
# The scaling scenario's short history: 30 days (the comparison), fewer when the size
# has little more history than that (S: a third of its days).
SCALING_SHORT_HISTORY = 30
DATASETS = ("customers", "products", "orders", "order_items")


@dataclass(frozen=True)
class Size:
    name: str
    order_items: int
    days: int  # history days; one more day is generated as the new day
    # Warm the Spark Connect server before the warm-server day is timed. Off only at XS, the
    # smoke run, which proves the variant runs and need not pay a second whole-graph run.
    warm_up_server: bool = True

    @property
    def short_history_days(self) -> int:
        return min(SCALING_SHORT_HISTORY, max(1, self.days // 3))

    @property
    def start(self) -> dt.date:
        return dt.date.fromisoformat(START)

    @property
    def history(self) -> tuple[str, str]:
        return self.start.isoformat(), (self.start + dt.timedelta(days=self.days - 1)).isoformat()

    @property
    def new_day(self) -> str:
        return (self.start + dt.timedelta(days=self.days)).isoformat()

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "order_items": self.order_items,
            "history_days": self.days,
            "generated_days": self.days + 1,
            "start": START,
            "history": list(self.history),
            "new_day": self.new_day,
            "seed": SEED,
            "defect_rate": 0.0,
            "profile": PROFILE,
            "warm_up_server": self.warm_up_server,
        }


SIZES = {
    # XS: the test suite's smoke run only (that the command works end to end), not a benchmark.
    "XS": Size("XS", 5_000, 10, warm_up_server=False),
    "S": Size("S", 100_000, 30),
    "M": Size("M", 1_000_000, 365),
    "L": Size("L", 10_000_000, 365),
}

DEFAULT_INSTANCE = "SQLite, one DAGSTER_HOME per run directory (Dagster's default storage)"
SCENARIOS = ("generator", "full_build", "incremental_day", "incremental_scaling", "peers",
             "day_stages")
# Run only when asked for: a diagnosis, not a measurement (Spark's UI on, nothing timed).
OPT_IN = ("day_stages",)


def code_fingerprint() -> str:
    """Hash of the lakehouse code: a cached snapshot is reused only by the same code."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "lakehouse_assets").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _rm(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class Harness:
    def __init__(self, args: argparse.Namespace):
        self.size: Size = SIZES[args.size]
        self.repeat: int = args.repeat
        self.scenarios: list[str] = args.scenarios
        # The Spark Connect server the harness is running, if any (not contention).
        self.server_pids: frozenset[int] = frozenset()
        self.dir = Path(args.workdir).resolve() / self.size.name
        self.out_dir = Path(args.out).resolve() / self.size.name
        self.publish = args.publish
        self.benchmarks_md = Path(args.benchmarks_md).resolve()
        self.fingerprint = code_fingerprint()
        # Extra instance configuration for every Dagster run (e.g. a Postgres storage).
        self.dagster_yaml = Path(args.dagster_yaml).read_text() if args.dagster_yaml else ""
        self.landing = self.dir / "landing"
        self.newday = self.dir / "newday"
        self.landing_short = self.dir / "landing_short"
        self._child_count = 0
        self.logs = self.dir / "logs" / time.strftime("%Y%m%d-%H%M%S")
        self.report = reporting.new_report(
            command=" ".join(["python -m benchmarks", *sys.argv[1:]]),
            size=self.size.as_dict(),
            repeat=self.repeat,
            scenarios=self.scenarios,
            repo=REPO,
        )
        self.report["harness"]["code_fingerprint"] = self.fingerprint
        self.report["harness"]["dagster_instance"] = self.dagster_yaml or DEFAULT_INSTANCE
        child_env = self.env()
        self.report["harness"]["environment"] = {
            k: v for k, v in sorted(child_env.items())
            if k.startswith(("LAKEHOUSE_", "DAGSTER_EMIT", "DAGSTER_EVENT_BATCH", "PYSPARK_",
                             "SPARK_", "JAVA_"))
        }

    # ---------------------------------------------------------------- children
    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        env["LAKEHOUSE_PARTITIONS_START"] = START
        env["PYTHONUNBUFFERED"] = "1"
        # As lakehouse-build runs (README, Settings).
        apply_range_run_settings(env)
        # Only the warm-server variant's own server is ever used, never one the user runs.
        env["LAKEHOUSE_SPARK_SERVER_STATE"] = str(self.dir / "spark-server.json")
        env.update(extra)
        return env

    def child(self, label: str, spec: dict, **env: str) -> Measurement:
        """Run one child process (``benchmarks.scenario``) and measure it."""
        self._child_count += 1
        stem = f"{self._child_count:03d}_{label}"
        specs = self.logs
        specs.mkdir(parents=True, exist_ok=True)
        spec_path, result_path = specs / f"{stem}.json", specs / f"{stem}.result.json"
        spec_path.write_text(json.dumps(spec, indent=1))
        cwd = self.dir / "cwd"  # derby.log, spark-warehouse and the like land here
        cwd.mkdir(parents=True, exist_ok=True)
        print(f"[{time.strftime('%H:%M:%S')}] {label} ...", flush=True)
        load_before = reporting.contention(self.server_pids)
        m = run_measured(
            python_command("benchmarks.scenario", str(spec_path), str(result_path)),
            env=self.env(**env),
            cwd=str(cwd),
            log_path=str(self.logs / f"{stem}.log"),
            result_path=str(result_path),
        )
        m.inner["contention_before"] = load_before
        state = "ok" if m.ok else f"FAILED ({m.inner.get('error', m.returncode)})"
        print(
            f"[{time.strftime('%H:%M:%S')}] {label}: {m.wall_s:.1f} s, "
            f"peak {m.peak_rss_bytes / 2**20:.0f} MiB, JVMs {m.jvm_starts}: {state}",
            flush=True,
        )
        return m

    def dagster_env(self, run_dir: Path) -> dict[str, str]:
        home = run_dir / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + self.dagster_yaml)
        return {
            "DAGSTER_HOME": str(home),
            "LAKEHOUSE_ROOT": str(run_dir / "lakehouse"),
            "LAKEHOUSE_LANDING_ROOT": str(self.landing),
        }

    def dagster_spec(self, run_dir: Path, landing: Path, selection: str, **kw) -> dict:
        return {
            "op": "dagster",
            "lakehouse_root": str(run_dir / "lakehouse"),
            "landing_root": str(landing),
            "selection": selection,
            **kw,
        }

    # ---------------------------------------------------------------- results
    def record(self, scenario: str, variant: str, m: Measurement, **extra) -> None:
        entry = self.report["scenarios"].setdefault(scenario, {"variants": {}})
        entry.setdefault("variants", {}).setdefault(variant, {"runs": []})["runs"].append(
            {**m.as_dict(), **extra}
        )
        self.save()

    def note(self, scenario: str, **fields) -> None:
        self.report["scenarios"].setdefault(scenario, {"variants": {}}).update(fields)
        self.save()

    def save(self) -> None:
        """Write report.json and report.md; a bug in the statistics never loses the runs."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            reporting.finish(self.report)
            text = reporting.markdown(self.report)
        except Exception as exc:
            self.report["report_error"] = f"{type(exc).__name__}: {exc}"
            text = f"# Benchmark report\n\nRendering failed ({self.report['report_error']}); see report.json.\n"
        (self.out_dir / "report.json").write_text(json.dumps(self.report, indent=1, default=str) + "\n")
        (self.out_dir / "report.md").write_text(text)

    # ---------------------------------------------------------------- landing data
    def _generation_params(self) -> dict:
        s = self.size
        return {"seed": SEED, "order_items": s.order_items, "start": START, "days": s.days + 1,
                "defect_rate": 0.0, "profile": PROFILE}

    def landing_cached(self) -> bool:
        marker = self.dir / "landing.json"
        if not marker.exists() or not self.landing.is_dir() or not self.newday.is_dir():
            return False
        return json.loads(marker.read_text()).get("params") == self._generation_params()

    def adopt_landing(self, generated: Path, summary: dict) -> None:
        """Make a freshly generated landing zone the cache: history, plus the new day staged."""
        for path in (self.landing, self.newday, self.landing_short, self.dir / "landing.json"):
            _rm(path)
        generated.rename(self.landing)
        for dataset in DATASETS:
            day = self.landing / dataset / self.size.new_day
            if day.is_dir():
                (self.newday / dataset).mkdir(parents=True, exist_ok=True)
                day.rename(self.newday / dataset / self.size.new_day)
        (self.dir / "landing.json").write_text(
            json.dumps({"params": self._generation_params(), "summary": summary}, indent=1)
        )

    def restore_landing(self) -> None:
        """Put the new day back beside the landing zone (after a run, or a crash during one)."""
        for dataset in DATASETS:
            live = self.landing / dataset / self.size.new_day
            staged = self.newday / dataset / self.size.new_day
            if live.is_dir():
                if staged.exists():
                    shutil.rmtree(live)
                else:
                    staged.parent.mkdir(parents=True, exist_ok=True)
                    live.rename(staged)

    def land_new_day(self) -> None:
        for dataset in DATASETS:
            staged = self.newday / dataset / self.size.new_day
            if staged.is_dir():
                staged.rename(self.landing / dataset / self.size.new_day)

    def ensure_landing(self) -> None:
        self.restore_landing()
        if not self.landing_cached():
            target = self.dir / "generated"
            _rm(target)
            m = self.child("generate_landing", {"op": "generate", "out_dir": str(target),
                                                **self._generation_params()})
            if not m.ok:
                raise RuntimeError(f"generating the landing zone failed: {m.inner.get('error')}")
            self.adopt_landing(target, m.inner["summary"])
        summary = json.loads((self.dir / "landing.json").read_text())["summary"]
        self.report["size"].update(
            rows=summary["rows"], files=summary["files_written"],
            mib=round(summary["bytes_written"] / 2**20, 1),
        )

    def ensure_landing_short(self) -> None:
        """Hard links (bronze skips symlinks) to the short history's days and the new day."""
        marker = self.landing_short / ".complete"
        if marker.exists():
            return
        _rm(self.landing_short)
        last = dt.date.fromisoformat(self.size.history[1])
        days = [(last - dt.timedelta(days=i)).isoformat()
                for i in range(self.size.short_history_days)]
        for dataset in DATASETS:
            sources = [(self.landing / dataset / d) for d in days]
            sources.append(self.newday / dataset / self.size.new_day)
            for src in sources:
                if not src.is_dir():
                    continue
                dst = self.landing_short / dataset / src.name
                dst.mkdir(parents=True, exist_ok=True)
                for f in src.iterdir():
                    os.link(f, dst / f.name)
        marker.write_text("")

    # ---------------------------------------------------------------- snapshots
    def snapshot_valid(self, name: str) -> bool:
        stamp = self.dir / "snapshots" / name / "stamp.json"
        return stamp.exists() and json.loads(stamp.read_text()) == self._stamp()

    def _stamp(self) -> dict:
        return {"code": self.fingerprint, "params": self._generation_params()}

    def take_snapshot(self, name: str, run_dir: Path, **extra) -> None:
        snap = self.dir / "snapshots" / name
        _rm(snap)
        snap.mkdir(parents=True)
        for part in ("lakehouse", "dagster_home"):
            shutil.copytree(run_dir / part, snap / part, symlinks=True)
        for key, value in extra.items():
            (snap / f"{key}.json").write_text(json.dumps(value))
        (snap / "stamp.json").write_text(json.dumps(self._stamp()))

    def restore_snapshot(self, name: str, run_dir: Path) -> None:
        """rm + copy to the same path: the Spark catalog stores absolute table locations."""
        snap = self.dir / "snapshots" / name
        _rm(run_dir)
        run_dir.mkdir(parents=True)
        for part in ("lakehouse", "dagster_home"):
            shutil.copytree(snap / part, run_dir / part, symlinks=True)

    def snapshot_extra(self, name: str, key: str):
        return json.loads((self.dir / "snapshots" / name / f"{key}.json").read_text())

    @property
    def full_dir(self) -> Path:
        return self.dir / "runs" / "full_build"

    def full_build_spec(self) -> dict:
        return self.dagster_spec(self.full_dir, self.landing, "all", range=list(self.size.history))

    def after_full_build(self) -> None:
        """Keep the built lakehouse as the history snapshot, with the landing sensor's cursor."""
        m = self.child("sensor_cursor_history", {
            "op": "sensor", "landing_root": str(self.landing),
            "lakehouse_root": str(self.full_dir / "lakehouse"),
        }, **self.dagster_env(self.full_dir))
        if not m.ok:
            raise RuntimeError(f"landing sensor over the history failed: {m.inner.get('error')}")
        self.take_snapshot("full", self.full_dir, cursor=m.inner["cursor"])
        self.report["history_sensor"] = {
            "seconds": m.inner["sensor_seconds"], "run_requests": m.inner["run_requests"],
        }

    def ensure_full_snapshot(self) -> None:
        if self.snapshot_valid("full"):
            return
        _rm(self.full_dir)
        m = self.child("full_build_untimed", self.full_build_spec(), **self.dagster_env(self.full_dir))
        if not m.ok:
            raise RuntimeError(f"the history build failed: {m.inner.get('error')}")
        self.after_full_build()

    # ---------------------------------------------------------------- scenarios
    def run_generator(self) -> None:
        for rep in range(self.repeat):
            adopt = rep == 0 and not self.landing_cached()
            target = self.dir / ("generated" if adopt else "generated_timed")
            _rm(target)
            m = self.child(f"generator_{rep + 1}", {"op": "generate", "out_dir": str(target),
                                                    **self._generation_params()})
            self.record("generator", "generate", m)
            if m.ok and adopt:
                self.adopt_landing(target, m.inner["summary"])
            else:
                _rm(target)
        self.ensure_landing()

    def run_full_build(self) -> None:
        self.ensure_landing()
        for rep in range(self.repeat):
            _rm(self.full_dir)
            m = self.child(f"full_build_{rep + 1}", self.full_build_spec(),
                           **self.dagster_env(self.full_dir))
            self.record("full_build", "dagster", m)
            if m.ok and (rep == 0 or not self.snapshot_valid("full")):
                self.after_full_build()

    def new_day_run(self, label: str, **spec) -> Measurement:
        """The landing sensor's tick on the new day and the run it requests, on the history's
        lakehouse (restored from its snapshot before and after)."""
        self.ensure_landing()
        self.ensure_full_snapshot()
        cursor = self.snapshot_extra("full", "cursor")
        self.restore_snapshot("full", self.full_dir)
        self.land_new_day()
        try:
            return self.child(
                label,
                self.dagster_spec(self.full_dir, self.landing, "sensor_request_downstream",
                                  sensor_cursor=cursor, **spec),
                **self.dagster_env(self.full_dir),
            )
        finally:
            self.restore_landing()
            self.restore_snapshot("full", self.full_dir)

    def run_incremental_day(self) -> None:
        for rep in range(self.repeat):
            self.record("incremental_day", "sensor_and_run",
                        self.new_day_run(f"incremental_day_{rep + 1}"))
        self.incremental_day_warm_server(self.snapshot_extra("full", "cursor"))

    def run_day_stages(self) -> None:
        """The new day once, untimed, with Spark's stage data per step (``benchmarks.stages``)."""
        self.record("day_stages", "sensor_and_run",
                    self.new_day_run("day_stages", stage_profile=True))

    @contextlib.contextmanager
    def spark_server(self, lakehouse: Path):
        """The project's local Spark Connect server (``lakehouse-spark-server``) for
        ``lakehouse``, on a free port, stopped on exit: yields its recorded state."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [sys.executable, "-m", "lakehouse_assets.spark_server"]
        env = self.env()
        started = subprocess.run(
            [*command, "start", "--lakehouse-root", str(lakehouse), "--port", str(port)],
            env=env, capture_output=True, text=True, timeout=300,
        )
        if started.returncode:
            raise RuntimeError(f"the Spark Connect server did not start: {started.stderr[-2000:]}")
        server = json.loads(Path(env["LAKEHOUSE_SPARK_SERVER_STATE"]).read_text())
        self.server_pids = frozenset({server["pid"]})
        try:
            yield server
        finally:
            self.server_pids = frozenset()
            subprocess.run([*command, "stop"], env=env, capture_output=True, timeout=120)

    def incremental_day_warm_server(self, cursor) -> None:
        """The same new day against a warm engine. A Spark Connect server is started on the
        restored history snapshot (so it holds no cached state of another lakehouse) and warmed
        by re-running the history's last landing day and everything downstream, untimed: what
        a server that served the days before would have done, on the same steps and code paths
        (not at sizes without ``warm_up_server``: there the day meets a cold server). Then the
        sensor tick and run of the new day are timed. The child starts no JVM; the server's CPU
        over the child's life is recorded beside it. One repetition whatever ``--repeat``: each
        needs a freshly restored snapshot under a freshly warmed server."""
        self.restore_snapshot("full", self.full_dir)
        env = self.dagster_env(self.full_dir)
        last_day = self.size.history[1]
        self.note("incremental_day", warm_server_warmed_up=self.size.warm_up_server)
        try:
            with self.spark_server(self.full_dir / "lakehouse") as server:
                if self.size.warm_up_server:
                    m = self.child("warm_server_last_day_untimed",
                                   self.dagster_spec(self.full_dir, self.landing, "all",
                                                     range=[last_day, last_day]), **env)
                    if not m.ok:
                        raise RuntimeError(f"warming the server failed: {m.inner.get('error')}")
                self.land_new_day()
                server_cpu = JvmCpuSpan(server["pid"])
                server_cpu.start()
                try:
                    m = self.child("incremental_day_warm_server",
                                   self.dagster_spec(self.full_dir, self.landing,
                                                     "sensor_request_downstream",
                                                     sensor_cursor=cursor),
                                   **env)
                finally:
                    self.restore_landing()
                # The run's Spark JVM is the server: its CPU over the child's life stands as
                # the run's.
                self.record("incremental_day", "warm_server", m, jvm_cpu_s=server_cpu.stop(),
                            spark_jvm="the warm Spark Connect server")
        finally:
            self.restore_snapshot("full", self.full_dir)

    def run_incremental_scaling(self) -> None:
        self.ensure_landing()
        self.ensure_full_snapshot()
        self.ensure_landing_short()
        short_dir = self.dir / "runs" / "history_short"
        last = dt.date.fromisoformat(self.size.history[1])
        first = (last - dt.timedelta(days=self.size.short_history_days - 1)).isoformat()
        if not self.snapshot_valid("history_short"):
            _rm(short_dir)
            env = {**self.dagster_env(short_dir),
                   "LAKEHOUSE_LANDING_ROOT": str(self.landing_short)}
            m = self.child("history_short_untimed",
                           self.dagster_spec(short_dir, self.landing_short, "bronze_silver_daily",
                                             range=[first, self.size.history[1]]), **env)
            if not m.ok:
                raise RuntimeError(f"building the short history failed: {m.inner.get('error')}")
            self.take_snapshot("history_short", short_dir)
        self.note("incremental_scaling", short_history=[first, self.size.history[1]],
                  selection="bronze/* and silver stg_*/quarantine_* (daily-partitioned), no checks")
        for rep in range(self.repeat):
            # Interleaved, so that drift of the machine affects both variants alike.
            self.restore_snapshot("history_short", short_dir)
            env = {**self.dagster_env(short_dir),
                   "LAKEHOUSE_LANDING_ROOT": str(self.landing_short)}
            m = self.child(f"scaling_history_short_{rep + 1}",
                           self.dagster_spec(short_dir, self.landing_short, "bronze_silver_daily",
                                             partition_key=self.size.new_day), **env)
            self.record("incremental_scaling", "history_short", m)

            self.restore_snapshot("full", self.full_dir)
            self.land_new_day()
            try:
                m = self.child(f"scaling_history_full_{rep + 1}",
                               self.dagster_spec(self.full_dir, self.landing, "bronze_silver_daily",
                                                 partition_key=self.size.new_day),
                               **self.dagster_env(self.full_dir))
            finally:
                self.restore_landing()
            self.record("incremental_scaling", "history_full", m)
        self.restore_snapshot("full", self.full_dir)

    def peers_available(self) -> str | None:
        missing = [
            name for name in ("pyspark_script", "duckdb_pipeline", "gold_numbers")
            if not (REPO / "benchmarks" / "peers" / f"{name}.py").exists()
        ]
        return f"benchmarks/peers is missing {', '.join(missing)}" if missing else None

    def run_peers(self) -> None:
        self.ensure_landing()
        if reason := self.peers_available():
            self.note("peers", skipped=reason)
            return
        script_dir = self.dir / "runs" / "peers_script"
        dagster_dir = self.dir / "runs" / "peers_dagster"
        for rep in range(self.repeat):
            _rm(script_dir)
            script_dir.mkdir(parents=True)
            m = self.child(f"peers_script_{rep + 1}", {
                "op": "peer_script", "landing_root": str(self.landing),
                "lakehouse_root": str(script_dir / "lakehouse"),
            })
            self.record("peers", "script", m)
            if rep == 0:
                self.verify_gold(script_dir / "lakehouse", script_ok=m.ok)

            m = self.child(f"peers_duckdb_{rep + 1}",
                           {"op": "peer_duckdb", "landing_root": str(self.landing)})
            self.record("peers", "duckdb", m)

            _rm(dagster_dir)
            m = self.child(f"peers_dagster_{rep + 1}",
                           self.dagster_spec(dagster_dir, self.landing, "peer_tables",
                                             range=list(self.size.history)),
                           **self.dagster_env(dagster_dir))
            self.record("peers", "dagster_same_tables", m)

    def verify_gold(self, script_lakehouse: Path, script_ok: bool) -> None:
        """Gold numbers three ways: the full build's snapshot, the script's lakehouse, DuckDB."""
        if not script_ok:
            self.note("peers", verification={"equal": False, "error": "the script run failed"})
            return
        try:
            self.ensure_full_snapshot()
        except RuntimeError as exc:
            self.note("peers", verification={"equal": False, "error": str(exc)})
            return
        self.restore_snapshot("full", self.full_dir)
        m = self.child("peers_verify_gold", {
            "op": "verify_gold", "landing_root": str(self.landing),
            "dagster_lakehouse": str(self.full_dir / "lakehouse"),
            "script_lakehouse": str(script_lakehouse),
        })
        verification = dict(m.inner)
        verification.setdefault("equal", False)
        verification["wall_s"] = round(m.wall_s, 3)
        verification["log"] = m.log
        self.note("peers", verification=verification)

    # ---------------------------------------------------------------- main
    def run(self) -> int:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.save()
        failed = []
        for scenario in self.scenarios:
            started = time.perf_counter()
            try:
                getattr(self, f"run_{scenario}")()
            except Exception as exc:  # keep going: the other scenarios still get measured
                self.note(scenario, error=f"{type(exc).__name__}: {exc}")
                print(f"scenario {scenario} failed: {exc}", file=sys.stderr, flush=True)
            finally:
                self.restore_landing()
            self.note(scenario, harness_seconds=round(time.perf_counter() - started, 1))
            entry = self.report["scenarios"][scenario]
            if entry.get("error") or any(
                not r["ok"] for v in entry.get("variants", {}).values() for r in v["runs"]
            ):
                failed.append(scenario)
        self.save()
        if self.publish:
            reporting.publish(self.report, self.benchmarks_md)
            print(f"published {self.size.name} into {self.benchmarks_md}")
        print(f"wrote {self.out_dir / 'report.md'} and report.json")
        if failed:
            print(f"scenarios with failures: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the lakehouse at a named size and write a Markdown and JSON report.",
    )
    parser.add_argument("--size", required=True, choices=sorted(SIZES),
                        help="S: 100k order items over 30 days; M: 1M over 365; L: 10M over 365")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions per scenario")
    parser.add_argument("--scenarios", default=",".join(s for s in SCENARIOS if s not in OPT_IN),
                        help=f"comma-separated subset of {','.join(SCENARIOS)} (default: all "
                        f"but {','.join(OPT_IN)})")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                        help="generated data and lakehouses (cached per size; default %(default)s)")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="reports go to OUT/<size>/report.{json,md} (default %(default)s)")
    parser.add_argument("--publish", action="store_true",
                        help="also replace this size's results in BENCHMARKS.md")
    parser.add_argument("--render-only", action="store_true",
                        help="run nothing: rewrite report.md from OUT/<size>/report.json "
                        "(and publish it with --publish)")
    parser.add_argument("--dagster-yaml", metavar="FILE",
                        help="instance configuration added to every Dagster run's dagster.yaml, "
                        "e.g. a Postgres storage (default: a SQLite instance per run); only with "
                        "generator, full_build and peers")
    parser.add_argument("--benchmarks-md", default=str(REPO / "BENCHMARKS.md"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SCENARIOS))
    if unknown or not wanted:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    snapshots = {"incremental_day", "incremental_scaling", "day_stages"}
    if args.dagster_yaml and snapshots & set(wanted):
        # Their snapshots restore a lakehouse together with its Dagster home; a database
        # outside that home would not be restored with it.
        parser.error("--dagster-yaml works with generator, full_build and peers only")
    args.scenarios = [s for s in SCENARIOS if s in wanted]  # fixed order: data before builds
    return args


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def render_only(args: argparse.Namespace) -> int:
    """Re-derive statistics and Markdown from a report.json (after changing the rendering)."""
    out_dir = Path(args.out).resolve() / args.size
    report = json.loads((out_dir / "report.json").read_text())
    finished = report["harness"].get("finished")
    reporting.finish(report)
    report["harness"]["finished"] = finished  # rendering is not measuring
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (out_dir / "report.md").write_text(reporting.markdown(report))
    if args.publish:
        reporting.publish(report, Path(args.benchmarks_md).resolve())
        print(f"published {args.size} into {args.benchmarks_md}")
    print(f"wrote {out_dir / 'report.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        return render_only(args)
    # A terminated harness stops its child and the child's JVM instead of orphaning them.
    signal.signal(signal.SIGTERM, _terminate)
    return Harness(args).run()
