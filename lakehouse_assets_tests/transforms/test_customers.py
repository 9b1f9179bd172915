"""Customer gold: fct_customer_metrics, dim_customer_segments, segment reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from lakehouse_assets.transforms.customers import (
    dim_customer_segments,
    fct_customer_metrics,
    rfm_heatmap,
    segment_revenue_summary,
)

STG_CUSTOMERS_DDL = (
    "customer_id string, email string, first_name string, last_name string, country string,"
    " customer_created_at date, phone string, city string, age int, is_valid_email boolean,"
    " _landing_date date"
)
INT_CUSTOMER_RFM_DDL = (
    "customer_id string, recency_days int, frequency bigint, monetary_value decimal(31,2),"
    " avg_order_value decimal(25,6), first_order_date date, last_order_date date,"
    " customer_tenure_days int, recency_score int, frequency_score int, monetary_score int,"
    " rfm_total_score int, rfm_segment_code string"
)
# The fct_customer_metrics columns dim_customer_segments reads.
FCT_FOR_SEGMENTS_DDL = (
    "customer_id string, email string, first_name string, last_name string,"
    " recency_score int, frequency_score int, monetary_score int, rfm_total_score int,"
    " monetary_value decimal(31,2), frequency bigint, avg_order_value decimal(25,6),"
    " predicted_clv_12m decimal(34,3), churn_risk string"
)


def stg_customer(customer_id):
    return (customer_id, f"{customer_id}@example.com", "First", "Last", "US",
            date(2023, 1, 1), None, None, None, True, date(2024, 1, 1))


def rfm(customer_id, recency_days, frequency, monetary, scores):
    """An int_customer_rfm row; fct_customer_metrics branches on recency, frequency, total."""
    r, f, m = scores
    return (customer_id, recency_days, frequency, D(monetary), D(monetary) / frequency,
            date(2024, 1, 1), date(2024, 6, 1), 152, r, f, m, r + f + m, f"{r}{f}{m}")


def test_fct_customer_metrics_clv_churn_and_never_purchased(spark):
    stg_customers = spark.createDataFrame(
        [stg_customer(c) for c in ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"]],
        STG_CUSTOMERS_DDL,
    )
    int_rfm = spark.createDataFrame(
        [
            rfm("k1", 181, 1, "100.00", (4, 4, 4)),  # total 12: x2.0; > 180 days and 1 order: High
            rfm("k2", 181, 2, "100.00", (4, 4, 3)),  # total 11: x1.5; > 180 days, 2 orders: Medium
            rfm("k3", 121, 1, "100.00", (3, 3, 3)),  # total 9: x1.5; > 120 days: Medium
            rfm("k4", 120, 1, "100.00", (3, 3, 2)),  # total 8: x1.2; 120 days: Low
            rfm("k5", 91, 1, "100.00", (2, 2, 2)),  # total 6: x1.2; > 90 days: Low
            rfm("k6", 90, 1, "100.00", (2, 2, 1)),  # total 5: x0.8; 90 days: Very Low
            rfm("k8", 0, 3, "10.00", (3, 2, 2)),  # total 7: x1.2; Very Low
            rfm("not-a-silver-customer", 1, 1, "1.00", (5, 1, 1)),  # dropped: no silver customer
        ],
        INT_CUSTOMER_RFM_DDL,
    )

    fct = fct_customer_metrics(stg_customers, int_rfm)

    assert fct.columns == [
        "customer_id", "email", "first_name", "last_name", "country", "customer_created_at",
        "recency_days", "frequency", "monetary_value", "avg_order_value", "recency_score",
        "frequency_score", "monetary_score", "rfm_total_score", "rfm_segment_code",
        "customer_tenure_days", "first_order_date", "last_order_date", "current_clv",
        "predicted_clv_12m", "churn_risk",
    ]
    by_id = {r["customer_id"]: r.asDict() for r in fct.collect()}
    assert sorted(by_id) == ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"]
    clv_and_churn = {
        cid: (r["current_clv"], r["predicted_clv_12m"], r["churn_risk"])
        for cid, r in by_id.items()
    }
    assert clv_and_churn == {
        "k1": (D("100.00"), D("200.00"), "High"),
        "k2": (D("100.00"), D("150.00"), "Medium"),
        "k3": (D("100.00"), D("150.00"), "Medium"),
        "k4": (D("100.00"), D("120.00"), "Low"),
        "k5": (D("100.00"), D("120.00"), "Low"),
        "k6": (D("100.00"), D("80.00"), "Very Low"),
        "k7": (D("0"), D("0"), "Never Purchased"),
        "k8": (D("10.00"), D("12.00"), "Very Low"),
    }
    never = by_id["k7"]
    assert (never["frequency"], never["monetary_value"]) == (0, D("0"))
    assert all(
        never[c] is None
        for c in [
            "avg_order_value", "recency_days", "recency_score", "frequency_score",
            "monetary_score", "rfm_total_score", "rfm_segment_code", "customer_tenure_days",
            "first_order_date", "last_order_date",
        ]
    )
    assert (by_id["k1"]["email"], by_id["k1"]["rfm_segment_code"], by_id["k1"]["recency_days"]) == (
        "k1@example.com", "444", 181,
    )


def test_dim_customer_segments_rules_in_seed_order_and_reports(spark):
    # (customer_id, R, F, M, monetary_value, frequency) -> expected segment and action.
    cases = [
        ("champion", 4, 4, 4, "900", 6, "Champions", "VIP treatment, exclusive offers"),
        ("loyal-3", 3, 3, 3, "250", 3, "Loyal Customers", "Standard nurture campaign"),
        ("loyal-vip", 5, 5, 3, "250", 5, "Loyal Customers", "VIP treatment, exclusive offers"),
        ("new", 4, 2, 2, "150", 2, "New Customers", "Onboarding campaign, product recommendations"),
        ("big-3", 3, 2, 3, "250", 2, "Big Spenders", "Standard nurture campaign"),
        ("big-5", 5, 1, 5, "600", 1, "Big Spenders", "Onboarding campaign, product recommendations"),
        ("at-risk", 2, 3, 3, "250", 3, "At Risk", "Win-back campaign, special discount"),
        ("cant-lose", 2, 2, 3, "250", 2, "Cant Lose Them", "Win-back campaign, special discount"),
        ("hibernating", 2, 2, 2, "150", 2, "Hibernating", "Re-engagement or sunset"),
        ("hibernating-f3", 1, 3, 1, "50", 3, "Hibernating", "Standard nurture campaign"),
        ("lost", 1, 1, 1, "50", 1, "Lost", "Re-engagement or sunset"),
        ("others-3", 3, 1, 1, "50", 1, "Others", "Standard nurture campaign"),
        ("others-2", 2, 1, 1, "50", 1, "Others", "Re-engagement or sunset"),
    ]
    rows = [
        (cid, f"{cid}@example.com", "F", "L", r, f, m, r + f + m, D(money), freq,
         D(money) / freq, D(money), "Very Low")
        for cid, r, f, m, money, freq, _, _ in cases
    ]
    rows.append(("prospect", "p@example.com", "F", "L", None, None, None, None, D("0"), 0,
                 None, D("0"), "Never Purchased"))
    fct = spark.createDataFrame(rows, FCT_FOR_SEGMENTS_DDL)

    dim = dim_customer_segments(fct)

    assert dim.columns == [
        "customer_id", "email", "first_name", "last_name", "customer_segment",
        "recency_score", "frequency_score", "monetary_score", "rfm_total_score",
        "monetary_value", "total_orders", "avg_order_value", "predicted_clv_12m",
        "churn_risk", "recommended_action",
    ]
    by_id = {r["customer_id"]: r for r in dim.collect()}
    expected = {cid: (segment, action) for cid, *_, segment, action in cases}
    expected["prospect"] = ("Prospects", "First-purchase welcome campaign")
    assert {
        cid: (r["customer_segment"], r["recommended_action"]) for cid, r in by_id.items()
    } == expected
    assert (by_id["champion"]["total_orders"], by_id["prospect"]["total_orders"]) == (6, 0)

    # by total revenue, highest first (ties by name).
    summary = [tuple(r) for r in segment_revenue_summary(dim).collect()]
    assert [s[0] for s in summary] == [
        "Champions", "Big Spenders", "Loyal Customers", "At Risk", "Cant Lose Them",
        "Hibernating", "New Customers", "Others", "Lost", "Prospects",
    ]
    assert summary[1] == ("Big Spenders", 2, D("850"), D("425"), D("425"), D("850"))
    assert summary[-1] == ("Prospects", 1, D("0"), D("0"), D("0"), D("0"))


def test_rfm_heatmap_counts_scored_customers_only(spark):
    fct = spark.createDataFrame(
        [
            ("a", 5, 1, D("100")),
            ("b", 5, 1, D("300")),
            ("c", 1, 2, D("50")),
            ("never", None, None, D("0")),  # never purchased: no heatmap cell
        ],
        "customer_id string, recency_score int, frequency_score int,"
        " monetary_value decimal(31,2)",
    )

    heatmap = rfm_heatmap(fct)

    assert heatmap.columns == ["recency_score", "frequency_score", "customer_count", "avg_value"]
    assert [tuple(r) for r in heatmap.collect()] == [(1, 2, 1, D("50")), (5, 1, 2, D("200"))]
