"""``gold.data_quality_summary``: every rule's outcome per run, table and rule, for SQL.

Design: an asset downstream of every checked table that writes one row per check evaluation
of its run, read from the run's own event log: the very results the steps recorded (each
table's rules are audited in the step that writes it), with any executor and without
evaluating a rule twice.

It is daily-partitioned and merged on (run_id, table_name, rule) without a partition column:
each run adds its rows and history accumulates. Limitation: when a blocking check fails, the
downstream summary is skipped with everything else; that failure is in Dagster's check
history, and the next successful run records the table's state.
"""

import datetime as dt
import json

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MetadataValue,
    Output,
    asset,
)
from pyspark.sql import types as T

from lakehouse_assets.assets.factory import TABLE_KINDS
from lakehouse_assets.checks.table_rules import ALL_RULES
from lakehouse_assets.checks.results import recorded_check_evaluations
from lakehouse_assets.partitions import daily_partitions, run_window
from lakehouse_assets.resources import SparkResource
from lakehouse_assets.tables import table_spec

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


def _value(metadata: dict, name: str):
    item = metadata.get(name)
    return getattr(item, "value", item)


def summary_rows(evaluations, run_id: str, window, checked_at: dt.datetime) -> list[tuple]:
    """One row per check (``AssetCheckEvaluation``s of the run; the last one of a check wins)."""
    start, end = (window[0].date(), (window[1] - dt.timedelta(days=1)).date()) if window else (
        None, None)
    latest = {(".".join(e.asset_key.path), e.check_name): e for e in evaluations}
    rows = []
    for (table, rule), e in sorted(latest.items()):
        meta = e.metadata
        quarantined = _value(meta, "rows_quarantined")
        rows.append((
            run_id, table, rule, int(_value(meta, "rows_checked") or 0),
            int(_value(meta, "rows_failed") or 0),
            None if quarantined is None else int(quarantined),
            bool(e.passed), e.severity.value, bool(e.blocking), str(_value(meta, "threshold")),
            json.dumps(_value(meta, "sample_keys") or [], default=str), start, end, checked_at,
        ))
    return rows


SUMMARY_TABLE = table_spec("gold.data_quality_summary")


@asset(
    key=["gold", "data_quality_summary"],
    deps=[AssetKey(t.split(".")) for t in _checked_tables],
    description=SUMMARY_TABLE.description,
    metadata=SUMMARY_TABLE.asset_metadata,
    group_name="gold",
    kinds=TABLE_KINDS,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
)
def data_quality_summary(context: AssetExecutionContext, spark: SparkResource) -> Output:
    session = spark.spark_session
    run_id = context.run.run_id
    evaluations = recorded_check_evaluations(context.instance, run_id)
    # checked_at is metadata about the check, not business logic.
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = summary_rows(evaluations, run_id, run_window(context.run.tags), now)
    df = session.createDataFrame(rows, SUMMARY_SCHEMA)
    failed = [f"{r[1]}.{r[2]}" for r in rows if not r[6]]
    return Output(df, metadata={
        "rules": MetadataValue.int(len(rows)),
        "rules_failed": MetadataValue.json(failed),
    })
