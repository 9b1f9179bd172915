"""The whole lakehouse on data_seeds, end to end: real Spark, Delta and Dagster runs.

* every asset materializes and every table is readable and registered in the catalog;
* gold and ML values for chosen customers, products and days, computed BY HAND from the CSV
  rows of data_seeds (the arithmetic is next to each value; the analysis date is
  2023-07-15, the latest completed order date: order 5201 of 2023-07-17 is still open);
* conservation: bronze = silver + quarantine + superseded per entity, bronze = ledger per file;
* every column of every materialized table has a description in the Dagster UI;
* the nightly maintenance over every table keeps its rows and clustering; delta-rs reads each.

The seeded lakehouse (conftest ``seeded_lakehouse``) is built once per session. What single
deliveries do (late status changes, rejected orders, backfills, re-runs) is proven on the
delivery sequence of ``test_incremental_equals_rebuild``.
"""

import csv
import datetime as dt
import hashlib
import os
import shutil
from decimal import Decimal as D

import pytest
from dagster import AssetKey

from lakehouse_assets.columns import COLUMN_DESCRIPTIONS
from lakehouse_assets.definitions import table_assets
from lakehouse_assets.transforms.silver import ENTITY_KEYS, superseded_rows
from lakehouse_assets_tests.conftest import DATA_SEEDS

ALL_KEYS = {key for a in table_assets for key in a.keys}
# The Parquet export is a file for pandas, not a Delta table.
PARQUET_EXPORT = AssetKey(["ml", "ml_customer_features_parquet"])
TABLE_KEYS = sorted(ALL_KEYS - {PARQUET_EXPORT}, key=lambda k: k.path)


def _name(key: AssetKey) -> str:
    return ".".join(key.path)


# --- end to end --------------------------------------------------------------------------------
def test_every_asset_is_materialized_and_readable(seeded_lakehouse):
    # Catalog registration (<layer>.<table> by name) is checked from a new process in test_readme.
    result = seeded_lakehouse.result
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == ALL_KEYS

    for key in TABLE_KEYS:
        layer, table = key.path
        assert seeded_lakehouse.table(layer, table).columns, _name(key)

    export = os.path.join(seeded_lakehouse.storage.root, "ml/exports/ml_customer_features.parquet")
    import pandas as pd

    assert len(pd.read_parquet(export)) == 70  # one row per customer, as the Delta table


def test_after_maintenance_every_table_keeps_its_rows_and_clustering_and_delta_rs_reads_it(
    seeded_lakehouse, tmp_path
):
    """The nightly maintenance job (OPTIMIZE, then VACUUM) over every table of a copy of the
    seeded lakehouse: each table keeps its declared clustering and exactly its rows, has no
    more files than before, and delta-rs (the serving layer's reader) reads it."""
    from collections import Counter

    from lakehouse_assets.maintenance import maintenance_job
    from lakehouse_assets.resources import LakehouseStorage, build_resources
    from lakehouse_assets.resources.delta_io_manager import clustering_columns
    from lakehouse_assets.resources.storage import local_delta_table
    from lakehouse_assets.tables import TABLES

    root = tmp_path / "lakehouse"
    shutil.copytree(seeded_lakehouse.storage.root, root, ignore=shutil.ignore_patterns("_catalog"))
    maintained = LakehouseStorage(lakehouse_root=str(root))
    result = maintenance_job.execute_in_process(resources=build_resources(maintained))
    assert result.success
    observed = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_OBSERVATION":
            observation = event.event_specific_data.asset_observation
            observed[".".join(observation.asset_key.path)] = {
                k: v.value for k, v in observation.metadata.items()}
    assert set(observed) == set(TABLES)

    def rows(path: str) -> Counter:  # read by delta-rs, no Spark
        table = local_delta_table(path).to_pyarrow_table()
        return Counter(repr(sorted(row.items())) for row in table.to_pylist())

    for name, spec in TABLES.items():
        layer, table = name.split(".")
        path = maintained.table_path(layer, table)
        assert clustering_columns(seeded_lakehouse.spark, path) == list(spec.cluster_by), name
        assert rows(path) == rows(seeded_lakehouse.storage.table_path(layer, table)), name
        assert observed[name]["files_after"] <= observed[name]["files_before"], observed[name]


def test_every_column_of_every_table_is_described(seeded_lakehouse):
    """dagster/column_schema of every materialization describes every column (catches drift)."""
    seen = set()
    for event in seeded_lakehouse.result.get_asset_materialization_events():
        key = event.asset_key
        if key == PARQUET_EXPORT:
            continue
        schema = event.materialization.metadata["dagster/column_schema"].schema
        columns = {c.name: c.description for c in schema.columns}
        layer, table = key.path
        # The schema in the UI is the table's, column for column ...
        assert list(columns) == seeded_lakehouse.table(layer, table).columns, _name(key)
        # ... and each column has a description.
        undescribed = [c for c, text in columns.items() if not (text or "").strip()]
        assert not undescribed, f"{_name(key)}: add {undescribed} to lakehouse_assets/columns.py"
        seen.add(_name(key))
    assert seen == {_name(k) for k in TABLE_KEYS}
    # No description for a column or table that no longer exists.
    for name in seen:
        layer, table = name.split(".")
        stale = set(COLUMN_DESCRIPTIONS[name]) - set(seeded_lakehouse.table(layer, table).columns)
        assert not stale, f"{name}: catalog describes columns it does not have: {stale}"


# --- customers, by hand ----------------------------------------------------------------------
# Scores: R 5 <= 30 days, 4 <= 60, 3 <= 90, 2 <= 180, else 1; F 5 >= 5 orders, 4, 3,
# 2, else 1; M 5 >= 500, 4 >= 300, 3 >= 200, 2 >= 100, else 1. predicted_clv_12m =
# monetary x 2.0 (total >= 12), 1.5 (>= 9), 1.2 (>= 6), else 0.8. Only the latest version of an
# order counts: "returned" and "cancelled" orders are not completed.
CUSTOMERS = {
    # Champions, churn Very Low. Completed orders (all shipping 0.00):
    #  5085 04-10: 39.99 + 8.95 + 14.99 + 34.99 + 34.99 = 133.91
    #  5089 04-13: 34.99 + 12.99 + 79.99 = 127.97
    #  5141 05-24: 24.99 + 54.99 + 89.99 = 169.97
    #  5149 05-28: 34.99 + 2 x 12.99 + 16.99 + 2 x 24.99 = 127.94
    #  5171 06-11: 2 x 79.99 = 159.98
    #  5194 07-02: 29.99 + 44.99 + 89.99 = 164.97
    # monetary = 133.91 + 127.97 + 169.97 + 127.94 + 159.98 + 164.97 = 884.74
    "11": dict(
        recency_days=13,  # 07-15 - 07-02
        frequency=6,
        monetary_value=D("884.74"),
        scores=(5, 5, 5),  # R 13 <= 30, F 6 >= 5, M 884.74 >= 500
        predicted_clv_12m=D("1769.48"),  # total 15 >= 12: 884.74 x 2.0
        churn_risk="Very Low",  # recency 13 <= 90
        segment="Champions",  # R >= 4, F >= 4, M >= 4
        action="VIP treatment, exclusive offers",  # R >= 4 and F >= 4
    ),
    # Loyal Customers, churn Very Low:
    #  5076 04-04: 34.99 + 24.99 + 34.99 + 0.00 = 94.97
    #  5125 05-12: 2 x 19.99 + 12.99 + 9.99 + 5.99 shipping = 68.95
    #  5126 05-13: 24.99 + 2 x 7.99 + 34.99 + 0.00 = 75.96
    "2": dict(
        recency_days=63,  # 07-15 - 05-13: 31 (to 06-13) + 30 (to 07-13) + 2
        frequency=3,
        monetary_value=D("239.88"),  # 94.97 + 68.95 + 75.96
        scores=(3, 3, 3),  # R 63 <= 90, F 3, M 239.88 >= 200
        predicted_clv_12m=D("359.82"),  # total 9 >= 9: 239.88 x 1.5
        churn_risk="Very Low",
        segment="Loyal Customers",  # R >= 3, F >= 3, M >= 3 (not Champions: R 3)
        action="Standard nurture campaign",  # R 3: no rule before the ELSE applies
    ),
    # New Customers, churn Very Low: 5185 06-25: 29.99 + 5.99 shipping = 35.98
    "19": dict(
        recency_days=20,  # 07-15 - 06-25
        frequency=1,
        monetary_value=D("35.98"),
        scores=(5, 1, 1),
        predicted_clv_12m=D("43.176"),  # total 7 >= 6: 35.98 x 1.2
        churn_risk="Very Low",
        segment="New Customers",  # R >= 4, F <= 2, M <= 2
        action="Onboarding campaign, product recommendations",  # R >= 4 and F <= 2
    ),
    # Big Spenders, churn Very Low. 5122 (34.99 + 5.99) was returned: not counted.
    #  5128 05-14: 12.99 + 54.99 + 14.99 + 24.99 + 29.99 + 89.99 + 0.00 = 227.94
    "27": dict(
        recency_days=62,  # 07-15 - 05-14: 31 (to 06-14) + 30 (to 07-14) + 1
        frequency=1,
        monetary_value=D("227.94"),
        scores=(3, 1, 3),  # M 227.94 >= 200
        predicted_clv_12m=D("273.528"),  # total 7: 227.94 x 1.2
        churn_risk="Very Low",
        segment="Big Spenders",  # R >= 3, F <= 2, M >= 3
        action="Standard nurture campaign",
    ),
    # At Risk, churn Medium (all shipping 0.00):
    #  5010 01-13: 119.99;  5028 02-12: 39.99 + 24.99 + 34.99 = 99.97
    #  5044 03-01: 2 x 24.99 + 29.99 = 79.97
    "36": dict(
        recency_days=136,  # 07-15 - 03-01: 31 + 30 + 31 + 30 (to 07-01) + 14
        frequency=3,
        monetary_value=D("299.93"),  # 119.99 + 99.97 + 79.97
        scores=(2, 3, 3),  # R 136 <= 180, M 299.93 >= 200 (< 300)
        predicted_clv_12m=D("359.916"),  # total 8 >= 6: 299.93 x 1.2
        churn_risk="Medium",  # 136 > 120
        segment="At Risk",  # R <= 2, F >= 3, M >= 3
        action="Win-back campaign, special discount",  # R <= 2 and M >= 3
    ),
    # Cant Lose Them, churn Low. Product 1002 still cost 59.99 before its 04-01 re-send:
    #  5067 03-27: 19.99 + 44.99 + 16.99 + 2 x 59.99 + 19.99 + 0.00 = 221.94
    "40": dict(
        recency_days=110,  # 07-15 - 03-27: 31 (to 04-27) + 30 + 31 (to 06-27) + 18
        frequency=1,
        monetary_value=D("221.94"),
        scores=(2, 1, 3),
        predicted_clv_12m=D("266.328"),  # total 6: 221.94 x 1.2
        churn_risk="Low",  # 90 < 110 <= 120
        segment="Cant Lose Them",  # R <= 2, F <= 2, M >= 3
        action="Win-back campaign, special discount",
    ),
    # Hibernating, churn Medium (R1 with two orders is not High):
    #  5005 01-09: 2 x 7.99 + 5.99 = 21.97;  5011 01-13: 24.99 + 5.99 = 30.98
    "51": dict(
        recency_days=183,  # 07-15 - 01-13: 181 (to 07-13) + 2
        frequency=2,
        monetary_value=D("52.95"),  # 21.97 + 30.98
        scores=(1, 2, 1),
        predicted_clv_12m=D("42.36"),  # total 4 < 6: 52.95 x 0.8
        churn_risk="Medium",  # 183 > 180 but 2 orders, so not High; > 120
        segment="Hibernating",  # R <= 2, F >= 2, M <= 2
        action="Re-engagement or sunset",  # R <= 2 and F <= 2
    ),
    # Lost, churn High. 5001 (01-05) was cancelled.  5006 01-09: 2 x 8.95 + 5.99 = 23.89
    "54": dict(
        recency_days=187,  # 07-15 - 01-09: 181 (to 07-09) + 6
        frequency=1,
        monetary_value=D("23.89"),
        scores=(1, 1, 1),
        predicted_clv_12m=D("19.112"),  # total 3: 23.89 x 0.8
        churn_risk="High",  # 187 > 180 and one order
        segment="Lost",  # R1 F1 M1 (Hibernating needs F >= 2)
        action="Re-engagement or sunset",
    ),
    # Others, churn Very Low. 5100 was cancelled.  5103 04-26: 16.99 + 5.99 = 22.98
    "58": dict(
        recency_days=80,  # 07-15 - 04-26: 30 (to 05-26) + 31 (to 06-26) + 19
        frequency=1,
        monetary_value=D("22.98"),
        scores=(3, 1, 1),  # R3 F1 M1 matches no rule
        predicted_clv_12m=D("18.384"),  # total 5: 22.98 x 0.8
        churn_risk="Very Low",
        segment="Others",
        action="Standard nurture campaign",
    ),
    # Prospects, Never Purchased: only order 5201 (07-17) is still "processing".
    "70": dict(
        recency_days=None,
        frequency=0,
        monetary_value=D("0"),
        scores=(None, None, None),
        predicted_clv_12m=D("0"),
        churn_risk="Never Purchased",
        segment="Prospects",
        action="First-purchase welcome campaign",
    ),
}


@pytest.fixture(scope="module")
def customer_gold(seeded_lakehouse):
    return (
        seeded_lakehouse.rows("gold", "fct_customer_metrics", "customer_id"),
        seeded_lakehouse.rows("gold", "dim_customer_segments", "customer_id"),
    )


def test_chosen_customers_cover_every_segment_and_churn_level(customer_gold):
    metrics, segments = customer_gold
    all_segments = {
        "Champions", "Loyal Customers", "New Customers", "Big Spenders", "At Risk",
        "Cant Lose Them", "Hibernating", "Lost", "Others", "Prospects",
    }
    all_churn = {"High", "Medium", "Low", "Very Low", "Never Purchased"}
    assert {c["segment"] for c in CUSTOMERS.values()} == all_segments
    assert {c["churn_risk"] for c in CUSTOMERS.values()} == all_churn
    assert {r["customer_segment"] for r in segments.values()} == all_segments
    assert {r["churn_risk"] for r in metrics.values()} == all_churn
    assert len(metrics) == len(segments) == 70  # one row per silver customer


@pytest.mark.parametrize("customer_id", list(CUSTOMERS))
def test_customer_metrics_and_segment_by_hand(customer_gold, customer_id):
    metrics, segments = customer_gold
    want = CUSTOMERS[customer_id]
    m, s = metrics[customer_id], segments[customer_id]
    r, f, mo = want["scores"]
    assert (m["recency_days"], m["frequency"], m["monetary_value"]) == (
        want["recency_days"], want["frequency"], want["monetary_value"],
    )
    assert (m["recency_score"], m["frequency_score"], m["monetary_score"]) == (r, f, mo)
    assert m["rfm_total_score"] == (r + f + mo if r is not None else None)
    assert m["predicted_clv_12m"] == want["predicted_clv_12m"]
    assert m["current_clv"] == want["monetary_value"]
    assert m["churn_risk"] == s["churn_risk"] == want["churn_risk"]
    assert s["customer_segment"] == want["segment"]
    assert s["recommended_action"] == want["action"]
    assert s["total_orders"] == want["frequency"]
    if want["frequency"] == 0:
        assert m["avg_order_value"] is None and m["last_order_date"] is None
    else:
        expected = float(want["monetary_value"]) / want["frequency"]  # e.g. 884.74 / 6
        assert float(m["avg_order_value"]) == pytest.approx(expected, abs=1e-6)


# --- products, by hand ------------------------------------------------------------------------
# Tier thresholds: percentile_cont over the 25 products' revenue, ascending
# [0 (1024), 132.93, 139.93, 159.80, 167.94, 175.89, 237.86, 274.89, 279.86, 314.79, 366.95,
#  369.63, 428.67, 454.87, 519.60, 714.89, 799.90, 999.75, 1469.87, 1619.46, 1819.48, 1874.25,
#  1884.67, 1889.79, 1979.56]:
#   p80 at index 0.8 x 24 = 19.2: 1619.46 + 0.2 x (1819.48 - 1619.46) = 1659.464
#   p50 at index 12: 428.67;  p20 at index 4.8: 167.94 + 0.8 x (175.89 - 167.94) = 174.30
# Ranks (ties by product_id): units sold per product, descending: 1004:75, 1008:54, 1015:52,
#  1009:44, 85123A:41, 1010:40, 1005:37, 1002:33, 1016:33, 1003:25, 1001:21, 1022:21, 1023:20,
#  1013:14, 1019:14, 1006:13, 1018:13, 1011:11, 1012:11, 1020:11, 1007:10, 1017:7, 1021:7,
#  1014:6, 1024:0. Profit, descending: 1015, 1004, 1009, 1008, 1001 (797.79), 1002 (795.67),
#  1018, 1003, 1011 (384.89), 1007 (359.90), 1010 (355.60), 1016, 1005, 85123A, 1006, 1022,
#  1013, 1019 (155.26), 1020 (153.89), 1012 (109.89), 1023 (109.80), 1014 (95.94),
#  1017 (85.33), 1021 (83.93), 1024 (0).
PRODUCTS = {
    # 19 completed lines at 89.99: 17 x 1 unit + 2 x 2 units (orders 5035, 5070) = 21 units
    "1001": dict(
        units_sold=21,
        revenue=D("1889.79"),  # 21 x 89.99
        total_profit=D("797.79"),  # 1889.79 - 21 x 52.00
        orders_count=19,
        tier="Star",  # 1889.79 >= 1659.464
        ranks=(2, 11, 5),  # revenue: only 1009 (1979.56) sells more; units: tie 21 with 1022
    ),
    # 9 completed lines at 79.99: 8 x 1 + 1 x 2 (order 5171) = 10 units
    "1007": dict(
        units_sold=10,
        revenue=D("799.90"),  # 10 x 79.99
        total_profit=D("359.90"),  # 799.90 - 10 x 44.00
        orders_count=9,
        tier="Performer",  # 428.67 <= 799.90 < 1659.464
        ranks=(9, 21, 10),
    ),
    # 7 completed lines at 24.99: 1 + 3 + 2 + 1 + 1 + 1 + 2 = 11 units
    "1020": dict(
        units_sold=11,
        revenue=D("274.89"),  # 11 x 24.99
        total_profit=D("153.89"),  # 274.89 - 11 x 11.00
        orders_count=7,
        tier="Average",  # 174.30 <= 274.89 < 428.67
        ranks=(18, 20, 19),  # units: tie 11 with 1011, 1012 (lower ids first)
    ),
    # 6 completed lines at 18.99: 5 x 1 + 1 x 2 (5166) = 7 units; 5105 (2 units) was returned
    "1017": dict(
        units_sold=7,
        revenue=D("132.93"),  # 7 x 18.99
        total_profit=D("85.33"),  # 132.93 - 7 x 6.80
        orders_count=6,
        tier="Underperformer",  # 132.93 < 174.30
        ranks=(24, 22, 23),  # units: tie 7 with 1021
    ),
    # Never sold: zeros, last in every ranking.
    "1024": dict(
        units_sold=0,
        revenue=D("0"),
        total_profit=D("0"),
        orders_count=0,
        tier="Underperformer",
        ranks=(25, 25, 25),
    ),
}


@pytest.mark.parametrize("product_id", list(PRODUCTS))
def test_product_performance_by_hand(seeded_lakehouse, product_id):
    want = PRODUCTS[product_id]
    row = seeded_lakehouse.rows("gold", "fct_product_performance", "product_id")[product_id]
    assert (row["units_sold"], row["revenue"], row["total_profit"], row["orders_count"]) == (
        want["units_sold"], want["revenue"], want["total_profit"], want["orders_count"],
    )
    assert row["performance_tier"] == want["tier"]
    assert (row["revenue_rank"], row["units_rank"], row["profit_rank"]) == want["ranks"]


def test_product_tiers_and_category_share(seeded_lakehouse):
    rows = seeded_lakehouse.rows("gold", "fct_product_performance", "product_id")
    assert {r["performance_tier"] for r in rows.values()} == {
        "Star", "Performer", "Average", "Underperformer",
    }
    # Computer Accessories: 1004 1874.25 + 1005 369.63 + 1006 454.87 + 1007 799.90 = 3498.65
    assert float(rows["1007"]["category_revenue_share"]) == pytest.approx(799.90 / 3498.65)
    # Audio sold (1001, 1002, 1003); 1024 sold nothing: share 0.
    assert float(rows["1024"]["category_revenue_share"]) == 0.0


# --- daily sales and ML features, by hand -----------------------------------------------------
def test_daily_sales_of_two_days_by_hand(seeded_lakehouse):
    days = seeded_lakehouse.rows("gold", "fct_daily_sales", "order_date")
    # 2023-01-05 (a Thursday): 5001 (customer 54) was cancelled; 5002 (customer 55) completed:
    # 8.95 + 24.99 + 5.99 shipping = 39.93, 1 + 1 = 2 units.
    jan5 = days[dt.date(2023, 1, 5)]
    assert (jan5["order_count"], jan5["total_sales"], jan5["avg_order_value"]) == (
        1, D("39.93"), D("39.93"),
    )
    assert (jan5["units_sold"], jan5["items_per_order"], jan5["unique_customers"]) == (2, 2.0, 1)
    assert (jan5["day_of_week"], jan5["month"], jan5["year"]) == (5, 1, 2023)  # 1 = Sunday

    # 2023-02-14 (a Tuesday): 5031 (customer 43) was returned. Completed, shipping 0.00:
    # 5029 (customer 4): 24.99 + 9.99 + 59.99 = 94.97, 3 units
    # 5030 (customer 34): 59.99 + 19.99 = 79.98, 2 units
    feb14 = days[dt.date(2023, 2, 14)]
    assert (feb14["order_count"], feb14["total_sales"]) == (2, D("174.95"))  # 94.97 + 79.98
    assert feb14["avg_order_value"] == D("87.48")  # 174.95 / 2 = 87.475, rounded half up
    assert (feb14["units_sold"], feb14["items_per_order"], feb14["unique_customers"]) == (
        5, 2.5, 2,  # 3 + 2 units over 2 orders
    )
    assert (feb14["day_of_week"], feb14["month"], feb14["year"]) == (3, 2, 2023)

    # 2023-03-14: its only order (5053) was cancelled after landing: a row of zeros remains.
    mar14 = days[dt.date(2023, 3, 14)]
    assert (mar14["order_count"], mar14["total_sales"], mar14["units_sold"]) == (0, D("0"), 0)
    assert mar14["avg_order_value"] is None and mar14["items_per_order"] is None


def test_ml_customer_features_by_hand(seeded_lakehouse):
    # Customer 11: created 2023-04-09; completed orders (see CUSTOMERS["11"]) on 04-10, 04-13,
    # 05-24, 05-28, 06-11, 07-02 with totals 133.91, 127.97, 169.97, 127.94, 159.98, 164.97.
    f = seeded_lakehouse.rows("ml", "ml_customer_features", "customer_id")["11"]
    assert f["account_age_days"] == 97  # 07-15 - 04-09: 21 (to 04-30) + 31 + 30 + 15
    # Gaps: 3 (04-10 -> 04-13), 41 (-> 05-24), 4 (-> 05-28), 14 (-> 06-11), 21 (-> 07-02)
    assert f["avg_days_between_orders"] == pytest.approx(83 / 5)  # 16.6
    # Last 90 days: order_date >= 07-15 - 90 = 04-16: 05-24, 05-28, 06-11, 07-02 -> 4;
    # the 90 days before, [01-16, 04-16): 04-10, 04-13 -> 2.
    assert f["order_trend_ratio"] == pytest.approx(4 / 2)
    assert f["customer_tenure_days"] == 83  # 04-10 -> 07-02
    assert (f["max_order_value"], f["min_order_value"]) == (D("169.97"), D("127.94"))
    assert float(f["revenue_per_order"]) == pytest.approx(884.74 / 6)
    assert float(f["orders_per_month"]) == pytest.approx(6 * 30 / 83)
    assert (f["is_churn_risk"], f["is_active_last_30d"], f["is_active_last_90d"]) == (0, 1, 1)
    assert float(f["clv_growth_multiplier"]) == pytest.approx(2.0)  # Champions: x 2.0

    # A customer without orders is kept, with neutral features.
    p = seeded_lakehouse.rows("ml", "ml_customer_features", "customer_id")["70"]
    assert p["account_age_days"] == 141  # 07-15 - 02-24: 4 (to 02-28) + 31 + 30 + 31 + 30 + 15
    assert (p["frequency"], p["revenue_per_order"], p["avg_days_between_orders"]) == (0, 0, None)


# --- conservation --------------------------------------------------------------------------------
@pytest.mark.parametrize("entity", list(ENTITY_KEYS))
def test_bronze_rows_end_in_silver_quarantine_or_superseded(seeded_lakehouse, entity):
    bronze = seeded_lakehouse.table("bronze", entity)
    silver = seeded_lakehouse.table("silver", f"stg_{entity}")
    quarantine = seeded_lakehouse.table("silver", f"quarantine_{entity}")
    superseded = superseded_rows(bronze, entity)
    counts = bronze.count(), silver.count(), quarantine.count(), superseded.count()
    assert counts[0] == counts[1] + counts[2] + counts[3], counts
    key = ENTITY_KEYS[entity]
    # data_seeds has no defects: nothing is quarantined, so every landed key has exactly one
    # current version in silver.
    assert counts[2] == 0
    assert silver.select(key).distinct().count() == counts[1]
    assert {r[0] for r in silver.select(key).collect()} == {
        r[0] for r in bronze.select(key).distinct().collect()
    }


def _csv_records(path: str) -> int:
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.DictReader(f))


@pytest.mark.parametrize("dataset", list(ENTITY_KEYS))
def test_bronze_per_file_conservation_with_the_ledger(seeded_lakehouse, dataset):
    ledger = seeded_lakehouse.rows("bronze", f"ledger_{dataset}", "file_path")
    per_file = {
        r["_source_file"]: r["count"]
        for r in seeded_lakehouse.table("bronze", dataset).groupBy("_source_file").count().collect()
    }
    quarantined = {
        r["_source_file"]: r["count"]
        for r in seeded_lakehouse.table("bronze", f"quarantine_{dataset}")
        .groupBy("_source_file")
        .count()
        .collect()
    }
    landed = sorted(
        f"{dataset}/{day}/{name}"
        for day in os.listdir(os.path.join(DATA_SEEDS, dataset))
        for name in os.listdir(os.path.join(DATA_SEEDS, dataset, day))
    )
    assert sorted(ledger) == landed  # every landing file has its ledger row
    for path, row in ledger.items():
        full = os.path.join(DATA_SEEDS, path)
        assert row["status"] == "loaded" and row["error"] is None, path
        with open(full, "rb") as f:
            assert row["content_hash"] == hashlib.sha256(f.read()).hexdigest(), path
        assert row["records"] == _csv_records(full), path
        assert row["rows_loaded"] == per_file.get(path, 0), path
        assert row["lines_quarantined"] == quarantined.get(path, 0), path
        assert row["records"] == row["rows_loaded"] + row["lines_quarantined"], path
    assert set(per_file) <= set(ledger)  # no bronze row without its file in the ledger
