"""``gold.data_quality_summary``: every rule's outcome per run, table and rule, for SQL.

Design: an asset downstream of every checked table that evaluates the same rules with the
same plain functions (``checks.catalog``) and writes one row per rule. Results the run's
checks already computed in this process are reused, so a rule runs once per run; with
another executor the summary recomputes them (same functions, same data, same result).

It is daily-partitioned and merged on (run_id, table_name, rule) without a partition column:
each run adds its rows and history accumulates. Limitation: when a blocking check fails, the
downstream summary is skipped with everything else; that failure is in Dagster's check
history, and the next successful run records the table's state.
"""

import datetime as dt
import json

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, MetadataValue, Output, asset
from pyspark.sql import types as T

from lakehouse_assets.assets.factory import TABLE_KINDS
from lakehouse_assets.checks.catalog import ALL_RULES, RuleInputs
from lakehouse_assets.checks.definitions import evaluate, run_window
from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.resources import LakehouseStorage, QualitySettings, SparkResource

SUMMARY_SCHEMA = T.StructType([
    T.StructField("run_id", T.StringType(), False),
    T.StructField("table_name", T.StringType(), False),
    T.StructField("rule", T.StringType(), False),
    T.StructField("rows_checked", T.LongType()),
    T.StructField("rows_failed", T.LongType()),
    T.StructField("rows_quarantined", T.LongType()),
    T.StructField("passed", T.BooleanType()),
    T.StructField("severity", T.StringType()),
    T.StructField("blocking", T.BooleanType()),
    T.StructField("threshold", T.StringType()),
    T.StructField("sample_keys", T.StringType()),
    T.StructField("window_start", T.DateType()),
    T.StructField("window_end", T.DateType()),
    T.StructField("checked_at", T.TimestampType()),
])

_checked_tables = sorted({r.table for r in ALL_RULES} | {t for r in ALL_RULES for t in r.reads})


def summary_rows(results, run_id: str, window, checked_at: dt.datetime) -> list[tuple]:
    start, end = (window[0].date(), (window[1] - dt.timedelta(days=1)).date()) if window else (
        None, None)
    return [
        (
            run_id, rule.table, rule.name, int(res.rows_checked), int(res.rows_failed),
            None if res.rows_quarantined is None else int(res.rows_quarantined),
            bool(res.passed), res.severity, rule.blocking, str(res.threshold),
            json.dumps(res.sample_keys, default=str), start, end, checked_at,
        )
        for rule, res in results
    ]


@asset(
    key=["gold", "data_quality_summary"],
    deps=[AssetKey(t.split(".")) for t in _checked_tables],
    description="One row per run, table and quality rule: rows checked, failed and "
    "quarantined, passed, severity, threshold, sample keys, checked_at.",
    metadata={"merge_keys": ["run_id", "table_name", "rule"]},
    group_name="gold",
    kinds=TABLE_KINDS,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
)
def data_quality_summary(
    context: AssetExecutionContext,
    spark: SparkResource,
    storage: LakehouseStorage,
    quality: QualitySettings,
) -> Output:
    session = spark.spark_session
    window = run_window(context.run.tags)
    inputs = RuleInputs(session, storage, window, quality.thresholds())
    run_id = context.run.run_id
    results = [(rule, evaluate(rule, inputs, run_id)) for rule in ALL_RULES]
    # checked_at is metadata about the check, not business logic.
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    df = session.createDataFrame(summary_rows(results, run_id, window, now), SUMMARY_SCHEMA)
    failed = [f"{r.table}.{r.name}" for r, res in results if not res.passed]
    return Output(df, metadata={
        "rules": MetadataValue.int(len(results)),
        "rules_failed": MetadataValue.json(failed),
    })
