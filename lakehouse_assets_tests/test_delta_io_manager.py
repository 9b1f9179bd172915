"""The Delta IO manager, through real Dagster runs writing real Delta tables on disk.

Everything here also runs over Spark Connect (``test_spark_connect`` runs this module with
LAKEHOUSE_SPARK_REMOTE set against a real local server), so it reads tables by SQL and the
DataFrame API only."""


import json
import threading

import pytest
from dagster import (
    AssetIn,
    BackfillPolicy,
    Config,
    DagsterInstance,
    asset,
    define_asset_job,
    materialize,
    Definitions,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.resources import LakehouseStorage, SparkResource, build_resources
from lakehouse_assets.resources import delta_io_manager
from lakehouse_assets.resources.delta_io_manager import DuplicateMergeKeyError, SchemaChangeError

SCHEMA = "event_id string, event_date date, amount int"


class RowsConfig(Config):
    rows: str = "[]"  # JSON list of [event_id, event_date, amount, (extra...)]
    ddl: str = SCHEMA


@asset(
    key=["silver", "events"],
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    metadata={"merge_keys": ["event_id"], "partition_expr": "event_date",
              "cluster_by": ["event_date", "event_id"]},
)
def events(config: RowsConfig, spark: SparkResource):
    return rows_frame(config, spark)


@asset(key=["gold", "event_totals"], ins={"events": AssetIn(key=["silver", "events"])})
def event_totals(events):
    return events.groupBy("event_date").agg({"amount": "sum"}).withColumnRenamed("sum(amount)", "amount")


@asset(key=["gold", "snapshot"])
def snapshot(config: RowsConfig, spark: SparkResource):
    return rows_frame(config, spark)


def rows_frame(config: RowsConfig, spark: SparkResource):
    """The configured rows as a DataFrame; casts run lazily, i.e. while the IO manager writes."""
    return spark.spark_session.sql(
        f"SELECT * FROM VALUES {values_sql(json.loads(config.rows))} AS t({ddl_names(config.ddl)})"
    ).selectExpr(*cast_exprs(config.ddl))


def values_sql(rows) -> str:
    def lit(v):
        return "NULL" if v is None else (str(v) if isinstance(v, int) else f"'{v}'")

    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def ddl_names(ddl: str) -> str:
    return ", ".join(part.split()[0] for part in ddl.split(","))


def cast_exprs(ddl: str) -> list[str]:
    return [f"CAST({p.split()[0]} AS {p.split()[1]}) AS {p.split()[0]}" for p in ddl.split(",")]


def run(resources, assets, partition=None, rows=(), ddl=SCHEMA, instance=None, selection=None):
    configured = {"silver__events", "gold__snapshot"}
    config = {
        "ops": {
            a.op.name: {"config": {"rows": json.dumps(list(rows)), "ddl": ddl}}
            for a in assets
            if a.op.name in configured
        }
    }
    return materialize(
        assets,
        partition_key=partition,
        resources=resources,
        run_config=config,
        instance=instance,
        selection=selection,
    )


def table_rows(spark, resources, layer="silver", table="events"):
    path = resources["storage"].table_path(layer, table)
    return sorted(tuple(r) for r in spark.read.format("delta").load(path).collect())


def last_commit(spark, resources, layer="silver", table="events"):
    """The table's newest commit, by SQL (works in-process and over Spark Connect)."""
    path = resources["storage"].table_path(layer, table)
    return spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()


def version(spark, resources, layer="silver", table="events"):
    return last_commit(spark, resources, layer, table)["version"]


DAY1 = [["a", "2024-01-01", 1], ["b", "2024-01-01", 2]]
DAY2 = [["c", "2024-01-02", 3]]


def test_every_commit_names_its_run_and_the_metadata_lists_the_recent_history(spark, resources):
    """A new table is created with the retention properties; each commit records the Dagster
    run that made it, and each materialization lists the table's recent commits with them.
    delta-rs (the serving layer's reader) reads the table."""
    from deltalake import DeltaTable

    first = run(resources, [events], "2024-01-01", DAY1)
    second = run(resources, [events], "2024-01-02", DAY2)
    path = resources["storage"].table_path("silver", "events")

    properties = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"]
    assert properties["delta.deletedFileRetentionDuration"] == "interval 168 hours"
    assert properties["delta.logRetentionDuration"] == "interval 30 days"

    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").orderBy("version").collect()
    runs = [json.loads(h["userMetadata"])["dagster_run_id"] for h in history]
    assert runs == [first.run_id, second.run_id]

    listed = second.asset_materializations_for_node("silver__events")[0].metadata
    lines = listed["delta_history"].value.splitlines()
    assert lines[0].startswith("| version | committed (UTC) | operation |")
    newest, older = lines[2].split(" | "), lines[3].split(" | ")
    assert newest[0] == "| 1" and newest[-1] == f"{second.run_id} |"
    assert older[0] == "| 0" and older[-1] == f"{first.run_id} |"
    assert newest[3] == "1" and older[3] == "2"  # rows inserted by each commit
    assert len(lines) == 4  # header, rule, two commits

    assert DeltaTable(path).version() == 1
    assert DeltaTable(path).to_pyarrow_table().num_rows == 3


def test_partition_rerun_is_idempotent_and_isolated(spark, resources):
    run(resources, [events], "2024-01-01", DAY1)
    run(resources, [events], "2024-01-02", DAY2)
    before = table_rows(spark, resources)
    result = run(resources, [events], "2024-01-01", DAY1)

    assert table_rows(spark, resources) == before
    mat = result.asset_materializations_for_node("silver__events")[0].metadata
    assert mat["rows_updated"].value == 0 and mat["rows_inserted"].value == 0
    assert mat["rows_deleted"].value == 0
    assert mat["dagster/row_count"].value == 3
    assert mat["num_files"].value >= 1 and mat["size_bytes"].value > 0
    assert [c.name for c in mat["dagster/column_schema"].schema.columns] == [
        "event_id",
        "event_date",
        "amount",
    ]

    # Rewriting day 1 with a change updates, inserts and deletes only within day 1.
    result = run(resources, [events], "2024-01-01", [["a", "2024-01-01", 10], ["d", "2024-01-01", 4]])
    rows = table_rows(spark, resources)
    assert rows == sorted(
        [("a", _d("2024-01-01"), 10), ("d", _d("2024-01-01"), 4), ("c", _d("2024-01-02"), 3)]
    )
    mat = result.asset_materializations_for_node("silver__events")[0].metadata
    assert (mat["rows_updated"].value, mat["rows_inserted"].value, mat["rows_deleted"].value) == (
        1,
        1,
        1,
    )
    # The totals (read from the Delta log without Spark) are what Spark itself counts.
    path = resources["storage"].table_path("silver", "events")
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()
    assert (mat["dagster/row_count"].value, mat["num_files"].value, mat["size_bytes"].value) == (
        spark.read.format("delta").load(path).count(), detail["numFiles"], detail["sizeInBytes"]
    )
    # The MERGE's condition carries the literal partition predicate.
    predicate = last_commit(spark, resources)["operationParameters"]["predicate"]
    assert "2024-01-01" in predicate and "2024-01-02" in predicate


def test_a_new_window_is_written_without_a_merge_and_its_rerun_merges(spark, resources):
    run(resources, [events], "2024-01-01", DAY1)
    result = run(resources, [events], "2024-01-02", DAY2)

    commit = last_commit(spark, resources)
    assert commit["operation"] == "WRITE"  # replaceWhere: no join with the stored rows
    assert "2024-01-02" in commit["operationParameters"]["predicate"]
    mat = result.asset_materializations_for_node("silver__events")[0].metadata
    assert mat["rows_inserted"].value == 1 and mat["dagster/row_count"].value == 3

    result = run(resources, [events], "2024-01-02", [["c", "2024-01-02", 30]])
    assert last_commit(spark, resources)["operation"] == "MERGE"  # the window has rows now
    mat = result.asset_materializations_for_node("silver__events")[0].metadata
    assert (mat["rows_updated"].value, mat["rows_inserted"].value) == (1, 0)
    assert mat["dagster/row_count"].value == 3
    assert table_rows(spark, resources)[2] == ("c", _d("2024-01-02"), 30)


def test_clustering_is_declared_on_creation_and_kept_through_merges(spark, resources):
    from deltalake import DeltaTable

    from lakehouse_assets.resources.delta_io_manager import clustering_columns

    path = resources["storage"].table_path("silver", "events")
    result = run(resources, [events], "2024-01-01", DAY1)
    assert last_commit(spark, resources)["operation"] == "CREATE TABLE AS SELECT"
    assert result.asset_materializations_for_node("silver__events")[0].metadata[
        "dagster/row_count"].value == len(DAY1)
    assert clustering_columns(spark, path) == ["event_date", "event_id"]
    run(resources, [events], "2024-01-02", DAY2)  # a new window: replaceWhere
    run(resources, [events], "2024-01-02", [["c", "2024-01-02", 30]])  # a MERGE
    assert last_commit(spark, resources)["operation"] == "MERGE"
    assert clustering_columns(spark, path) == ["event_date", "event_id"]
    assert DeltaTable(path).to_pyarrow_table().num_rows == len(table_rows(spark, resources))


def _d(s):
    import datetime as dt

    return dt.date.fromisoformat(s)


def test_range_backfill_is_one_merge(spark, resources):
    run(resources, [events], "2024-01-01", DAY1)
    before = version(spark, resources)
    job = define_asset_job("backfill", selection=[events])
    defs = Definitions(assets=[events], jobs=[job], resources=resources)
    result = defs.resolve_job_def("backfill").execute_in_process(
        run_config={"ops": {"silver__events": {"config": {"rows": json.dumps(
            [["a", "2024-01-01", 5], ["c", "2024-01-02", 3], ["e", "2024-01-03", 7]]
        )}}}},
        tags={
            ASSET_PARTITION_RANGE_START_TAG: "2024-01-01",
            ASSET_PARTITION_RANGE_END_TAG: "2024-01-03",
        },
    )
    assert result.success
    assert version(spark, resources) == before + 1  # one commit for three days
    assert [r[0] for r in table_rows(spark, resources)] == ["a", "c", "e"]


def test_duplicate_keys_fail_clearly_and_write_nothing(spark, resources):
    run(resources, [events], "2024-01-01", DAY1)
    before = version(spark, resources)
    with pytest.raises(DuplicateMergeKeyError, match=r"silver.events.*'event_id': 'a'.*x2"):
        run(resources, [events], "2024-01-01", [*DAY1, ["a", "2024-01-01", 9]])
    assert version(spark, resources) == before
    assert len(table_rows(spark, resources)) == 2


def test_rows_outside_the_partition_are_refused(spark, resources):
    with pytest.raises(Exception, match="outside its partition window"):
        run(resources, [events], "2024-01-01", [["x", "2024-02-01", 1]])


def test_schema_evolution_is_additive_for_partitions(spark, resources):
    run(resources, [events], "2024-01-01", DAY1)
    run(
        resources,
        [events],
        "2024-01-02",
        [["c", "2024-01-02", 3, "web"]],
        ddl=SCHEMA + ", channel string",
    )
    rows = table_rows(spark, resources)
    assert rows[0] == ("a", _d("2024-01-01"), 1, None) and rows[2][3] == "web"
    # A changed column type is refused, and the table is left as it was.
    with pytest.raises(SchemaChangeError, match=r"amount: int -> string"):
        run(resources, [events], "2024-01-03", [["d", "2024-01-03", "x"]], ddl="event_id string, event_date date, amount string")
    assert len(table_rows(spark, resources)) == 3


def test_unpartitioned_replace_and_failure_mid_write_keeps_previous_version(spark, resources):
    run(resources, [snapshot], None, [["a", "2024-01-01", 1]])
    run(resources, [snapshot], None, [["b", "2024-01-02", 2], ["c", "2024-01-02", 3]], ddl="event_id string, event_date date, amount bigint")
    assert table_rows(spark, resources, "gold", "snapshot") == [
        ("b", _d("2024-01-02"), 2),
        ("c", _d("2024-01-02"), 3),
    ]
    good = version(spark, resources, "gold", "snapshot")
    # A value that fails only while the files are being written (ANSI cast error).
    with pytest.raises(Exception):
        run(resources, [snapshot], None, [["d", "2024-01-02", "not-a-number"]], ddl="event_id string, event_date date, amount int")
    assert version(spark, resources, "gold", "snapshot") == good
    assert len(table_rows(spark, resources, "gold", "snapshot")) == 2


def test_unpartitioned_downstream_reads_whole_table_and_catalog_sees_it(spark, resources):
    run(resources, [events], "2024-01-01", DAY1)
    run(resources, [events], "2024-01-02", DAY2)
    result = materialize([events, event_totals], resources=resources, selection=[event_totals])
    assert result.success
    totals = table_rows(spark, resources, "gold", "event_totals")
    assert totals == [(_d("2024-01-01"), 3), (_d("2024-01-02"), 3)]
    assert spark.sql("SELECT count(*) FROM gold.event_totals").first()[0] == 2
    assert spark.sql("SELECT count(*) FROM silver.events").first()[0] == 3


def test_the_catalog_entry_follows_the_table_to_another_root(spark, resources, tmp_path):
    """silver.events is registered where it was last written: a lakehouse under another root
    re-points the entry (the old table is left as it is)."""
    run(resources, [events], "2024-01-01", DAY1)
    other = build_resources(LakehouseStorage(lakehouse_root=str(tmp_path / "other_root")))
    run(other, [events], "2024-01-02", DAY2)
    assert catalog_location(spark, "silver.events") == other["storage"].table_path(
        "silver", "events"
    )
    assert spark.sql("SELECT count(*) FROM silver.events").first()[0] == len(DAY2)
    assert len(table_rows(spark, resources)) == len(DAY1)  # untouched under the first root


def test_an_entry_another_process_left_elsewhere_is_re_pointed(spark, resources, tmp_path):
    """A process reads the catalog's entries once per layer: an entry another process made
    for another root is found by that lookup and re-pointed at the first write."""
    other = build_resources(LakehouseStorage(lakehouse_root=str(tmp_path / "other_root")))
    run(other, [events], "2024-01-01", DAY1)
    delta_io_manager._CATALOG.clear()  # what this process knows of the catalog: nothing yet
    run(resources, [events], "2024-01-02", DAY2)
    assert catalog_location(spark, "silver.events") == resources["storage"].table_path(
        "silver", "events"
    )


def catalog_location(spark, name: str) -> str:
    located = spark.sql(f"DESCRIBE TABLE EXTENDED {name}").where("col_name = 'Location'")
    return located.first()["data_type"].removeprefix("file:").rstrip("/")


def test_concurrent_runs_on_different_partitions_both_succeed(spark, resources):
    run(resources, [events], "2024-01-01", DAY1)  # the table exists; both runs MERGE into it
    outcomes: dict[str, object] = {}

    def write(day, rows):
        try:
            # Each run on its own instance, as two separate launches would be; an ephemeral
            # instance's in-memory event store is not meant to be shared between threads, and
            # closing it in its own thread keeps SQLite from complaining at garbage collection.
            with DagsterInstance.ephemeral() as instance:
                outcomes[day] = run(resources, [events], day, rows, instance=instance).success
        except Exception as exc:  # reported in the assertion below, not lost in the thread
            outcomes[day] = repr(exc)[:2000]

    threads = [
        threading.Thread(target=write, args=(f"2024-01-0{d}", [[f"k{d}", f"2024-01-0{d}", d]]))
        for d in (2, 3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {"2024-01-02": True, "2024-01-03": True}
    assert [r[0] for r in table_rows(spark, resources)] == ["a", "b", "k2", "k3"]


@pytest.mark.parametrize(
    "meta",
    [
        {"merge_keys": ["event_id"], "partition_expr": "event_date"},
        {"merge_keys": ["event_id"], "partition_expr": "event_date", "key_scope": "table"},
        {"merge_keys": ["event_id"]},
        {"merge_keys": ["event_id"], "remove_when": "s.amount = 0"},
    ],
    ids=["replace-window", "key-scope-table", "upsert", "upsert-removing"],
)
def test_the_audited_preview_is_what_the_merge_writes(spark, tmp_path, meta):
    """Rules audit ``MergePlan.after_merge`` before the commit: for random stored tables and
    outputs it must equal, row for row, what the MERGE then leaves in the Delta table."""
    import datetime as dt
    import random

    from lakehouse_assets.resources.delta_io_manager import MergePlan

    days = [dt.date(2024, 1, d) for d in range(1, 7)]
    start, end = dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 4)
    in_window = [d for d in days if start.date() <= d < end.date()]
    for seed in range(4):  # with and without revisited dates, twice each
        rng = random.Random(seed)
        path = str(tmp_path / f"{meta.get('key_scope', '')}{len(meta)}-{seed}")
        ids = [f"k{i}" for i in range(12)]
        stored = [(k, rng.choice(days), rng.randint(0, 3)) for k in rng.sample(ids, 8)]
        source_days = in_window if "partition_expr" in meta else days
        source = [(k, rng.choice(source_days), rng.randint(0, 3)) for k in rng.sample(ids, 6)]
        revisited = (days[-1],) if "partition_expr" in meta and seed % 2 else ()
        if revisited:  # an output that replaces another date too carries rows of that date
            source.append(("k-revisit", days[-1], 9))
        spark.createDataFrame(stored, SCHEMA).write.format("delta").save(path)
        plan = MergePlan.from_metadata("t", meta, start, end, revisited)
        source_df = spark.createDataFrame(source, SCHEMA)
        stored_df = spark.read.format("delta").load(path)
        preview = sorted(tuple(r) for r in plan.after_merge(stored_df, source_df).collect())
        plan.merge(spark, source_df, path)
        written = sorted(tuple(r) for r in spark.read.format("delta").load(path).collect())
        assert preview == written, (seed, stored, source)
        if "remove_when" in meta:  # a removing row takes its key out; the others are written
            assert {r[0] for r in written}.isdisjoint(k for k, _, a in source if a == 0)
            assert {r for r in source if r[2] != 0} <= set(written)
