"""The pandera silver contracts: a crafted bad frame is rejected with a readable report, a
good one passes, and validation costs a constant number of Spark passes."""

import datetime as dt
from decimal import Decimal

from lakehouse_assets.checks.contracts import StgOrderItems, StgOrders, validate_contract
from lakehouse_assets.checks.results import ERROR, WARN

ORDERS = (
    "order_id string, customer_id string, order_date date, order_status string, "
    "shipping_cost decimal(10,2), order_year int, order_month int, order_quarter int, "
    "order_day_of_week string, is_completed boolean, payment_method string, "
    "payment_status string, currency string, tax_amount decimal(10,2), "
    "discount_amount decimal(10,2), _landing_date date"
)
D, M = dt.date(2024, 1, 5), Decimal


def _order(order_id, status="completed", shipping="5.00", month=1, customer="c1"):
    return (order_id, customer, D, status, M(shipping) if shipping else None, 2024, month, 1,
            "Friday", status == "completed", "paypal", "paid", "USD", M("1.00"), M("0.00"), D)


def test_contract_passes_a_good_frame(spark):
    df = spark.createDataFrame([_order("o1"), _order("o2", "pending")], ORDERS)
    r = validate_contract(df, StgOrders, "order_id", "silver.stg_orders")
    assert r.passed and r.rows_checked == 2 and r.details["findings"] == []
    assert "contract satisfied" in r.description


def test_contract_rejects_a_bad_frame_with_a_report_by_column_and_check(spark):
    df = spark.createDataFrame(
        [
            _order("o1"),
            _order("o2", shipping="-1.00"),
            _order("o3", month=13, customer=""),
            _order("o4", shipping=None),
            _order("o5", status="on_hold"),  # unknown status: a warning only
        ],
        ORDERS,
    )
    r = validate_contract(df, StgOrders, "order_id", "silver.stg_orders")
    assert not r.passed and r.severity == ERROR
    found = {(f["column"], f["check"]): (f["failed_rows"], f["severity"])
             for f in r.details["findings"]}
    assert found == {
        ("shipping_cost", "greater_than_or_equal_to"): (1, ERROR),
        ("shipping_cost", "not_nullable"): (1, ERROR),
        ("order_month", "in_range"): (1, ERROR),
        ("customer_id", "str_length"): (1, ERROR),
        ("order_status", "isin"): (1, WARN),
    }
    assert r.rows_failed == 4 and r.sample_keys == ["o2", "o3", "o4", "o5"]
    assert "- [ERROR] shipping_cost / greater_than_or_equal_to (1 rows)" in r.description
    assert "- [WARN] order_status / isin (1 rows)" in r.description
    check = r.to_check_result()
    assert not check.passed and check.metadata["summary"].value == r.description


def test_unknown_status_alone_is_a_warning(spark):
    df = spark.createDataFrame([_order("o1", status="on_hold")], ORDERS)
    r = validate_contract(df, StgOrders, "order_id", "silver.stg_orders")
    assert not r.passed and r.severity == WARN


def test_wrong_types_and_missing_columns_are_schema_findings(spark):
    df = spark.createDataFrame(
        [("i1", "o1", "p1", 2, "3.50", dt.date(2024, 1, 1))],
        "order_item_id string, order_id string, product_id string, quantity int, "
        "unit_price string, _landing_date date",
    )
    r = validate_contract(df, StgOrderItems, "order_item_id", "silver.stg_order_items")
    assert not r.passed and r.severity == ERROR
    reasons = {(f["column"], f["reason"]) for f in r.details["findings"] if f["failed_rows"] is None}
    assert ("unit_price", "WRONG_DATATYPE") in reasons
    assert ("line_total", "COLUMN_NOT_IN_DATAFRAME") in reasons
    assert "line_total" in r.description


def test_validation_is_one_aggregation_not_a_job_per_rule(spark):
    """StgOrders has ~20 data-level rules; a clean frame is validated by one aggregation."""
    df = spark.createDataFrame([_order(f"o{i}") for i in range(50)], ORDERS).cache()
    df.count()
    tracker = spark.sparkContext.statusTracker()

    def jobs():
        return set(tracker.getJobIdsForGroup(None))

    before = jobs()
    r = validate_contract(df, StgOrders, "order_id", "silver.stg_orders")
    spent = len(jobs() - before)
    df.unpersist()
    assert r.passed
    rules = len(r.threshold.split("(")[1].split()[0])  # noqa: F841 - documented in threshold
    # One aggregation (Spark may split a query into a couple of jobs); pandera's own data
    # validation would run one job per rule (>= 20 here).
    assert spent <= 3, spent
