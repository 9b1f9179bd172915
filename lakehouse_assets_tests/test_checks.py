"""Quality rules as plain functions: each one failing on a crafted frame, and passing.

Small hand-built DataFrames on the session's SparkSession; the passing case on real data is
in test_checks_pipeline.py (the seeded lakehouse).
"""

import datetime as dt
from decimal import Decimal

import pytest
from dagster import AssetCheckSeverity

from lakehouse_assets.checks import gold, integrity
from lakehouse_assets.partitions import run_window
from lakehouse_assets.checks.results import ERROR, WARN
from lakehouse_assets.checks.rules import Thresholds

D = dt.date
M = Decimal


def test_keys_unique_not_null_reports_duplicates_and_nulls(spark):
    df = spark.createDataFrame(
        [("a", 1), ("b", 1), ("b", 2), (None, 3), ("c", 4)], "customer_id string, v int"
    )
    r = integrity.keys_unique_not_null(df, ["customer_id"], "gold.t")
    assert not r.passed and r.severity == ERROR
    assert (r.rows_checked, r.rows_failed) == (5, 3)
    assert r.details["duplicate_keys"] == 1 and r.details["null_key_rows"] == 1
    assert set(r.sample_keys) == {None, "b"}
    check = r.to_check_result()
    assert check.severity == AssetCheckSeverity.ERROR
    assert check.metadata["rows_failed"].value == 3


def test_keys_unique_not_null_passes_on_composite_key(spark):
    df = spark.createDataFrame([("a", 1), ("a", 2), ("b", 1)], "k1 string, k2 int")
    r = integrity.keys_unique_not_null(df, ["k1", "k2"], "gold.t")
    assert r.passed and r.rows_checked == 3 and r.rows_failed == 0 and r.sample_keys == []


def test_rows_with_keys_of_finds_a_duplicate_in_an_older_partition(spark):
    table = spark.createDataFrame(
        [("a", D(2024, 1, 1)), ("a", D(2024, 1, 2)), ("z", D(2024, 1, 1))],
        "order_id string, _landing_date date",
    )
    window = table.where("_landing_date = DATE'2024-01-02'")
    scoped = integrity.rows_with_keys_of(table, window, ["order_id"])
    r = integrity.keys_unique_not_null(scoped, ["order_id"], "silver.stg_orders")
    assert not r.passed and r.rows_checked == 2 and r.sample_keys == ["a"]


def _parents(spark):
    orders = spark.createDataFrame([("o1",), ("o2",)], "order_id string")
    products = spark.createDataFrame([("p1",)], "product_id string")
    return orders, products


def test_orphans_above_share_fail_with_counts_per_reference(spark):
    orders, products = _parents(spark)
    items = spark.createDataFrame(
        [("i1", "o1", "p1"), ("i2", "o9", "p1"), ("i3", "o2", "p9"), ("i4", None, "p1")],
        "order_item_id string, order_id string, product_id string",
    )
    r = integrity.orphans(
        items, "order_item_id",
        {"order_id": (orders, "order_id"), "product_id": (products, "product_id")},
        "silver.stg_order_items",
    )
    assert not r.passed and r.severity == ERROR
    assert (r.rows_checked, r.rows_failed) == (4, 3)
    assert r.details["orphans_by_reference"] == {"order_id -> order_id": 2,
                                                 "product_id -> product_id": 1}
    assert [s["order_item_id"] for s in r.sample_keys] == ["i2", "i3", "i4"]


def test_orphans_below_share_pass_and_still_report(spark):
    orders, products = _parents(spark)
    items = spark.createDataFrame(
        [("i1", "o1", "p1"), ("i2", "o9", "p1"), ("i3", "o2", "p1")],
        "order_item_id string, order_id string, product_id string",
    )
    parents = {"order_id": (orders, "order_id")}
    lenient = integrity.orphans(items, "order_item_id", parents, "t", Thresholds(max_orphan_share=0.5))
    assert lenient.passed and lenient.rows_failed == 1 and lenient.sample_keys[0]["order_id"] == "o9"
    clean = integrity.orphans(items.where("order_id <> 'o9'"), "order_item_id", parents, "t")
    assert clean.passed and clean.rows_failed == 0


BRONZE = "order_id string, _landing_date date, _source_file string, _line_number int"
SILVER = "order_id string, _landing_date date"
QUARANTINE = "order_id string, _landing_date date, _source_file string, _line_number int"


def _conservation_frames(spark, silver_rows):
    d1, d2 = D(2024, 1, 1), D(2024, 1, 2)
    bronze = spark.createDataFrame(
        [
            ("a", d1, "f1", 2),  # superseded by d2's version
            ("b", d1, "f1", 3),  # current
            (None, d1, "f1", 4),  # quarantined (missing key)
            ("a", d2, "f2", 2),  # current
        ],
        BRONZE,
    )
    quarantine = spark.createDataFrame([(None, d1, "f1", 4)], QUARANTINE)
    silver = spark.createDataFrame(silver_rows, SILVER)
    return bronze, silver, quarantine


def test_conservation_balances_every_landing_date(spark):
    bronze, silver, quarantine = _conservation_frames(
        spark, [("a", D(2024, 1, 2)), ("b", D(2024, 1, 1))]
    )
    r = integrity.conservation(bronze, silver, quarantine, silver, "order_id", "silver.stg_orders")
    assert r.passed and r.rows_checked == 4 and r.rows_quarantined == 1
    assert r.details["totals"] == {"bronze": 4, "silver": 2, "quarantined": 1, "superseded": 1}


def test_conservation_fails_on_a_lost_row_and_names_its_date(spark):
    # "b" of 2024-01-01 never reached silver: it is neither current, quarantined nor superseded.
    bronze, silver, quarantine = _conservation_frames(spark, [("a", D(2024, 1, 2))])
    r = integrity.conservation(bronze, silver, quarantine, silver, "order_id", "silver.stg_orders")
    assert not r.passed and r.rows_failed == 1 and r.sample_keys == ["2024-01-01"]
    assert r.details["unbalanced_dates"] == [{
        "landing_date": "2024-01-01", "bronze": 3, "silver": 0, "quarantined": 1,
        "superseded": 1, "unbalanced": 1,
    }]


LEDGER = "_landing_date date, file_path string, status string"


def test_freshness_warns_when_the_feed_lags_the_run(spark):
    ledger = spark.createDataFrame(
        [(D(2024, 1, 1), "orders/a.csv", "loaded"), (D(2024, 1, 9), "orders/b.csv", "failed")],
        LEDGER,
    )
    r = integrity.freshness(ledger, "orders", D(2024, 1, 9), "run end")
    assert not r.passed and r.severity == WARN
    assert r.details["lag_days"] == 8 and r.sample_keys == ["2024-01-01"]
    assert r.to_check_result().severity == AssetCheckSeverity.WARN


def test_freshness_passes_within_the_lag(spark):
    ledger = spark.createDataFrame([(D(2024, 1, 8), "orders/a.csv", "loaded")], LEDGER)
    r = integrity.freshness(ledger, "orders", D(2024, 1, 9), "run end")
    assert r.passed and r.details["lag_days"] == 1


INSIGHTS = "customer_id string, customer_segment string, total_spend decimal(18,2), " \
    "avg_order_value decimal(18,2), order_count long"


def test_spend_values_fail_on_each_violation(spark):
    df = spark.createDataFrame(
        [
            ("c1", "Champions", M("100.00"), M("50.00"), 2),
            ("c2", "Lost", M("-5.00"), M("-5.00"), 1),
            ("c3", "Lost", M("10.00"), M("20.00"), 1),
            ("c4", None, None, M("1.00"), 1),
        ],
        INSIGHTS,
    )
    r = gold.customer_spend_values(
        df, "gold.fct_customer_insights", "total_spend", "avg_order_value", "customer_segment"
    )
    assert not r.passed and (r.rows_checked, r.rows_failed) == (4, 3)
    assert r.sample_keys == ["c2", "c3", "c4"]
    assert r.details["violations"] == {
        "negative_total_spend": 1, "negative_avg_order_value": 1,
        "total_spend_below_avg_order_value": 1, "null_total_spend": 1, "null_customer_segment": 1,
    }


def test_spend_values_pass_with_a_prospect_without_average(spark):
    df = spark.createDataFrame(
        [("c1", M("100.00"), M("50.00")), ("c2", M("0.00"), None)],
        "customer_id string, monetary_value decimal(31,2), avg_order_value decimal(25,6)",
    )
    r = gold.customer_spend_values(df, "gold.fct_customer_metrics", "monetary_value",
                                   "avg_order_value")
    assert r.passed and r.rows_checked == 2


METRICS = "customer_id string, predicted_clv_12m decimal(34,3), recency_score int, " \
    "frequency_score int, monetary_score int"


def test_customer_metric_rules_fail(spark):
    df = spark.createDataFrame(
        [
            ("c1", M("10"), 5, 1, 3),
            ("c1", M("10"), 5, 1, 3),  # duplicate id
            (None, M("1"), 1, 1, 1),  # null id
            ("c2", M("-1"), 1, 1, 1),  # negative CLV
            ("c3", M("1"), 0, 6, None),  # scores out of range
        ],
        METRICS,
    )
    r = gold.customer_metric_rules(df, "gold.fct_customer_metrics")
    assert not r.passed
    assert r.rows_failed == 5  # 3 violating rows + 2 rows of the duplicated id
    assert r.details["violations"]["recency_score_out_of_range"] == 1
    assert r.details["violations"]["frequency_score_out_of_range"] == 1
    assert r.details["violations"]["monetary_score_out_of_range"] == 0
    assert r.details["duplicate_customer_ids"] == 1
    assert r.sample_keys[0] == "c1"


def test_customer_metric_rules_pass_with_null_scores(spark):
    df = spark.createDataFrame([("c1", M("10"), 5, 1, 3), ("c2", M("0"), None, None, None)],
                               METRICS)
    r = gold.customer_metric_rules(df, "gold.fct_customer_metrics")
    assert r.passed and r.details["duplicate_customer_ids"] == 0


def _reconciliation_frames(spark, daily_total):
    ico = spark.createDataFrame([("o1", M("10.50")), ("o2", M("4.50"))],
                                "order_id string, order_total decimal(21,2)")
    daily = spark.createDataFrame([(D(2024, 1, 1), M(daily_total))],
                                  "order_date date, total_sales decimal(18,2)")
    metrics = spark.createDataFrame([("c1", M("15.00"))],
                                    "customer_id string, monetary_value decimal(31,2)")
    insights = spark.createDataFrame([("c1", M("15.00"))],
                                     "customer_id string, total_spend decimal(18,2)")
    return ico, daily, metrics, insights


def test_aggregation_reconciliation_passes_and_fails(spark):
    ok = gold.aggregation_reconciliation(*_reconciliation_frames(spark, "15.00"))
    assert ok.passed and ok.details["daily_sales_total"] == "15.00"
    bad = gold.aggregation_reconciliation(*_reconciliation_frames(spark, "14.00"))
    assert not bad.passed and bad.rows_failed == 1
    assert bad.sample_keys == ["daily_sales_total"]
    assert bad.details["differences"]["daily_sales_total"] == "-1.00"


def test_product_revenue_reconciles_with_line_totals_not_shipping(spark):
    orders = spark.createDataFrame(
        [("o1", True, M("5.00")), ("o2", False, M("5.00"))],
        "order_id string, is_completed boolean, shipping_cost decimal(10,2)",
    )
    items = spark.createDataFrame(
        [("i1", "o1", M("20.00")), ("i2", "o2", M("7.00"))],
        "order_item_id string, order_id string, line_total decimal(10,2)",
    )
    daily = spark.createDataFrame([(D(2024, 1, 1), M("25.00"))],
                                  "order_date date, total_sales decimal(18,2)")

    def products(revenue):
        return spark.createDataFrame([("p1", M(revenue))], "product_id string, revenue decimal(20,2)")

    ok = gold.product_revenue_reconciliation(products("20.00"), orders, items, daily)
    assert ok.passed
    assert ok.details["completed_shipping"] == "5.00"
    assert ok.details["daily_sales_minus_shipping"] == "20.00"
    bad = gold.product_revenue_reconciliation(products("27.00"), orders, items, daily)
    assert not bad.passed and bad.sample_keys == ["product_revenue"]


DAILY = "order_date date, order_count long, total_sales decimal(18,2), " \
    "avg_order_value decimal(18,2), units_sold long, items_per_order double"


def test_metric_consistency(spark):
    df = spark.createDataFrame(
        [
            (D(2024, 1, 1), 2, M("30.00"), M("15.00"), 5, 2.5),
            (D(2024, 1, 2), 0, M("0.00"), None, 0, None),  # all cancelled: consistent
            (D(2024, 1, 3), 3, M("30.00"), M("15.00"), 3, 1.0),  # wrong average
            (D(2024, 1, 4), 0, M("0.00"), M("1.00"), 0, None),  # average without orders
        ],
        DAILY,
    )
    ratios = {"avg_order_value": ("total_sales", "order_count", 0.01),
              "items_per_order": ("units_sold", "order_count", 1e-9)}
    r = gold.metric_consistency(df, "gold.fct_daily_sales", "order_date", ratios)
    assert not r.passed and r.rows_failed == 2
    assert r.sample_keys == [D(2024, 1, 3), D(2024, 1, 4)]
    assert r.details["violations"] == {"avg_order_value_inconsistent": 2,
                                       "items_per_order_inconsistent": 0}
    ok = gold.metric_consistency(df.where("order_date <= DATE'2024-01-02'"), "t", "order_date",
                                 ratios)
    assert ok.passed and ok.rows_checked == 2


def test_segments_match_metrics(spark):
    seg = spark.createDataFrame([("c1",), ("c2",)], "customer_id string")
    met = spark.createDataFrame([("c1",), ("c3",)], "customer_id string")
    r = gold.segments_match_metrics(seg, met)
    assert not r.passed and r.rows_failed == 2 and r.sample_keys == ["c2", "c3"]
    assert r.details == {"segments": 2, "metrics": 2, "only_segments": 1, "only_metrics": 1}
    assert gold.segments_match_metrics(met, met).passed


def _daily_history(spark, last_sales):
    start = D(2024, 1, 1)
    rows = [(start + dt.timedelta(days=i), 10, M("100.00") + i % 3) for i in range(28)]
    rows.append((start + dt.timedelta(days=28), 10, M(last_sales)))
    return spark.createDataFrame(rows, "order_date date, order_count long, total_sales decimal(18,2)")


def test_daily_trend_warns_on_a_spike(spark):
    daily = _daily_history(spark, "900.00")
    r = gold.daily_trend(daily, [D(2024, 1, 29)])
    assert not r.passed and r.severity == WARN
    assert r.sample_keys == ["2024-01-29"] and r.rows_checked == 1
    flag = r.details["flagged"][0]
    assert flag["metric"] == "total_sales" and flag["value"] == 900.0


def test_daily_trend_passes_in_band_and_skips_short_history(spark):
    daily = _daily_history(spark, "101.00")
    assert gold.daily_trend(daily, [D(2024, 1, 29)]).passed
    # Day 3 has only 2 days of history: not judged, not flagged.
    r = gold.daily_trend(daily, [D(2024, 1, 3)])
    assert r.passed and r.rows_checked == 0


@pytest.mark.parametrize(
    "tags, expected",
    [
        ({}, None),
        ({"dagster/partition": "2024-01-05"}, (dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 6))),
        (
            {"dagster/asset_partition_range_start": "2024-01-01",
             "dagster/asset_partition_range_end": "2024-01-31"},
            (dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)),
        ),
    ],
)
def test_run_window_from_tags(tags, expected):
    assert run_window(tags) == expected


def test_quality_settings_come_from_the_environment_and_refuse_bad_values(monkeypatch):
    """The code location's quality resource takes its limits from the environment as EnvVars,
    resolved when a run starts; bad values fail that run (or the load, for floats) clearly."""
    import datetime as dt
    from decimal import Decimal

    from dagster import asset, materialize

    from lakehouse_assets.resources import QualitySettings, from_environment

    seen = {}

    @asset
    def probe(quality: QualitySettings) -> None:
        seen["share"] = quality.thresholds().max_orphan_share
        seen["limits"] = quality.plausibility()

    def run_with_environment():
        settings = QualitySettings(**from_environment(QualitySettings))
        materialize([probe], resources={"quality": settings})
        return settings

    run_with_environment()
    assert seen["share"] == 0.01
    monkeypatch.setenv("LAKEHOUSE_MAX_ORPHAN_SHARE", "0.3")
    monkeypatch.setenv("LAKEHOUSE_EARLIEST_ORDER_DATE", "2010-06-01")
    monkeypatch.setenv("LAKEHOUSE_MAX_QUANTITY", "500")
    monkeypatch.setenv("LAKEHOUSE_MAX_UNIT_PRICE", "2500.5")
    run_with_environment()
    assert seen["share"] == 0.3
    limits = seen["limits"]
    assert (limits.earliest_order_date, limits.max_quantity, limits.max_unit_price) == (
        dt.date(2010, 6, 1), 500, Decimal("2500.5"))
    for name, value, says in (
        ("LAKEHOUSE_MAX_ORPHAN_SHARE", "lots", "LAKEHOUSE_MAX_ORPHAN_SHARE='lots' is not a valid float"),
        ("LAKEHOUSE_MAX_ORPHAN_SHARE", "1.5", "less than or equal to 1"),
        ("LAKEHOUSE_EARLIEST_ORDER_DATE", "2020-02-30", "must be a date YYYY-MM-DD"),
        ("LAKEHOUSE_MAX_QUANTITY", "many", "LAKEHOUSE_MAX_QUANTITY"),
    ):
        monkeypatch.setenv(name, value)
        with pytest.raises(Exception) as failure:
            run_with_environment()
        causes = [failure.value, failure.value.__cause__]  # a run's resource error wraps it
        assert any(says in str(cause) for cause in causes), (says, causes)
        monkeypatch.delenv(name)
    # String and integer settings are EnvVars, read when the run starts, not when the code
    # location loads.
    monkeypatch.setenv("LAKEHOUSE_MAX_QUANTITY", "500")
    settings = QualitySettings(**from_environment(QualitySettings))
    monkeypatch.setenv("LAKEHOUSE_MAX_QUANTITY", "700")
    materialize([probe], resources={"quality": settings})
    assert seen["limits"].max_quantity == 700


# --- a table's counted rules: one aggregation, the same results as each rule alone -----------
def _counting_calls(monkeypatch) -> list:
    """Every aggregation ``checks.counting.count`` runs, by its frame's key."""
    from lakehouse_assets.checks import counting

    calls, original = [], counting.count

    def count(df, keys, *args, **kwargs):
        calls.append(tuple(keys))
        return original(df, keys, *args, **kwargs)

    monkeypatch.setattr(counting, "count", count)
    return calls


def test_a_tables_counted_rules_are_one_aggregation_equal_to_each_rule_alone(spark, monkeypatch):
    from lakehouse_assets.checks.table_rules import RuleInputs, evaluate_all, rules_of
    from lakehouse_assets.resources.delta_io_manager import PendingWrite

    table = "gold.fct_customer_insights"
    df = spark.createDataFrame(
        [
            ("c1", M("30.00"), M("15.00"), 2, "Loyal"),
            ("c2", M("-5.00"), M("-5.00"), 1, "New"),  # negative spend
            ("c2", M("10.00"), M("10.00"), 1, "New"),  # duplicate key
            ("c3", M("20.00"), M("5.00"), 2, None),  # average inconsistent, no segment
            (None, M("8.00"), M("8.00"), 1, "New"),  # null key
        ],
        "customer_id string, total_spend decimal(12,2), avg_order_value decimal(12,2), "
        "order_count bigint, customer_segment string",
    )
    rules = rules_of(table)
    assert {r.name for r in rules} == {"keys_unique_not_null", "spend_values",
                                       "metric_consistency"}
    assert all(r.counted for r in rules)
    calls = _counting_calls(monkeypatch)
    inputs = RuleInputs(spark, None, pending={table: PendingWrite(df, df, None)})
    together = {r.name: result for r, result in zip(rules, evaluate_all(rules, inputs))}
    assert calls == [("customer_id",)]  # one aggregation for the three rules

    alone = {
        "keys_unique_not_null": integrity.keys_unique_not_null(df, ["customer_id"], table),
        "spend_values": gold.customer_spend_values(
            df, table, "total_spend", "avg_order_value", "customer_segment"
        ),
        "metric_consistency": gold.metric_consistency(
            df, table, "customer_id", {"avg_order_value": ("total_spend", "order_count", 0.01)}
        ),
    }
    assert together == alone
    assert not any(r.passed for r in together.values())
    assert together["keys_unique_not_null"].details["duplicate_keys"] == 1
    assert together["spend_values"].details["violations"]["negative_total_spend"] == 1
    assert together["spend_values"].details["violations"]["null_customer_segment"] == 1
    assert together["metric_consistency"].sample_keys == ["c3"]


def test_a_landed_only_rule_counts_the_run_s_landing_dates_in_the_key_rule_s_rows(spark):
    """silver.stg_orders: the key rule checks the keys the run wrote across the table; the
    contract, counted in the same aggregation, only the run's landing dates."""
    from lakehouse_assets.checks.table_rules import RuleInputs, evaluate_all, rules_of
    from lakehouse_assets.resources.delta_io_manager import PendingWrite
    from lakehouse_assets_tests.test_contracts import ORDERS, _order

    def landed(order, day):
        return (*order[:-1], day)

    old, new = D(2024, 1, 1), D(2024, 1, 2)
    table = spark.createDataFrame(
        [
            landed(_order("o1", shipping="-1.00"), old),  # breaks the contract, not the run's
            landed(_order("o2"), old),  # o2 again on the run's date: a duplicate key
            landed(_order("o2"), new),
            landed(_order("o3", month=13), new),  # breaks the contract
        ],
        ORDERS,
    )
    rules = [r for r in rules_of("silver.stg_orders") if r.counted]
    assert {r.name for r in rules} == {"keys_unique_not_null", "pandera_contract"}
    window = run_window({"dagster/partition": "2024-01-02"})
    inputs = RuleInputs(spark, None, window,
                        pending={"silver.stg_orders": PendingWrite(table, table, None)})
    results = {r.name: result for r, result in zip(rules, evaluate_all(rules, inputs))}
    keys, contract = results["keys_unique_not_null"], results["pandera_contract"]
    assert (keys.rows_checked, keys.rows_failed, keys.sample_keys) == (3, 2, ["o2"])
    assert (contract.rows_checked, contract.rows_failed, contract.sample_keys) == (2, 1, ["o3"])
    assert {f["column"] for f in contract.details["findings"]} == {"order_month"}


def test_an_upsert_s_rules_count_the_rows_it_writes_and_alone_every_row(spark, tmp_path):
    """gold.fct_daily_sales is upserted by order date. In the writing step its counted rules
    count the rows the write puts in the table: a duplicate there fails the key rule, and a
    stored row the write leaves as it was is not counted again. The same checks run alone
    (nothing pending) count every stored row."""
    from dagster import TimeWindow

    from lakehouse_assets.checks.table_rules import RuleInputs, evaluate_all, rules_of
    from lakehouse_assets.resources import LakehouseStorage
    from lakehouse_assets.resources.delta_io_manager import pending_write
    from lakehouse_assets.tables import table_spec

    name = "gold.fct_daily_sales"
    storage = LakehouseStorage(lakehouse_root=str(tmp_path), landing_root=str(tmp_path / "in"))
    path = storage.table_path("gold", "fct_daily_sales")
    schema = ("order_date date, total_sales decimal(12,2), order_count bigint, "
              "avg_order_value decimal(12,2), units_sold bigint, items_per_order double")
    spark.createDataFrame([
        (D(2024, 1, 1), M("20.00"), 2, M("10.00"), 4, 2.0),
        (D(2024, 1, 2), M("30.00"), 1, M("99.00"), 1, 1.0),  # inconsistent average, stored
    ], schema).write.format("delta").save(path)
    output = spark.createDataFrame([
        (D(2024, 1, 1), M("40.00"), 4, M("10.00"), 8, 2.0),
        (D(2024, 1, 3), M("10.00"), 1, M("10.00"), 1, 1.0),
        (D(2024, 1, 3), M("12.00"), 1, M("12.00"), 1, 1.0),  # the same order date twice
    ], schema)
    rules = [r for r in rules_of(name) if r.counted]
    assert {r.name for r in rules} == {"keys_unique_not_null", "metric_consistency"}
    assert table_spec(name).key_scope == "written_keys"
    day = dt.datetime(2024, 1, 3)
    window = TimeWindow(day, day + dt.timedelta(days=1))
    pending = pending_write(spark, name, path, table_spec(name).write_metadata, output, window)

    def audit(pending_writes):
        inputs = RuleInputs(spark, storage, (window.start, window.end), pending=pending_writes)
        return {r.name: res for r, res in zip(rules, evaluate_all(rules, inputs))}

    in_step = audit({name: pending})
    keys, consistency = in_step["keys_unique_not_null"], in_step["metric_consistency"]
    assert (keys.rows_checked, keys.rows_failed, keys.sample_keys) == (3, 2, [D(2024, 1, 3)])
    assert (consistency.rows_checked, consistency.rows_failed) == (3, 0)

    alone = audit({})
    keys, consistency = alone["keys_unique_not_null"], alone["metric_consistency"]
    assert (keys.rows_checked, keys.rows_failed) == (2, 0)
    assert (consistency.rows_checked, consistency.rows_failed) == (2, 1)
    assert consistency.sample_keys == [D(2024, 1, 2)]
