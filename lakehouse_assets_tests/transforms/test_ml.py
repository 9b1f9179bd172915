"""ML features: ml_customer_features as of the analysis date (never the wall clock)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from lakehouse_assets.transforms.customers import fct_customer_metrics
from lakehouse_assets.transforms.intermediate import customer_summary, int_customer_rfm
from lakehouse_assets.transforms.ml import ml_customer_features

AS_OF = date(2024, 6, 30)  # the latest completed order below: the analysis date

STG_CUSTOMERS_DDL = (
    "customer_id string, email string, first_name string, last_name string, country string,"
    " customer_created_at date"
)
INT_CUSTOMER_ORDERS_DDL = (
    "order_id string, customer_id string, order_date date, shipping_cost decimal(10,2),"
    " order_subtotal decimal(20,2), order_total decimal(21,2), items_count bigint"
)


def test_ml_customer_features(spark):
    orders = []

    def add_orders(customer_id, days_before_as_of, totals):
        for n, (days, total) in enumerate(zip(days_before_as_of, totals)):
            orders.append((
                f"{customer_id}-{n}", customer_id, AS_OF - timedelta(days=days), D("0"),
                D(total), D(total), 1,
            ))

    # m1: last 90 days (>= as-of - 90): 3 orders; the 90 days before (>= -180, < -90): 2.
    add_orders("m1", [180, 100, 90, 10, 0], ["100", "50", "60", "40", "30"])
    add_orders("m2", [200, 190], ["100", "100"])  # < 3 orders: no trend ratio
    add_orders("m3", [50, 40, 30], ["10", "10", "10"])  # nothing in the earlier window
    add_orders("m5", [20], ["25"])  # one order: no volatility, no gap
    add_orders("m6", [181], ["10"])  # High churn risk
    int_orders = spark.createDataFrame(orders, INT_CUSTOMER_ORDERS_DDL)
    stg_customers = spark.createDataFrame(
        [
            (cid, f"{cid}@example.com", "F", "L", "US", date(2024, 1, 1))
            for cid in ["m1", "m2", "m3", "m4", "m5", "m6"]  # m4 never ordered
        ],
        STG_CUSTOMERS_DDL,
    )
    summary = customer_summary(int_orders)
    fct = fct_customer_metrics(stg_customers, int_customer_rfm(summary))

    features = ml_customer_features(fct, summary)

    assert features.columns == [
        "customer_id", "is_churn_risk", "country", "account_age_days", "recency_days",
        "frequency", "monetary_value", "avg_order_value", "recency_score", "frequency_score",
        "monetary_score", "rfm_total_score", "customer_tenure_days", "revenue_per_order",
        "orders_per_month", "order_value_volatility", "max_order_value", "min_order_value",
        "avg_days_between_orders", "order_trend_ratio", "is_active_last_30d",
        "is_active_last_90d", "predicted_clv_12m", "clv_growth_multiplier",
    ]
    by_id = {r["customer_id"]: r.asDict() for r in features.collect()}
    assert sorted(by_id) == ["m1", "m2", "m3", "m4", "m5", "m6"]

    m1 = by_id["m1"]
    assert m1["account_age_days"] == 181  # 2024-01-01 .. 2024-06-30 (leap year)
    assert (m1["recency_days"], m1["frequency"], m1["monetary_value"]) == (0, 5, D("280"))
    assert (m1["recency_score"], m1["frequency_score"], m1["monetary_score"]) == (5, 5, 3)
    assert (m1["customer_tenure_days"], m1["revenue_per_order"]) == (180, D("56"))
    assert float(m1["orders_per_month"]) == pytest.approx(5 * 30 / 180)
    assert m1["order_value_volatility"] == pytest.approx(math.sqrt(2920 / 4))
    assert (m1["max_order_value"], m1["min_order_value"]) == (D("100"), D("30"))
    assert m1["avg_days_between_orders"] == 45.0  # gaps 80, 10, 80, 10
    assert m1["order_trend_ratio"] == 1.5
    assert (m1["is_churn_risk"], m1["is_active_last_30d"], m1["is_active_last_90d"]) == (0, 1, 1)
    assert (m1["predicted_clv_12m"], m1["clv_growth_multiplier"]) == (D("560"), D("2"))

    m2 = by_id["m2"]
    assert (m2["recency_days"], m2["is_churn_risk"], m2["is_active_last_90d"]) == (190, 1, 0)
    assert (m2["avg_days_between_orders"], m2["order_trend_ratio"]) == (10.0, None)
    assert float(m2["orders_per_month"]) == pytest.approx(2 * 30 / 10)
    assert m2["clv_growth_multiplier"] == D("1.2")  # total score 1 + 2 + 3 = 6

    m3 = by_id["m3"]
    assert (m3["order_trend_ratio"], m3["order_value_volatility"]) == (None, 0.0)
    assert (m3["is_active_last_30d"], m3["avg_days_between_orders"]) == (1, 10.0)

    m5 = by_id["m5"]
    assert (m5["order_value_volatility"], m5["avg_days_between_orders"]) == (None, None)
    assert (m5["customer_tenure_days"], float(m5["orders_per_month"])) == (0, 0.0)

    assert (by_id["m6"]["is_churn_risk"], by_id["m6"]["recency_days"]) == (1, 181)

    never = by_id["m4"]  # kept, with the original design's CASE defaults
    assert never["account_age_days"] == 181
    assert (never["frequency"], never["revenue_per_order"], float(never["orders_per_month"])) == (
        0, D("0"), 0.0,
    )
    assert (never["is_churn_risk"], never["is_active_last_30d"], never["is_active_last_90d"]) == (
        0, 0, 0,
    )
    assert (never["clv_growth_multiplier"], never["predicted_clv_12m"]) == (D("0"), D("0"))
    assert all(
        never[c] is None
        for c in [
            "recency_days", "order_value_volatility", "max_order_value", "min_order_value",
            "avg_days_between_orders", "order_trend_ratio",
        ]
    )
