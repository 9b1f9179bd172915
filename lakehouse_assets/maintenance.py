"""Table maintenance: compaction (OPTIMIZE) and removal of unreferenced files (VACUUM), as a
Dagster job on a daily schedule; and restoring a table to an earlier version, as a job.

Neither changes what a table holds. Every daily MERGE adds small files; OPTIMIZE rewrites them
into fewer, larger ones in a commit whose rows are the same. VACUUM then deletes the files no
table version within the retention references (and stray files older than it), so storage
stops growing; time travel reaches back as far as the retention. Each table's result is an
asset observation (files and bytes before and after, files compacted and deleted, the Delta
version), which the UI plots on the table's page.

A concurrent pipeline run is safe: OPTIMIZE commits through Delta's optimistic concurrency
(a lost race is retried, the pipeline's own commits retry too) and VACUUM never deletes files
younger than the retention, so it cannot take a file from a write in progress.

A restore is a new Delta commit whose content is the earlier version's; it records why, and
it is a materialization of the table in Dagster, so the tables computed from it are stale and
the automation sensor rebuilds them (for a table partitioned by landing date: the landing
dates whose rows the restore changed).
"""

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
from pydantic import Field

from lakehouse_assets.resources.delta_io_manager import (
    cluster_by_sql,
    clustering_columns,
    commit_metadata,
    delta_path,
    history_markdown,
    last_commit,
    recent_commits,
    table_exists,
    table_totals,
    with_commit_retries,
)
from lakehouse_assets.resources.spark import SparkResource
from lakehouse_assets.resources.storage import LakehouseStorage
from lakehouse_assets.tables import LANDING_DATE, TABLES

# Delta's safety check refuses a shorter VACUUM retention than the tables' 168-hour
# deletedFileRetentionDuration (resources.spark.TABLE_PROPERTIES); so does this job.
MIN_RETAIN_HOURS = 168
COMMIT_ATTEMPTS = 5


class RetentionTooShortError(ValueError):
    pass


def check_retention(retain_hours: int) -> None:
    if retain_hours < MIN_RETAIN_HOURS:
        raise RetentionTooShortError(
            f"VACUUM retention of {retain_hours} hours is below {MIN_RETAIN_HOURS} hours: "
            "readers and writers still using an older version could lose their files. "
            f"Use retain_hours >= {MIN_RETAIN_HOURS}."
        )


def files_on_disk(path: str) -> tuple[int, int] | None:
    """(files, bytes) of data in a local table's directory, referenced or not (None: not local).

    Delta's own files (``_delta_log``, ``_change_data``) and hidden files are not counted.
    """
    local = path.removeprefix("file:")
    if "://" in local:
        return None
    files = size = 0
    for directory, subdirs, names in os.walk(local):
        subdirs[:] = [d for d in subdirs if not d.startswith(("_", "."))]
        for name in names:
            if not name.startswith(("_", ".")):
                files += 1
                size += os.path.getsize(os.path.join(directory, name))
    return files, size


def maintain_table(
    spark: Any, path: str, retain_hours: int, log: Any, cluster_by: Sequence[str] = ()
) -> dict[str, int]:
    """OPTIMIZE (clustering by ``cluster_by``), then VACUUM the table at ``path``; what it
    held and what changed."""
    check_retention(retain_hours)
    name = delta_path(path)
    # A table created before its clustering was declared gets it now; OPTIMIZE then clusters.
    reclustered = bool(cluster_by) and clustering_columns(spark, path) != list(cluster_by)
    if reclustered:
        with_commit_retries(lambda: spark.sql(f"ALTER TABLE {name} {cluster_by_sql(cluster_by)}"),
                            f"ALTER TABLE {name} CLUSTER BY", log, COMMIT_ATTEMPTS)
    _, files_before, bytes_before = table_totals(spark, path)
    disk_before = files_on_disk(path)
    optimized = with_commit_retries(
        lambda: spark.sql(f"OPTIMIZE {name}").first(), f"OPTIMIZE {name}", log, COMMIT_ATTEMPTS
    )
    metrics = optimized["metrics"]
    with_commit_retries(
        lambda: spark.sql(f"VACUUM {name} RETAIN {int(retain_hours)} HOURS").collect(),
        f"VACUUM {name}", log, COMMIT_ATTEMPTS,
    )
    history = recent_commits(spark, path, 5)
    vacuumed = next(
        (int((c.get("operationMetrics") or {}).get("numDeletedFiles", 0))
         for c in history if c.get("operation") == "VACUUM END"),
        0,
    )
    rows_after, files_after, bytes_after = table_totals(spark, path)
    result = {
        "delta_version": history[0]["version"],
        "rows": rows_after,
        "files_before": files_before,
        "files_after": files_after,
        "bytes_before": bytes_before,
        "bytes_after": bytes_after,
        "files_compacted": int(metrics["numFilesRemoved"]),
        "files_written": int(metrics["numFilesAdded"]),
        "files_vacuumed": vacuumed,
        "retain_hours": int(retain_hours),
        "clustering_declared": int(reclustered),
    }
    if disk_before is not None:
        disk_after = files_on_disk(path)
        result |= {"files_on_disk_before": disk_before[0], "files_on_disk_after": disk_after[0],
                   "bytes_on_disk_before": disk_before[1], "bytes_on_disk_after": disk_after[1]}
    return result


class MaintenanceConfig(dg.Config):
    retain_hours: int = Field(
        default=MIN_RETAIN_HOURS,
        description=f"VACUUM keeps files removed less than this many hours ago (at least "
        f"{MIN_RETAIN_HOURS}): time travel reaches back this far.",
    )
    tables: list[str] = Field(
        default_factory=list,
        description='Tables to maintain, as "layer.table"; empty: every declared table.',
    )


# Each table's observation is yielded as soon as it is maintained: a later table's failure
# does not take the earlier tables' records with it.
@dg.op(out={}, description="OPTIMIZE and VACUUM every table (or the configured ones) that exists.")
def optimize_and_vacuum(
    context: dg.OpExecutionContext,
    config: MaintenanceConfig,
    spark: SparkResource,
    storage: LakehouseStorage,
) -> Iterator[dg.AssetObservation]:
    check_retention(config.retain_hours)
    session = spark.spark_session
    failed: dict[str, str] = {}
    for table in config.tables or list(TABLES):
        layer, _, short = table.partition(".")
        path = storage.table_path(layer, short)
        if not table_exists(session, path):
            context.log.info(f"{table}: no table yet, nothing to maintain.")
            continue
        spec = TABLES.get(table)
        try:
            with commit_metadata(session, context.run_id, {"maintenance": "optimize, vacuum"}):
                result = maintain_table(session, path, config.retain_hours, context.log,
                                        spec.cluster_by if spec else ())
        except Exception as exc:  # noqa: BLE001 - one broken table must not stop the others
            failed[table] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}"
            context.log.error(f"{table}: maintenance failed (its rows are as they were): "
                              f"{failed[table]}")
            continue
        context.log.info(
            f"{table}: {result['files_before']} -> {result['files_after']} files, "
            f"{result['files_vacuumed']} unreferenced files deleted."
        )
        yield dg.AssetObservation(
            asset_key=dg.AssetKey([layer, short]),
            metadata={k: dg.MetadataValue.int(v) for k, v in result.items()},
        )
    if failed:
        raise dg.Failure(
            f"Maintenance failed for {len(failed)} table(s), every other table was maintained: "
            + "; ".join(f"{t}: {why}" for t, why in failed.items()),
            metadata={"failed_tables": dg.MetadataValue.json(failed)},
        )


@dg.job(
    name="maintain_tables",
    description="Compacts every table's small files (OPTIMIZE) and deletes files no version "
    f"within the retention uses (VACUUM, {MIN_RETAIN_HOURS} hours by default).",
)
def maintenance_job():
    optimize_and_vacuum()


maintenance_schedule = dg.ScheduleDefinition(
    name="maintain_tables_daily",
    job=maintenance_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Table maintenance every night at 03:00 UTC (on by default).",
)


class RestoreTargetError(ValueError):
    pass


def restore_target(version: int | None, timestamp: str | None) -> str:
    """The SQL time-travel clause for exactly one of ``version`` and ``timestamp``."""
    if (version is None) == (timestamp is None):
        raise RestoreTargetError(
            "Give exactly one of version (a Delta version, see the table's delta_history) or "
            "timestamp (ISO 8601, e.g. 2024-03-01T12:00:00Z)."
        )
    if version is not None:
        if version < 0:
            raise RestoreTargetError(f"version {version} is negative: Delta versions start at 0.")
        return f"VERSION AS OF {int(version)}"
    try:
        when = dt.datetime.fromisoformat(timestamp)
    except ValueError:
        raise RestoreTargetError(
            f"timestamp {timestamp!r} is not ISO 8601 (e.g. 2024-03-01T12:00:00Z)."
        ) from None
    if when.tzinfo is not None:  # the session's time zone is UTC
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return f"TIMESTAMP AS OF '{when.isoformat(sep=' ')}'"


def changed_landing_dates(spark: Any, path: str, target: str) -> list[str] | None:
    """The landing dates whose rows differ between the table now and at ``target`` (None:
    the table has no landing date). Columns added since count every date of both."""
    name = delta_path(path)
    now, then = spark.sql(f"SELECT * FROM {name}"), spark.sql(f"SELECT * FROM {name} {target}")
    if LANDING_DATE not in now.columns or LANDING_DATE not in then.columns:
        return None
    if sorted(now.columns) == sorted(then.columns):
        then = then.select(*now.columns)
        changed = now.exceptAll(then).unionByName(then.exceptAll(now))
    else:
        changed = now.select(LANDING_DATE).unionByName(then.select(LANDING_DATE))
    return sorted(str(r[0]) for r in changed.select(LANDING_DATE).distinct().collect())


class RestoreConfig(dg.Config):
    table: str = Field(description='The table to restore, as "layer.table".')
    version: int | None = Field(
        default=None, description="Restore to this Delta version (the table's delta_history)."
    )
    timestamp: str | None = Field(
        default=None,
        description="Or restore to the version current at this time (ISO 8601; UTC if no zone).",
    )
    reason: str = Field(description="Why: recorded in the RESTORE commit and on the table's page.")


@dg.op(description="Restores one table to an earlier version and marks its downstream stale.")
def restore_to_version(
    context: dg.OpExecutionContext,
    config: RestoreConfig,
    spark: SparkResource,
    storage: LakehouseStorage,
) -> None:
    target = restore_target(config.version, config.timestamp)
    if not config.reason.strip():
        raise RestoreTargetError("reason is empty: say why the table is restored.")
    layer, _, short = config.table.partition(".")
    if not layer or not short:
        raise RestoreTargetError(f'table {config.table!r} is not "layer.table".')
    path = storage.table_path(layer, short)
    session = spark.spark_session
    if not table_exists(session, path):
        raise dg.Failure(f"{config.table}: there is no table at {path} to restore.")
    version_before = last_commit(session, path)[0]
    dates = changed_landing_dates(session, path, target)
    with commit_metadata(session, context.run_id, {"restore_reason": config.reason}):
        restored = with_commit_retries(
            lambda: session.sql(f"RESTORE TABLE {delta_path(path)} TO {target}").first(),
            f"RESTORE {config.table}", context.log, COMMIT_ATTEMPTS,
        ).asDict()
    history = recent_commits(session, path, 5)
    rows, files, size = table_totals(session, path)
    key = dg.AssetKey([layer, short])
    metadata = {
        "restore_reason": dg.MetadataValue.text(config.reason),
        "restored_to": dg.MetadataValue.text(target),
        "version_before": dg.MetadataValue.int(version_before),
        "delta_version": dg.MetadataValue.int(history[0]["version"]),
        "dagster/row_count": dg.MetadataValue.int(rows),
        "num_files": dg.MetadataValue.int(files),
        "size_bytes": dg.MetadataValue.int(size),
        "files_restored": dg.MetadataValue.int(int(restored.get("num_restored_file") or 0)),
        "files_removed": dg.MetadataValue.int(int(restored.get("num_removed_file") or 0)),
        "delta_history": dg.MetadataValue.md(history_markdown(history)),
    }
    # A materialization per partition the restore changed makes exactly those downstream
    # partitions stale. A partitioned table without landing dates: every partition it has.
    materialized = context.instance.get_materialized_partitions(key)
    if not materialized:
        partitions: list[str | None] = [None]
    else:
        partitions = dates if dates is not None else sorted(materialized)
    for partition in partitions:
        context.log_event(dg.AssetMaterialization(key, partition=partition, metadata=metadata))
    context.log.info(
        f"{config.table}: restored to {target} (version {version_before} -> "
        f"{history[0]['version']}), {len(partitions)} partition(s) marked updated: "
        f"{config.reason}"
    )


@dg.job(
    name="restore_table",
    description="Restores a table to an earlier Delta version or time, records why, and "
    "marks the tables computed from it stale so the automation rebuilds them.",
)
def restore_job():
    restore_to_version()
