"""A month of realistic retail deliveries, built in one run with the default thresholds.

The generator's ``retail`` profile holds what real retail data holds and our clean generator
does not: a quarter of the orders are guest checkouts without a customer id, cancellations
come as negative lines, postage and fees have their own product codes, some items are free,
some quantities are absurd, products are renamed, days without orders arrive as header-only
files, folders hold several files (an empty one sorting first), and two orders carry
impossible dates (9999-12-31, 1970-01-01). The promise: every gold and ML table builds, the
rejected rows are in quarantine with their reasons (not counted as orphans), the impossible
dates move no one's "as of", and the checks count all of it from the written tables.
"""

import datetime as dt

import pytest
from pyspark.sql import functions as F

from lakehouse_assets.checks.table_rules import ALL_RULES
from lakehouse_assets.datagen import generate_landing_zone
from lakehouse_assets.definitions import build_definitions, table_assets
from lakehouse_assets.defs.automation import build_lakehouse_job
from lakehouse_assets.partitions import range_tags
from lakehouse_assets.resources import DeltaSparkIOManager, LakehouseStorage, build_resources
from lakehouse_assets.transforms.intermediate import analysis_date

START, DAYS = "2024-01-01", 30
LAST = (dt.date.fromisoformat(START) + dt.timedelta(days=DAYS - 1)).isoformat()


class RetailLakehouse:
    def __init__(self, spark, storage, summary, result):
        self.spark, self.storage, self.summary, self.result = spark, storage, summary, result

    def table(self, layer: str, name: str):
        return self.spark.read.format("delta").load(self.storage.table_path(layer, name))


@pytest.fixture(scope="module")
def retail(spark, tmp_path_factory):
    base = tmp_path_factory.mktemp("retail")
    storage = LakehouseStorage(
        lakehouse_root=str(base / "lakehouse"), landing_root=str(base / "landing")
    )
    summary = generate_landing_zone(
        storage.landing, seed=3, order_items=3000, start=START, days=DAYS, profile="retail"
    )
    resources = build_resources(storage)
    # Keep the session's catalog entries on the seeded lakehouse.
    resources["io_manager"] = DeltaSparkIOManager(
        storage=storage, spark=resources["spark"], register_in_catalog=False
    )
    job = build_definitions(resources).resolve_job_def(build_lakehouse_job.name)
    result = job.execute_in_process(
        tags=range_tags(START, LAST),
        raise_on_error=False,
    )
    return RetailLakehouse(spark, storage, summary, result)


def test_every_table_builds_and_every_check_passes_with_the_default_limits(retail):
    assert retail.result.success
    materialized = {e.asset_key for e in retail.result.get_asset_materialization_events()}
    assert materialized == {key for a in table_assets for key in a.keys}
    evaluations = retail.result.get_asset_check_evaluations()
    assert len(evaluations) == len(ALL_RULES)
    failed = {(".".join(e.asset_key.path), e.check_name) for e in evaluations if not e.passed}
    # Warnings (trends, freshness) may fire on a month of synthetic data; nothing blocks.
    assert not failed & {(r.table, r.name) for r in ALL_RULES if r.blocking}


def test_guest_orders_and_their_items_are_quarantined_not_orphaned(retail):
    guests = retail.table("bronze", "orders").where(
        F.col("customer_id").isNull() | (F.trim("customer_id") == "")
    ).select("order_id").distinct()
    assert guests.count() == retail.summary["realities"]["guest_orders"]
    quarantined = retail.table("silver", "quarantine_orders")
    guest_reasons = quarantined.join(guests, "order_id", "left_semi").select(
        F.array_contains("reasons", "missing:customer_id").alias("guest")
    )
    assert guest_reasons.where("guest").count() == guest_reasons.count() > 0
    assert retail.table("silver", "stg_orders").join(guests, "order_id", "left_semi").isEmpty()

    # Every item of a guest order is quarantined as order_rejected with the order's reason.
    guest_items = retail.table("bronze", "order_items").join(guests, "order_id", "left_semi")
    rejected = retail.table("silver", "quarantine_order_items").where(
        F.array_contains("reasons", "order_rejected")
        & F.array_contains("reasons", "order:missing:customer_id")
    )
    assert rejected.count() >= guest_items.count() > 0
    assert guest_items.join(
        rejected.select("_source_file", "_line_number"), ["_source_file", "_line_number"],
        "left_anti",
    ).isEmpty()
    assert retail.table("silver", "stg_order_items").join(guests, "order_id", "left_semi").isEmpty()

    # What referential integrity measured is what is really unexplained: no orphans here.
    integrity = next(
        e for e in retail.result.get_asset_check_evaluations()
        if e.asset_key.path == ["silver", "stg_order_items"]
        and e.check_name == "referential_integrity"
    )
    assert integrity.passed and integrity.metadata["rows_failed"].value == 0


def test_impossible_dates_are_quarantined_and_move_no_analysis_date(retail):
    reasons = {
        r["record"]: r["reasons"]
        for r in retail.table("silver", "quarantine_orders")
        .where(F.array_contains("reasons", "future:order_date")
               | F.array_contains("reasons", "too_early:order_date"))
        .collect()
    }
    assert len(reasons) == retail.summary["realities"]["impossible_date_orders"] == 2
    assert sorted(sorted(r) for r in reasons.values()) == [
        ["future:order_date", "out_of_range:order_date"], ["too_early:order_date"],
    ]
    as_of = analysis_date(retail.table("silver", "int_customer_orders")).first()[0]
    assert dt.date.fromisoformat(START) < as_of <= dt.date.fromisoformat(LAST)
    assert retail.table("silver", "int_customer_rfm").agg(F.min("recency_days")).first()[0] == 0


def test_cancellations_extremes_and_header_only_days_are_accounted_for(retail):
    items = retail.table("silver", "quarantine_order_items")
    negative = items.where(F.array_contains("reasons", "non_positive_quantity")).count()
    assert negative >= retail.summary["realities"]["cancellation_lines"]
    extreme = items.where(F.array_contains("reasons", "above_max:quantity")).count()
    assert extreme == retail.summary["realities"]["extreme_quantity_items"]
    # Days without orders arrived as header-only files: in the ledger, with 0 records.
    ledger = retail.table("bronze", "ledger_orders")
    for day in retail.summary["realities"]["empty_order_days"]:
        rows = ledger.where(F.col("_landing_date") == F.lit(dt.date.fromisoformat(day))).collect()
        assert rows and all(r["records"] == 0 and r["status"] == "loaded" for r in rows), day
    # Free items and postage lines are valid sales lines.
    stg = retail.table("silver", "stg_order_items")
    assert stg.where("unit_price = 0").count() > 0
    assert stg.where("product_id = 'POST'").count() > 0
