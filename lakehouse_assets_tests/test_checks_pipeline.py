"""The asset checks in real Dagster runs: a blocking failure commits nothing and stops the
downstream asset; a check re-runs alone against the stored table; on the seeded lakehouse
every check runs and passes, and gold.data_quality_summary records it."""

import os

import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    build_run_status_sensor_context,
    materialize,
)

from lakehouse_assets.assets.bronze import bronze_assets
from lakehouse_assets.assets.factory import cached_for_step
from lakehouse_assets.assets.by_landing_day import orders_touched_by_day
from lakehouse_assets.assets.silver import silver_entity_assets
from lakehouse_assets.definitions import defs
from lakehouse_assets.checks.results import run_failure_summary
from lakehouse_assets.resources import LakehouseStorage, QualitySettings, build_resources
from lakehouse_assets.sensors import recorded_failure_summary, run_failure_report

DAY = "2024-01-05"
LANDING = {
    "customers": "customer_id,email,first_name,last_name,country,created_at\n"
    "c1,ann@example.org,ann,lee,us,2023-12-01\n",
    "products": "product_id,product_name,category,cost_price,list_price\n"
    "p1,Mug,kitchen,2.00,5.00\n",
    "orders": "order_id,customer_id,order_date,status,shipping_cost\n"
    "o1,c1,2024-01-05,completed,3.00\n",
    # i2 references an order that never arrives: 1 orphan in 2 rows, far above the 1% share.
    "order_items": "order_item_id,order_id,product_id,quantity,unit_price\n"
    "i1,o1,p1,2,5.00\n"
    "i2,o404,p1,1,5.00\n",
}


def _write_landing(root):
    for dataset, text in LANDING.items():
        path = os.path.join(root, dataset, DAY, f"{dataset}.csv")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def _delta_version(storage, layer: str, table: str) -> int:
    from lakehouse_assets.resources.delta_io_manager import last_commit

    return last_commit(None, storage.table_path(layer, table))[0]


STEPS = [*bronze_assets, *silver_entity_assets, orders_touched_by_day]


def _cached_frames(spark) -> int | None:
    """How many cached frames the session holds, not counting the table states Delta caches
    for itself (None over Spark Connect: it cannot say)."""
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        return None
    rdds = spark.sparkContext._jsc.sc().getPersistentRDDs().values().iterator()
    names = []
    while rdds.hasNext():
        names.append(str(rdds.next().name()))
    return sum(not name.startswith("Delta Table State") for name in names)


def test_cached_for_step_is_for_a_step_s_compute(spark):
    with pytest.raises(RuntimeError, match="step's compute"):
        cached_for_step(spark.range(1))


def test_a_failed_blocking_rule_commits_nothing_and_says_why(spark, tmp_path):
    storage = LakehouseStorage(
        lakehouse_root=str(tmp_path / "lakehouse"), landing_root=str(tmp_path / "landing")
    )
    _write_landing(storage.landing_root)
    cached_before = _cached_frames(spark)
    # A deployment that accepts half its items arriving before their orders publishes the day,
    # and the check result shows the limit it was held to.
    lenient = materialize(
        STEPS, partition_key=DAY,
        resources=build_resources(storage, QualitySettings(max_orphan_share=0.5)),
    )
    # Every frame a step cached (its outputs, and what several outputs read) is released.
    assert _cached_frames(spark) == cached_before
    lenient_items = {(e.asset_key.to_user_string(), e.check_name): e
                     for e in lenient.get_asset_check_evaluations()}[
        ("silver/stg_order_items", "referential_integrity")]
    assert lenient_items.passed
    assert lenient_items.metadata["threshold"].value == "orphan share <= 50.00%"
    published = {t: _delta_version(storage, "silver", t)
                 for t in ("stg_order_items", "quarantine_order_items", "int_customer_orders")}

    # The default limit (1 %): the items step audits its output before the commit and fails.
    instance = DagsterInstance.ephemeral()
    result = materialize(
        STEPS, partition_key=DAY, resources=build_resources(storage), raise_on_error=False,
        instance=instance,
    )
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e
                   for e in result.get_asset_check_evaluations()}
    items = evaluations[("silver/stg_order_items", "referential_integrity")]
    assert not items.passed and items.severity == AssetCheckSeverity.ERROR
    assert items.metadata["rows_checked"].value == 2
    assert items.metadata["rows_failed"].value == 1
    assert items.metadata["sample_keys"].value == [
        {"order_item_id": "i2", "order_id": "o404", "product_id": "p1"}
    ]
    assert evaluations[("silver/stg_orders", "referential_integrity")].passed
    # Nothing was committed: both tables of the step and the downstream table keep the
    # version the lenient run published, for every reader.
    assert not result.asset_materializations_for_node("silver_order_items")
    assert not result.asset_materializations_for_node("orders_touched_by_day")
    assert {t: _delta_version(storage, "silver", t) for t in published} == published
    # The steps that passed their audit did publish.
    assert result.asset_materializations_for_node("silver_orders")

    # The console says why: table, rule, counts, keys, the limit and the setting that tunes it.
    summary = run_failure_summary(
        result.run_id, result.get_asset_check_evaluations(), result.get_step_failure_events()
    )
    assert "silver.stg_order_items / referential_integrity: 1 of 2 rows failed" in summary
    assert "orphan share <= 1.00%" in summary and '"o404"' in summary
    assert "LAKEHOUSE_MAX_ORPHAN_SHARE" in summary
    # Runs the sensors start say the same in the run-failure sensor's log.
    assert recorded_failure_summary(instance, result.run_id) == summary
    run_failure_report(build_run_status_sensor_context(
        sensor_name="run_failure_report", dagster_event=result.get_run_failure_event(),
        dagster_instance=instance, dagster_run=result.dagster_run,
    ))

    # A rule re-runs alone against the stored table (the lenient run's items), writing nothing;
    # without a partition it audits every landing date.
    alone = materialize(
        STEPS, resources=build_resources(storage), raise_on_error=False,
        selection=AssetSelection.checks(
            AssetCheckKey(AssetKey(["silver", "stg_order_items"]), "referential_integrity")
        ),
    )
    (stored_items,) = alone.get_asset_check_evaluations()
    assert not stored_items.passed and stored_items.metadata["rows_failed"].value == 1
    assert not alone.get_asset_materialization_events()
    assert {t: _delta_version(storage, "silver", t) for t in published} == published


def test_every_check_passes_on_the_seeded_lakehouse(seeded_lakehouse):
    evaluations = seeded_lakehouse.result.get_asset_check_evaluations()
    declared = set(defs.resolve_asset_graph().asset_check_keys)
    assert {e.asset_check_key for e in evaluations} == declared
    failed = {
        (e.asset_key.to_user_string(), e.check_name): {
            k: v.value for k, v in e.metadata.items() if k != "summary"
        }
        for e in evaluations
        if not e.passed
    }
    # historical_trend is a warning on noisy small-volume seed days; everything else passes.
    assert set(failed) <= {("gold/fct_daily_sales", "historical_trend")}, failed
    by_key = {(e.asset_key.to_user_string(), e.check_name): e for e in evaluations}
    conservation = by_key[("silver/stg_orders", "conservation")].metadata
    assert conservation["rows_checked"].value == seeded_lakehouse.table("bronze", "orders").count()


def test_data_quality_summary_holds_one_row_per_rule(seeded_lakehouse):
    summary = seeded_lakehouse.table("gold", "data_quality_summary")
    rows = summary.collect()
    run_id = seeded_lakehouse.result.run_id
    assert {r["run_id"] for r in rows} == {run_id}
    assert len(rows) == len(defs.resolve_asset_graph().asset_check_keys)
    evaluations = {(e.asset_key.to_user_string().replace("/", "."), e.check_name): e
                   for e in seeded_lakehouse.result.get_asset_check_evaluations()}
    for r in rows:
        e = evaluations[(r["table_name"], r["rule"])]
        assert r["passed"] == e.passed
        assert r["rows_checked"] == e.metadata["rows_checked"].value
        assert r["rows_failed"] == e.metadata["rows_failed"].value
    stg_orders = next(r for r in rows if (r["table_name"], r["rule"]) ==
                      ("silver.stg_orders", "conservation"))
    assert stg_orders["rows_quarantined"] == 0 and stg_orders["severity"] == "ERROR"
