"""The maintenance job (OPTIMIZE and VACUUM) through real Dagster runs on real Delta tables:
it compacts without changing data, deletes only what the retention allows, keeps time travel
within it, leaves every table readable by delta-rs, and loses nothing beside a pipeline run.
The restore job returns a table to an earlier version and makes its downstream stale."""

import os
import threading
import time

import dagster as dg
import pytest
from lakehouse_assets.assets.factory import AUTOMATION
from lakehouse_assets.definitions import defs
from lakehouse_assets.maintenance import (
    MIN_RETAIN_HOURS,
    RestoreTargetError,
    RetentionTooShortError,
    maintenance_job,
    restore_job,
    restore_target,
)
from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.resources import SparkResource
from lakehouse_assets.tables import LANDING_DATE
from lakehouse_assets_tests.test_delta_io_manager import (
    RowsConfig,
    events,
    rows_frame,
    run,
    table_rows,
)

DAYS = [f"2024-01-0{d}" for d in range(1, 5)]


def day_rows(day: str) -> list[list]:
    return [[f"{day}-{i}", day, i] for i in range(3)]


def maintain(resources, retain_hours=MIN_RETAIN_HOURS):
    return maintenance_job.execute_in_process(
        run_config={"ops": {"optimize_and_vacuum": {"config": {
            "retain_hours": retain_hours, "tables": ["silver.events", "gold.absent"]}}}},
        resources=resources,
    )


def observation(result) -> dict:
    [event] = [e for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    observed = event.event_specific_data.asset_observation
    assert observed.asset_key.path == ["silver", "events"]
    return {k: v.value for k, v in observed.metadata.items()}


def test_the_schedule_runs_the_job_and_is_on_by_default():
    schedule = defs.get_schedule_def("maintain_tables_daily")
    assert schedule.job_name == "maintain_tables"
    assert schedule.default_status.value == "RUNNING"


def test_optimize_compacts_without_changing_data_and_vacuum_keeps_the_retention(
    spark, resources
):
    from deltalake import DeltaTable

    for day in DAYS:  # one small file per daily MERGE
        run(resources, [events], day, day_rows(day))
    path = resources["storage"].table_path("silver", "events")
    before = table_rows(spark, resources)
    version_before = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"]
    # Stray files no commit references (a crashed writer's): one older than the retention,
    # which VACUUM deletes, and a fresh one, which might be a write in progress and stays.
    old_orphan, new_orphan = (os.path.join(path, f"part-orphan-{n}.parquet") for n in ("old", "new"))
    for orphan in (old_orphan, new_orphan):
        with open(orphan, "wb") as f:
            f.write(b"not referenced")
    stale = time.time() - (MIN_RETAIN_HOURS + 24) * 3600
    os.utime(old_orphan, (stale, stale))

    result = maintain(resources)

    assert result.success
    metadata = observation(result)
    assert metadata["files_before"] >= len(DAYS) and metadata["files_after"] == 1
    assert metadata["files_compacted"] == metadata["files_before"]
    assert metadata["files_vacuumed"] == 1
    assert not os.path.exists(old_orphan) and os.path.exists(new_orphan)
    # The compacted files were removed from the table just now: VACUUM keeps them on disk.
    assert metadata["files_on_disk_after"] == (
        metadata["files_on_disk_before"] + metadata["files_written"] - metadata["files_vacuumed"]
    )
    assert metadata["rows"] == len(before) and table_rows(spark, resources) == before
    old = spark.read.format("delta").option("versionAsOf", version_before).load(path)
    assert sorted(tuple(r) for r in old.collect()) == before
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    operations = [h["operation"] for h in history[:3]]
    assert operations == ["VACUUM END", "VACUUM START", "OPTIMIZE"]
    assert all(result.run_id in (h["userMetadata"] or "") for h in history[:3])
    assert metadata["delta_version"] == history[0]["version"]
    # delta-rs, the serving layer's reader, reads the maintained table.
    read = DeltaTable(path).to_pyarrow_table().to_pylist()
    assert sorted((r["event_id"], r["event_date"], r["amount"]) for r in read) == before


def test_a_table_without_its_declared_clustering_gets_it_and_keeps_its_rows(spark, resources):
    import logging

    from lakehouse_assets.maintenance import maintain_table
    from lakehouse_assets.resources.delta_io_manager import clustering_columns

    for day in DAYS[:2]:
        run(resources, [events], day, day_rows(day))
    path = resources["storage"].table_path("silver", "events")
    spark.sql(f"ALTER TABLE delta.`{path}` CLUSTER BY NONE")  # as a table made before clustering
    before = table_rows(spark, resources)

    result = maintain_table(spark, path, MIN_RETAIN_HOURS, logging.getLogger(__name__),
                            cluster_by=("event_date", "event_id"))

    assert result["clustering_declared"] == 1 and result["files_after"] == 1
    assert clustering_columns(spark, path) == ["event_date", "event_id"]
    assert table_rows(spark, resources) == before


def test_a_broken_table_fails_the_run_after_every_other_table_is_maintained(spark, resources):
    run(resources, [events], DAYS[0], day_rows(DAYS[0]))
    broken = resources["storage"].table_path("gold", "broken")
    os.makedirs(os.path.join(broken, "_delta_log"))
    with open(os.path.join(broken, "_delta_log", "00000000000000000000.json"), "w") as f:
        f.write("not a Delta commit\n")

    result = maintenance_job.execute_in_process(
        run_config={"ops": {"optimize_and_vacuum": {"config": {
            "tables": ["gold.broken", "silver.events"]}}}},
        resources=resources, raise_on_error=False,
    )

    assert not result.success
    assert observation(result)["rows"] == len(day_rows(DAYS[0]))  # maintained all the same
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert "failed for 1 table(s)" in message and "gold.broken" in message


def test_a_retention_below_the_safety_check_is_refused(spark, resources):
    run(resources, [events], DAYS[0], day_rows(DAYS[0]))
    with pytest.raises(RetentionTooShortError, match="below 168 hours"):
        maintain(resources, retain_hours=24)


def test_maintenance_beside_a_pipeline_run_loses_nothing(spark, resources):
    """Daily MERGEs and OPTIMIZE/VACUUM on the same table at once: every row lands."""
    # Each run has its own ephemeral instance (one SQLite instance is not for two threads).
    run(resources, [events], DAYS[0], day_rows(DAYS[0]))
    errors = []

    def maintain_twice():
        try:
            for _ in range(2):
                maintain(resources)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=maintain_twice)
    thread.start()
    for day in DAYS[1:]:
        assert run(resources, [events], day, day_rows(day)).success
    thread.join()

    assert not errors
    expected = sorted(tuple(r) for day in DAYS for r in spark.createDataFrame(
        day_rows(day), "event_id string, event_date string, amount int"
    ).selectExpr("event_id", "CAST(event_date AS date)", "amount").collect())
    assert table_rows(spark, resources) == expected


LANDED = f"event_id string, {LANDING_DATE} date, amount int"


@dg.asset(
    key=["silver", "events"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"merge_keys": ["event_id"], "partition_expr": LANDING_DATE},
)
def landed_events(config: RowsConfig, spark: SparkResource):
    """silver.events by landing date, as the pipeline's silver tables are."""
    return rows_frame(config, spark)


@dg.asset(key=["gold", "daily_totals"], partitions_def=daily_partitions,
          deps=[landed_events], automation_condition=AUTOMATION)
def daily_totals():
    """A downstream table under the project's automation condition (writes nothing itself)."""
    return dg.MaterializeResult()


def restore(resources, instance, reason="bad delivery", **target):
    return restore_job.execute_in_process(
        run_config={"ops": {"restore_to_version": {"config": {
            "table": "silver.events", "reason": reason, **target}}}},
        resources=resources, instance=instance,
    )


def stale_partitions(resources, instance, cursor):
    evaluation = dg.evaluate_automation_conditions(
        defs=dg.Definitions(assets=[landed_events, daily_totals], resources=resources),
        instance=instance,
        asset_selection=dg.AssetSelection.assets(daily_totals), cursor=cursor,
    )
    return evaluation.get_requested_partitions(daily_totals.key), evaluation.cursor


def test_restore_returns_a_version_records_why_and_marks_changed_days_stale(spark, resources):
    path = resources["storage"].table_path("silver", "events")
    with dg.DagsterInstance.ephemeral() as instance:
        versions = []
        for day in DAYS[:3]:
            run(resources, [landed_events], day, day_rows(day), ddl=LANDED, instance=instance)
            versions.append(spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first())
            assert dg.materialize([daily_totals], partition_key=day, instance=instance).success
        requested, cursor = stale_partitions(resources, instance, None)
        assert requested == set()  # everything is up to date
        first = sorted(tuple(r) for r in spark.read.format("delta")
                       .option("versionAsOf", versions[0]["version"]).load(path).collect())
        latest = table_rows(spark, resources)

        result = restore(resources, instance, version=versions[0]["version"])

        assert result.success and table_rows(spark, resources) == first
        commit = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()
        assert commit["operation"] == "RESTORE"
        assert result.run_id in commit["userMetadata"] and "bad delivery" in commit["userMetadata"]
        materialized = [e.event_specific_data.materialization for e in result.all_events
                        if e.event_type_value == "ASSET_MATERIALIZATION"]
        assert {m.partition for m in materialized} == set(DAYS[1:3])  # the days it changed
        assert materialized[0].metadata["restore_reason"].value == "bad delivery"
        assert materialized[0].metadata["delta_version"].value == commit["version"]
        requested, cursor = stale_partitions(resources, instance, cursor)
        assert requested == set(DAYS[1:3])

        # Undo it by time: the version current at the last day's commit.
        undo = restore(resources, instance, reason="undo",
                       timestamp=versions[2]["timestamp"].isoformat() + "Z")
        assert undo.success and table_rows(spark, resources) == latest


@pytest.mark.parametrize("target", [{}, {"version": 1, "timestamp": "2024-01-01"},
                                    {"version": -1}, {"timestamp": "yesterday"}])
def test_a_restore_needs_exactly_one_valid_target(target):
    with pytest.raises(RestoreTargetError):
        restore_target(target.get("version"), target.get("timestamp"))
