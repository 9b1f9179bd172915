"""Integrity rules (all ERROR, blocking): keys, references, conservation; plus freshness (WARN).

Each function takes DataFrames already restricted to what should be checked (the run's
landing-date window, or the whole table) and returns a RuleResult. Counts come from one
aggregation; offending keys are fetched by a second, limited query only when a rule fails.
The key rule's counts come from ``checks.counting``, which counts a table's other row rules
in the same aggregation.
"""

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.checks import counting
from lakehouse_assets.checks.counting import any_of, sample_keys
from lakehouse_assets.checks.results import ERROR, WARN, RuleResult
from lakehouse_assets.checks.rules import THRESHOLDS, Thresholds


def keys_unique_not_null(
    df: DataFrame, keys: list[str], table: str, t: Thresholds = THRESHOLDS
) -> RuleResult:
    """Every row has all key columns set and no two rows share a key."""
    key_counts, _ = counting.count(df, keys)
    return key_result(key_counts, table, t)


def key_result(k: counting.KeyCounts, table: str, t: Thresholds = THRESHOLDS) -> RuleResult:
    """The key rule's result from the key's counts."""
    failed = k.null_rows + k.duplicate_rows
    return RuleResult(
        rule=counting.KEY_RULE,
        table=table,
        passed=failed == 0,
        rows_checked=k.rows,
        rows_failed=failed,
        threshold=f"0 null or duplicate keys on {k.keys}",
        sample_keys=k.sample(t.sample_size) if failed else [],
        details={
            "keys": k.keys,
            "null_key_rows": k.null_rows,
            "duplicate_keys": k.duplicate_keys,
            "duplicate_rows": k.duplicate_rows,
        },
    )


def rows_with_keys_of(table: DataFrame, window: DataFrame, keys: list[str]) -> DataFrame:
    """The table's rows whose key occurs in `window` (plus the window's null-key rows).

    For tables whose key is unique across partitions (silver ``key_scope="table"``): the keys
    a run wrote must be unique in the whole table, but only those keys need checking.
    """
    null_key = any_of([F.col(k).isNull() for k in keys])
    return table.join(window.select(*keys).distinct(), keys, "left_semi").unionByName(
        window.where(null_key)
    )


def orphans(
    child: DataFrame,
    child_key: str,
    parents: dict[str, tuple[DataFrame, str]],
    table: str,
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """Child rows whose reference (foreign key column -> (parent frame, parent key)) is missing.

    A null reference counts as an orphan. ERROR when the share of orphaned rows exceeds
    ``t.max_orphan_share``; below it the rule passes and still reports the counts.
    """
    joined = child.select(child_key, *parents)
    flags = []
    for fk, (parent, pk) in parents.items():
        hit = f"_has_{fk}"
        keys = parent.select(F.col(pk).alias(fk)).distinct().withColumn(hit, F.lit(True))
        joined = joined.join(keys, fk, "left")
        flags.append((fk, F.col(hit).isNull()))
    joined = joined.select(
        child_key, *parents, *[flag.alias(f"_orphan_{fk}") for fk, flag in flags]
    )
    any_orphan = any_of([F.col(f"_orphan_{fk}") for fk, _ in flags])
    stats = joined.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_if(any_orphan).alias("orphan_rows"),
        *[F.count_if(F.col(f"_orphan_{fk}")).alias(fk) for fk, _ in flags],
    ).first()
    rows, orphan_rows = int(stats["rows"]), int(stats["orphan_rows"])
    share = orphan_rows / rows if rows else 0.0
    sample = []
    if orphan_rows:
        sample = [
            r.asDict()
            for r in joined.where(any_orphan)
            .select(child_key, *parents)
            .orderBy(child_key)
            .limit(t.sample_size)
            .collect()
        ]
    return RuleResult(
        rule="referential_integrity",
        table=table,
        passed=share <= t.max_orphan_share,
        rows_checked=rows,
        rows_failed=orphan_rows,
        threshold=f"orphan share <= {t.max_orphan_share:.2%}",
        sample_keys=sample,
        details={
            "orphan_share": round(share, 6),
            "orphans_by_reference": {
                f"{fk} -> {pk}": int(stats[fk]) for fk, (_, pk) in parents.items()
            },
        },
    )


def conservation(
    bronze: DataFrame,
    silver_window: DataFrame,
    quarantine: DataFrame,
    silver_all: DataFrame,
    key: str,
    table: str,
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """Per landing date: bronze rows = silver rows + quarantined rows + superseded rows.

    ``bronze``, ``silver_window`` and ``quarantine`` are the run's landing dates; ``silver_all``
    is the whole silver table (a key re-sent on a later date moved its current version there).
    Each term is counted from its own table, not derived from the others:

    * silver: silver rows whose ``_landing_date`` is the date (current versions from that day);
    * quarantined: quarantine rows of the date;
    * superseded: bronze rows of the date, not quarantined (by file and line), whose key's
      current silver version has a later ``_landing_date``.
    A bronze row that is none of these (lost, or an older version that won) breaks the balance.
    """
    position = ["_source_file", "_line_number"]
    quarantined_lines = quarantine.select(*position).withColumn("_q", F.lit(True))
    current = silver_all.select(F.col(key), F.col("_landing_date").alias("_current_date"))
    valid = (
        bronze.select(key, "_landing_date", *position)
        .join(quarantined_lines, position, "left")
        .where(F.col("_q").isNull())
        .join(current, key, "left")
    )
    zero = F.lit(0)
    tagged = (
        bronze.select("_landing_date", F.lit(1).alias("b"), zero.alias("s"), zero.alias("q"),
                      zero.alias("sup"))
        .unionByName(silver_window.select("_landing_date", zero.alias("b"), F.lit(1).alias("s"),
                                          zero.alias("q"), zero.alias("sup")))
        .unionByName(quarantine.select("_landing_date", zero.alias("b"), zero.alias("s"),
                                       F.lit(1).alias("q"), zero.alias("sup")))
        .unionByName(
            valid.where(F.col("_current_date") > F.col("_landing_date")).select(
                "_landing_date", zero.alias("b"), zero.alias("s"), zero.alias("q"),
                F.lit(1).alias("sup"),
            )
        )
    )
    per_date = (
        tagged.groupBy("_landing_date")
        .agg(
            F.sum("b").alias("bronze"),
            F.sum("s").alias("silver"),
            F.sum("q").alias("quarantined"),
            F.sum("sup").alias("superseded"),
        )
        .orderBy("_landing_date")
        .collect()
    )
    terms = [
        {
            "landing_date": r["_landing_date"].isoformat(),
            "bronze": int(r["bronze"]),
            "silver": int(r["silver"]),
            "quarantined": int(r["quarantined"]),
            "superseded": int(r["superseded"]),
            "unbalanced": int(r["bronze"])
            - int(r["silver"]) - int(r["quarantined"]) - int(r["superseded"]),
        }
        for r in per_date
    ]
    broken = [d for d in terms if d["unbalanced"] != 0]
    totals = {k: sum(d[k] for d in terms) for k in ("bronze", "silver", "quarantined", "superseded")}
    return RuleResult(
        rule="conservation",
        table=table,
        passed=not broken,
        rows_checked=totals["bronze"],
        rows_failed=sum(abs(d["unbalanced"]) for d in broken),
        rows_quarantined=totals["quarantined"],
        threshold="bronze = silver + quarantined + superseded, per landing date",
        sample_keys=[d["landing_date"] for d in broken[: t.sample_size]],
        details={
            "totals": totals,
            "landing_dates": len(terms),
            # Every unbalanced date, and the first few dates in full for the UI.
            "unbalanced_dates": broken[:50],
            "first_dates": terms[: t.sample_size],
        },
    )


def file_conservation(
    bronze: DataFrame, quarantine: DataFrame, ledger: DataFrame, table: str,
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """Per landing file: rows in bronze + lines in bronze quarantine = the ledger's records.

    The three frames are the written tables (restricted to the run's landing dates), each
    counted on its own: a file whose rows went missing between parsing and the commit, or rows
    whose file has no ledger row, break the balance. A failed file has 0 records.
    """
    def per_file(df: DataFrame, path: str, alias: str) -> DataFrame:
        return df.groupBy(F.col(path).alias("file")).agg(F.count(F.lit(1)).alias(alias))

    counted = (
        ledger.select(F.col("file_path").alias("file"), F.col("records").cast("long"))
        .join(per_file(bronze, "_source_file", "rows"), "file", "full_outer")
        .join(per_file(quarantine, "_source_file", "quarantined"), "file", "full_outer")
        .fillna(0, ["rows", "quarantined"])
        .withColumn("unbalanced", F.coalesce(F.col("records"), F.lit(0)) - F.col("rows")
                    - F.col("quarantined"))
        .withColumn("in_ledger", F.col("records").isNotNull())
    )
    stats = counted.agg(
        F.count(F.lit(1)).alias("files"),
        F.coalesce(F.sum("records"), F.lit(0)).alias("records"),
        F.coalesce(F.sum("rows"), F.lit(0)).alias("rows"),
        F.coalesce(F.sum("quarantined"), F.lit(0)).alias("quarantined"),
        F.coalesce(F.sum(F.abs("unbalanced")), F.lit(0)).alias("unbalanced_rows"),
        F.count_if((F.col("unbalanced") != 0) | ~F.col("in_ledger")).alias("unbalanced_files"),
    ).first()
    broken = []
    if stats["unbalanced_files"]:
        broken = [
            r.asDict()
            for r in counted.where((F.col("unbalanced") != 0) | ~F.col("in_ledger"))
            .orderBy("file").limit(t.sample_size).collect()
        ]
    return RuleResult(
        rule="file_conservation",
        table=table,
        passed=stats["unbalanced_files"] == 0,
        rows_checked=int(stats["records"]),
        rows_failed=int(stats["unbalanced_rows"]),
        rows_quarantined=int(stats["quarantined"]),
        threshold="rows + quarantined lines = the ledger's records, for every file",
        sample_keys=[r["file"] for r in broken],
        details={
            "files": int(stats["files"]),
            "unbalanced_files": int(stats["unbalanced_files"]),
            "ledger_records": int(stats["records"]),
            "bronze_rows": int(stats["rows"]),
            "quarantined_lines": int(stats["quarantined"]),
            "first_unbalanced": broken,
        },
    )


def freshness(
    ledger: DataFrame,
    dataset: str,
    reference_date: dt.date,
    reference: str,
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """The latest landing date with a loaded (or unchanged) file is at most the lag before
    ``reference_date``.

    The reference is never the wall clock: it is the last landing date the run was asked to
    process (its partition range end) or, outside a partitioned run, the latest order date in
    silver. A lag then means "the run covered a day the feed did not deliver"; the
    business-time result is reproducible on a rebuild. Wall-clock staleness belongs to a
    Dagster freshness policy, not to table logic.
    """
    lag_days = t.freshness_lag_days.get(dataset)
    latest = (
        ledger.where(F.col("status").isin("loaded", "unchanged"))
        .agg(F.max("_landing_date").alias("latest"))
        .first()["latest"]
    )
    lag = (reference_date - latest).days if latest is not None else None
    passed = lag_days is None or (lag is not None and lag <= lag_days)
    return RuleResult(
        rule="freshness",
        table=f"bronze.ledger_{dataset}",
        passed=passed,
        rows_checked=1,
        rows_failed=0 if passed else 1,
        threshold=f"lag <= {lag_days} days" if lag_days is not None else "no lag rule",
        severity=WARN,
        sample_keys=[] if passed else [str(latest)],
        details={
            "latest_landing_date": str(latest) if latest else None,
            "reference_date": reference_date.isoformat(),
            "reference": reference,
            "lag_days": lag,
        },
    )


__all__ = [
    "ERROR", "conservation", "file_conservation", "freshness", "keys_unique_not_null", "orphans",
]
