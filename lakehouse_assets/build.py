"""Build the whole lakehouse from a landing zone in one Dagster run, then summarise gold.

    lakehouse-build --landing-root data_seeds [--lakehouse-root ./lakehouse] [--verbose]

It launches the ``build_lakehouse`` job for the range of landing dates found (a single-run
backfill of the daily partitions) on the Dagster instance of ``DAGSTER_HOME`` (default
``./.dagster_home``), so the run, its materializations and checks appear in ``dagster dev``.
The console shows the run's progress (steps done of total, the step running, elapsed); Dagster's
event stream only with ``--verbose``.
"""

import argparse
import os
import sys
import threading
import time
import uuid
from typing import MutableMapping, TextIO

from lakehouse_assets.landing import scan_landing_zone

# Dagster settings for range runs (a single-run backfill of many days), applied by
# lakehouse-build, the tests and the benchmarks unless the environment already sets them.
RANGE_RUN_SETTINGS = {
    # One "materialization planned" event per asset for the range instead of one per asset
    # and day: on SQLite event storage the per-day events took minutes before the run started.
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
    # A range's per-day materializations are stored as one batch per output: on PostgreSQL a
    # year-long build recorded its 8,413 materializations in 14 s instead of 275 s
    # (BENCHMARKS.md, point 1). SQLite storage writes a batch event by event: no gain there.
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
}


def apply_range_run_settings(env: MutableMapping[str, str] = os.environ) -> None:
    for name, value in RANGE_RUN_SETTINGS.items():
        env.setdefault(name, value)

GOLD_SUMMARY_QUERIES = {
    "Customers by segment": """
        SELECT customer_segment, count(*) AS customers,
               round(sum(monetary_value), 2) AS revenue
        FROM gold.dim_customer_segments GROUP BY customer_segment ORDER BY revenue DESC""",
    "Products by tier": """
        SELECT performance_tier, count(*) AS products, round(sum(revenue), 2) AS revenue
        FROM gold.fct_product_performance GROUP BY performance_tier ORDER BY revenue DESC""",
    "Daily sales": """
        SELECT min(order_date) AS first_day, max(order_date) AS last_day,
               sum(order_count) AS orders, sum(total_sales) AS sales
        FROM gold.fct_daily_sales""",
}


# Without --verbose the console shows warnings and errors only; progress comes from Progress.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class Progress:
    """Follows a run's step events in the instance and reports them on ``out``: a bar
    redrawn in place on a terminal, one line per finished step otherwise (logs, CI)."""

    POLL_SECONDS = 0.5

    def __init__(self, instance, run_id: str, out: TextIO = sys.stdout):
        self.instance, self.run_id, self.out = instance, run_id, out
        self.tty = out.isatty()
        self.started = time.monotonic()
        self.total: int | None = None
        self.running: dict[str, float] = {}  # step key -> start (monotonic)
        self.done = self.failed = 0
        self._cursor: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def __enter__(self) -> "Progress":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()  # the last events
        if self.tty:
            self.out.write("\n")
        self.out.flush()

    def _follow(self) -> None:
        while not self._stop.wait(self.POLL_SECONDS):
            self._poll()

    def _poll(self) -> None:
        from dagster import DagsterEventType

        if self.total is None:
            run = self.instance.get_run_by_id(self.run_id)
            if run is None or run.execution_plan_snapshot_id is None:
                return  # not created yet
            plan = self.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
            self.total = len(plan.steps)
        types = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
                 DagsterEventType.STEP_FAILURE}
        while True:
            batch = self.instance.get_records_for_run(self.run_id, cursor=self._cursor,
                                                      of_type=types)
            self._cursor = batch.cursor
            for record in batch.records:
                self._step_event(record.event_log_entry)
            if not batch.has_more:
                break
        if self.tty:
            self._draw()

    def _step_event(self, entry) -> None:
        step, kind = entry.step_key, entry.dagster_event.event_type_value
        if kind == "STEP_START":
            self.running[step] = time.monotonic()
            return
        took = time.monotonic() - self.running.pop(step, time.monotonic())
        if kind == "STEP_SUCCESS":
            self.done += 1
        else:
            self.failed += 1
        if not self.tty:
            status = "done" if kind == "STEP_SUCCESS" else "FAILED"
            self.out.write(f"  [{self.done + self.failed}/{self.total}] {self._elapsed()}  "
                           f"{step} {status} ({took:.1f} s)\n")
            self.out.flush()

    def _elapsed(self) -> str:
        minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
        return f"{minutes:>2}m{seconds:02d}s"

    def _draw(self) -> None:
        finished, total = self.done + self.failed, self.total or 0
        width = 24
        filled = width * finished // total if total else 0
        running = ", ".join(sorted(self.running)) or "-"
        failed = f", {self.failed} failed" if self.failed else ""
        line = (f"\r  [{'#' * filled}{'.' * (width - filled)}] {finished}/{total} steps{failed}"
                f"  {self._elapsed()}  {running}")
        self.out.write(line[:160].ljust(160))
        self.out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--landing-root",
        default=os.environ.get("LAKEHOUSE_LANDING_ROOT", "./landing"),
        help="landing zone to build from (default: $LAKEHOUSE_LANDING_ROOT or ./landing)",
    )
    parser.add_argument(
        "--lakehouse-root",
        default=os.environ.get("LAKEHOUSE_ROOT", "./lakehouse"),
        help="where the Delta tables go (default: $LAKEHOUSE_ROOT or ./lakehouse)",
    )
    parser.add_argument(
        "--verbose", action="store_true",
        help="print Dagster's event stream (every step event, at DEBUG) instead of progress",
    )
    args = parser.parse_args(argv)
    # The code location reads its settings from the environment when it is loaded.
    os.environ["LAKEHOUSE_LANDING_ROOT"] = os.path.abspath(args.landing_root)
    os.environ["LAKEHOUSE_ROOT"] = os.path.abspath(args.lakehouse_root)
    os.environ.setdefault("DAGSTER_HOME", os.path.abspath(".dagster_home"))
    apply_range_run_settings()
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
    instance_config = os.path.join(os.environ["DAGSTER_HOME"], "dagster.yaml")
    if not os.path.exists(instance_config):  # else Dagster explains its defaults on every start
        with open(instance_config, "w") as f:
            f.write("# Dagster instance settings; empty: run history in SQLite files here.\n"
                    "# For PostgreSQL see deploy/dagster-postgres.yaml in lakehouse_assets.\n")

    from dagster import DagsterInstance

    from lakehouse_assets.definitions import defs
    from lakehouse_assets.defs.automation import build_lakehouse_job
    from lakehouse_assets.partitions import daily_partitions, range_tags

    dates = sorted({f.landing_date for f in scan_landing_zone(args.landing_root).files})
    if not dates:
        print(f"No landing files under {args.landing_root}; nothing to build.", file=sys.stderr)
        return 1
    start, end = dates[0].isoformat(), dates[-1].isoformat()
    first_partition = daily_partitions.get_first_partition_key()
    if start < first_partition:
        print(
            f"Landing dates start at {start}, before the partitions' start {first_partition}: "
            "set LAKEHOUSE_PARTITIONS_START.",
            file=sys.stderr,
        )
        return 1

    print(f"Building the lakehouse from {args.landing_root}: landing dates {start} .. {end}")
    with DagsterInstance.get() as instance:
        run_id = str(uuid.uuid4())  # known before the run starts, for Progress
        job = defs.resolve_job_def(build_lakehouse_job.name)
        if args.verbose:
            result = job.execute_in_process(
                instance=instance, tags=range_tags(start, end), run_id=run_id,
                raise_on_error=False,
            )
        else:
            with Progress(instance, run_id):
                result = job.execute_in_process(
                    instance=instance, tags=range_tags(start, end), run_id=run_id,
                    run_config=QUIET_RUN_CONFIG, raise_on_error=False,
                )
    if not result.success:
        from lakehouse_assets.checks.results import run_failure_summary

        print(
            run_failure_summary(
                result.run_id, result.get_asset_check_evaluations(),
                result.get_step_failure_events(),
            ),
            file=sys.stderr,
        )
        return 1
    print_summary(os.environ["LAKEHOUSE_ROOT"], result.run_id)
    return 0


def print_summary(lakehouse_root: str, run_id: str) -> None:
    from lakehouse_assets.resources import LakehouseStorage, SparkResource

    # The run's own session (in-process, or the Spark Connect server it used).
    spark = SparkResource(
        storage=LakehouseStorage(lakehouse_root=lakehouse_root),
        remote=os.environ.get("LAKEHOUSE_SPARK_REMOTE") or None,
    ).spark_session
    print(f"\nRun {run_id} succeeded. Tables (Delta) under {lakehouse_root}:")
    for layer in ("bronze", "silver", "gold", "ml"):
        layer_dir = os.path.join(lakehouse_root, layer)
        if os.path.isdir(layer_dir):
            print(f"  {layer:<7} {layer_dir}: {', '.join(sorted(os.listdir(layer_dir)))}")
    print("Query them as <layer>.<table>, e.g. spark.sql('SELECT * FROM gold.fct_customer_metrics')")
    for title, query in GOLD_SUMMARY_QUERIES.items():
        print(f"\n{title}:")
        print(spark.sql(query).toPandas().to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
