"""Small files over a year of daily runs, with and without the nightly maintenance.

``python -m benchmarks.small_files [--days 365] [--orders-per-day 300] [--maintain-every 1]
[--arm without|with]``

A scaled-down equivalent of a year of daily pipeline runs, for the one thing that grows with
the number of runs rather than with the rows: the files of the tables that MERGEs add to. Two
lakehouses receive the same landing days, one Dagster run per day, in one warm Spark session,
into two tables written by the project's Delta IO manager as the pipeline writes them:
``bronze.orders`` (each landing day's rows, replaced per day, as every bronze table) and
``silver.orders`` (one row per order, its latest version, as ``silver.stg_orders``); both
clustered as declared. Each day brings new orders and status changes of older ones, so the
silver MERGE touches old files. The maintained lakehouse runs ``maintain_table`` (OPTIMIZE,
then VACUUM) on both every ``--maintain-every`` days; the other never does.

Reported per lakehouse and table, at day 30 and at the last day: the table's files (and the
files a fresh full build of the same rows writes), the read time of a typical gold query
(completed spend per customer over the last 30 landing days, median of 3); and the day's run
time of both tables (median of the 5 days up to it). VACUUM keeps files younger than the 168-hour retention, so
within one benchmark run it deletes nothing: the files on disk are reported beside the table's.
The goals (issue: small files under control): files <= 5 x a fresh build's, and the day's run
time at the end <= 1.2 x its time at day 30.
"""

import argparse
import datetime as dt
import json
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg

from lakehouse_assets.maintenance import MIN_RETAIN_HOURS, files_on_disk, maintain_table
from lakehouse_assets.resources import LakehouseStorage, SparkResource, build_resources
from lakehouse_assets.resources.delta_io_manager import create_table, table_totals
from lakehouse_assets.resources.spark import build_spark_session
from lakehouse_assets.tables import LANDING_DATE, LANDING_DAYS, LATEST_VERSION, TableSpec

START = dt.date(2023, 1, 1)
SPECS = {
    "bronze.orders": TableSpec("bronze.orders", ("order_id",), LANDING_DAYS),
    "silver.orders": TableSpec("silver.orders", ("order_id",), LATEST_VERSION),
}
SCHEMA = f"order_id string, customer_id string, amount int, status string, {LANDING_DATE} date"
QUERY = (
    "SELECT customer_id, sum(amount) AS spend FROM delta.`{path}` "
    f"WHERE status = 'completed' AND {LANDING_DATE} > DATE'{{since}}' GROUP BY customer_id"
)


def landing_day(day: int, orders_per_day: int) -> list[tuple]:
    """Day ``day``'s rows: new orders, and status changes of about a tenth as many older ones."""
    rng = random.Random(day)
    date = START + dt.timedelta(days=day)
    rows = [(f"o{day}-{i}", f"c{rng.randrange(2000)}", rng.randrange(1, 500), "placed", date)
            for i in range(orders_per_day)]
    if day:
        changed = {(rng.randrange(max(0, day - 60), day), rng.randrange(orders_per_day))
                   for _ in range(orders_per_day // 10)}
        rows += [(f"o{d}-{i}", f"c{rng.randrange(2000)}", rng.randrange(1, 500),
                  rng.choice(["completed", "cancelled"]), date) for d, i in sorted(changed)]
    return rows


class DayConfig(dg.Config):
    day: int
    orders_per_day: int


def table_asset(spec: TableSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=spec.name.split("."),
        partitions_def=dg.DailyPartitionsDefinition(start_date=START.isoformat()),
        metadata=spec.write_metadata,
    )
    def _table(config: DayConfig, spark: SparkResource):
        return spark.spark_session.createDataFrame(
            landing_day(config.day, config.orders_per_day), SCHEMA)

    return _table


ASSETS = [table_asset(spec) for spec in SPECS.values()]


def median_seconds(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fresh_build_files(spark, rows_path: str, scratch: str, spec: TableSpec) -> int:
    """The files a full build writes for the table's current rows (one new table)."""
    create_table(spark, spark.read.format("delta").load(rows_path), scratch, spec.cluster_by)
    return table_totals(spark, scratch)[1]


def table_marks(spark, path: str, since: dt.date, scratch: str, spec: TableSpec) -> dict:
    rows, files, size = table_totals(spark, path)
    query = QUERY.format(path=path, since=since.isoformat())
    return {
        "rows": rows,
        "files": files,
        "bytes": size,
        "files_on_disk": files_on_disk(path)[0],
        "fresh_build_files": fresh_build_files(spark, path, scratch, spec),
        "query_seconds": median_seconds(lambda: spark.sql(query).collect()),
    }


ARMS = ("without maintenance", "with maintenance")
ARM_OPTIONS = {arm.split()[0]: arm for arm in ARMS}  # --arm without|with


def run(days: int, orders_per_day: int, maintain_every: int, workdir: Path,
        arms_run: tuple[str, ...] = ARMS) -> dict:
    spark = build_spark_session()
    log = logging.getLogger("small_files")
    arms = {}
    for arm in arms_run:
        storage = LakehouseStorage(lakehouse_root=str(workdir / arm.replace(" ", "_")))
        resources = build_resources(storage)
        paths = {name: storage.table_path(*name.split(".")) for name in SPECS}
        day_seconds, maintenance_seconds, marks = [], [], {}
        with dg.DagsterInstance.ephemeral() as instance:
            for day in range(days):
                t0 = time.perf_counter()
                result = dg.materialize(
                    ASSETS, partition_key=(START + dt.timedelta(days=day)).isoformat(),
                    resources=resources, instance=instance,
                    run_config={"ops": {a.op.name: {"config": {
                        "day": day, "orders_per_day": orders_per_day}} for a in ASSETS}},
                )
                assert result.success
                day_seconds.append(time.perf_counter() - t0)
                if arm == "with maintenance" and (day + 1) % maintain_every == 0:
                    t0 = time.perf_counter()
                    for name, spec in SPECS.items():
                        maintain_table(spark, paths[name], MIN_RETAIN_HOURS, log, spec.cluster_by)
                    maintenance_seconds.append(time.perf_counter() - t0)
                if day + 1 in (30, days):
                    since = START + dt.timedelta(days=day - 30)
                    marks[day + 1] = {
                        "day_seconds": statistics.median(day_seconds[-5:]),
                        "tables": {name: table_marks(
                            spark, paths[name], since,
                            str(workdir / f"fresh_{arm}_{day}_{name}".replace(" ", "_")), spec)
                            for name, spec in SPECS.items()},
                    }
                    print(f"{arm}, day {day + 1}: {marks[day + 1]}", flush=True)
        arms[arm] = {
            "marks": marks,
            "maintenance_seconds_median": (
                statistics.median(maintenance_seconds) if maintenance_seconds else None),
        }
    return {"days": days, "orders_per_day": orders_per_day, "maintain_every": maintain_every,
            "arms": arms}


def report(result: dict) -> str:
    days = result["days"]
    lines = [
        f"{days} daily runs, {result['orders_per_day']} new orders a day (plus a tenth as many "
        f"status changes), maintenance every {result['maintain_every']} day(s).",
        "",
        "| lakehouse | day | table | files | fresh build files | files on disk | query s "
        "| day's run s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for arm, data in result["arms"].items():
        for day, mark in sorted(data["marks"].items(), key=lambda kv: int(kv[0])):
            for name, m in mark["tables"].items():
                lines.append(f"| {arm} | {day} | {name} | {m['files']} | "
                             f"{m['fresh_build_files']} | {m['files_on_disk']} | "
                             f"{m['query_seconds']:.2f} | {mark['day_seconds']:.2f} |")
    for arm, data in result["arms"].items():
        marks = {int(day): m for day, m in data["marks"].items()}
        first, last = marks[min(marks)], marks[max(marks)]
        ratios = ", ".join(
            f"{name} {m['files'] / m['fresh_build_files']:.0f} x" for name, m in last["tables"].items())
        lines.append(
            f"\n{arm}: files against a fresh build's {ratios} (goal <= 5); day's run "
            f"{last['day_seconds'] / first['day_seconds']:.2f} x day 30 (goal <= 1.2)"
            + (f"; maintenance {data['maintenance_seconds_median']:.1f} s a night (median)"
               if data["maintenance_seconds_median"] else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=300)
    parser.add_argument("--maintain-every", type=int, default=1)
    parser.add_argument("--arm", choices=list(ARM_OPTIONS),
                        help="run one lakehouse only: 'without' or 'with' maintenance")
    parser.add_argument("--out", default="benchmarks/out/small_files.json")
    args = parser.parse_args(argv)
    if args.days < 30:
        parser.error("--days must be at least 30 (day 30 is the reference)")
    with tempfile.TemporaryDirectory(prefix="small_files_") as workdir:
        arms = (ARM_OPTIONS[args.arm],) if args.arm else ARMS
        result = run(args.days, args.orders_per_day, args.maintain_every, Path(workdir), arms)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
