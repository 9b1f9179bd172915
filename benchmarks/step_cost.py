"""Where a step's time goes on tiny data: Spark jobs and seconds per piece of the pipeline.

``python -m benchmarks.step_cost [--deliveries N]`` builds the first N deliveries of the
incremental-equals-rebuild test (``lakehouse_assets_tests.test_incremental_equals_rebuild``),
one Dagster run per delivery in one in-process Spark session, and prints per run its seconds
and the Spark jobs it started, then, per rule function and IO manager method, how often it
ran, the Spark jobs it started and its seconds (inclusive: a rule that first touches a cached
output also pays for computing it).

Last, every job is attributed to the code that started it: the call site Spark names its
first stage after (for a job started from Python, the project's file and line; for Delta's
own jobs, the Delta operation), with the jobs and their summed duration per call site.

The attribution wraps those functions for the length of this process only (instrumentation,
not a change of behaviour); Spark jobs are counted from the driver's job counter and status
tracker, so only a classic in-process session is supported.
"""

from __future__ import annotations

import argparse
import collections
import functools
import tempfile
import time

from lakehouse_assets.build import apply_range_run_settings
from lakehouse_assets.checks import counting, gold, integrity
from lakehouse_assets.resources import delta_io_manager as io
from lakehouse_assets.resources.spark import build_spark_session

RULE_FUNCTIONS = {
    # A table's key rule, contract and value rules: one aggregation per table.
    counting: ("count",),
    integrity: ("orphans", "conservation", "file_conservation", "freshness"),
    gold: ("aggregation_reconciliation", "daily_trend", "segments_match_metrics",
           "product_revenue_reconciliation"),
    io.MergePlan: ("validate", "merge"),
    io.DeltaSparkIOManager: ("handle_output", "_overwrite", "_materialization_metadata",
                             "_register", "load_input"),
}


# Every job of the runs stays in Spark's status store for the call-site table.
RETAINED_JOBS = 100_000


def _next_job_id(spark) -> int:
    return int(spark.sparkContext._jsc.sc().dagScheduler().nextJobId())


def _call_sites(spark, first_job: int, last_job: int, sites: dict) -> None:
    """Add jobs [first_job, last_job) to ``sites``: call site -> [jobs, seconds]."""
    store = spark.sparkContext._jsc.sc().statusStore()
    for job_id in range(first_job, last_job):
        try:
            job = store.job(job_id)
        except Exception:  # noqa: BLE001 - not retained
            sites["(not retained)"][0] += 1
            continue
        site = sites[str(job.name())]
        site[0] += 1
        submitted, completed = job.submissionTime(), job.completionTime()
        if submitted.isDefined() and completed.isDefined():
            site[1] += (completed.get().getTime() - submitted.get().getTime()) / 1000


def _instrument(spark, costs: dict) -> None:
    for owner, names in RULE_FUNCTIONS.items():
        for name in names:
            original = getattr(owner, name)

            @functools.wraps(original)
            def counted(*args, _f=original, _label=f"{owner.__name__.split('.')[-1]}.{name}",
                        **kwargs):
                first_job, start = _next_job_id(spark), time.monotonic()
                try:
                    return _f(*args, **kwargs)
                finally:
                    cost = costs[_label]
                    cost[0] += 1
                    cost[1] += _next_job_id(spark) - first_job
                    cost[2] += time.monotonic() - start

            static = isinstance(owner, type) and isinstance(owner.__dict__.get(name), staticmethod)
            setattr(owner, name, staticmethod(counted) if static else counted)


def main(argv: list[str] | None = None) -> int:
    from lakehouse_assets_tests import test_incremental_equals_rebuild as sequence

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2)
    args = parser.parse_args(argv)
    apply_range_run_settings()
    workdir = tempfile.mkdtemp(prefix="step_cost_")
    spark = build_spark_session(
        remote=None, catalog_dir=f"{workdir}/catalog", shuffle_partitions=2, app_name="step_cost",
        extra_conf={"spark.ui.retainedJobs": str(RETAINED_JOBS),
                    "spark.ui.retainedStages": str(RETAINED_JOBS)},
    )
    costs: dict = collections.defaultdict(lambda: [0, 0, 0.0])
    _instrument(spark, costs)
    landing = f"{workdir}/landing"
    lakehouse = sequence.Lakehouse(spark, f"{workdir}/lakehouse", landing)
    first_job = _next_job_id(spark)
    for label, day, files in sequence.DELIVERIES[: args.deliveries]:
        sequence._land(landing, day, files)
        run_first_job, start = _next_job_id(spark), time.monotonic()
        lakehouse.run(day, day, label)
        jobs = _next_job_id(spark) - run_first_job
        print(f"run {day} ({label}): {time.monotonic() - start:.1f} s, {jobs} Spark jobs")
    print(f"\n{'function':45s} {'calls':>6s} {'jobs':>6s} {'s':>8s}")
    for label, (calls, jobs, seconds) in sorted(costs.items(), key=lambda kv: -kv[1][2]):
        print(f"{label:45s} {calls:6d} {jobs:6d} {seconds:8.1f}")
    sites: dict = collections.defaultdict(lambda: [0, 0.0])
    _call_sites(spark, first_job, _next_job_id(spark), sites)
    print(f"\n{'Spark jobs by call site':100s} {'jobs':>6s} {'s':>8s}")
    for site, (jobs, seconds) in sorted(sites.items(), key=lambda kv: -kv[1][0]):
        print(f"{site[:100]:100s} {jobs:6d} {seconds:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
