"""Intermediate: int_customer_orders, analysis_date, int_customer_rfm, int_product_metrics."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from lakehouse_assets.transforms.intermediate import (
    analysis_date,
    customer_summary,
    int_customer_orders,
    int_customer_rfm,
    int_product_metrics,
)

STG_ORDERS_DDL = (
    "order_id string, customer_id string, order_date date, order_status string,"
    " shipping_cost decimal(10,2), is_completed boolean"
)
STG_ORDER_ITEMS_DDL = (
    "order_item_id string, order_id string, product_id string, quantity int,"
    " unit_price decimal(10,2), line_total decimal(10,2)"
)
STG_PRODUCTS_DDL = (
    "product_id string, product_name string, category string, cost_price decimal(10,2),"
    " list_price decimal(10,2), profit_margin decimal(10,2), profit_margin_pct decimal(5,2)"
)
INT_CUSTOMER_ORDERS_DDL = (
    "order_id string, customer_id string, order_date date, shipping_cost decimal(10,2),"
    " order_subtotal decimal(20,2), order_total decimal(21,2), items_count bigint"
)


def completed(order_id, customer_id, order_date, shipping="0"):
    return (order_id, customer_id, order_date, "completed", D(shipping), True)


def pending(order_id, customer_id, order_date, shipping="0"):
    return (order_id, customer_id, order_date, "pending", D(shipping), False)


def item(item_id, order_id, product_id, quantity, unit_price):
    return (item_id, order_id, product_id, quantity, D(unit_price), D(unit_price) * quantity)


def test_int_customer_orders_and_analysis_date(spark):
    stg_orders = spark.createDataFrame(
        [
            completed("A1", "c1", date(2024, 3, 1), "2.00"),
            completed("A2", "c1", date(2024, 3, 5), "3.00"),  # completed, no items
            pending("A3", "c2", date(2024, 4, 1)),  # later, but not completed
        ],
        STG_ORDERS_DDL,
    )
    stg_order_items = spark.createDataFrame(
        [
            item("i1", "A1", "p1", 2, "5.00"),
            item("i2", "A1", "p2", 1, "5.50"),
            item("i3", "A3", "p1", 1, "9.00"),
        ],
        STG_ORDER_ITEMS_DDL,
    )

    orders = int_customer_orders(stg_orders, stg_order_items)

    assert orders.columns == [
        "order_id", "customer_id", "order_date", "shipping_cost", "order_subtotal",
        "order_total", "items_count",
    ]
    assert sorted(tuple(r) for r in orders.collect()) == [
        ("A1", "c1", date(2024, 3, 1), D("2.00"), D("15.50"), D("17.50"), 2),
        ("A2", "c1", date(2024, 3, 5), D("3.00"), D("0.00"), D("3.00"), 0),
    ]
    # The pending order of 2024-04-01 does not move the analysis date.
    assert [tuple(r) for r in analysis_date(orders).collect()] == [(date(2024, 3, 5),)]


def test_int_customer_rfm_score_boundaries(spark):
    as_of = date(2024, 12, 31)
    rows = []

    def orders(customer_id, days_before_as_of, totals):
        """One completed order per (days before the analysis date, order_total)."""
        for n, (days, total) in enumerate(zip(days_before_as_of, totals)):
            rows.append((
                f"{customer_id}-{n}", customer_id, as_of - timedelta(days=days), D("0"),
                D(total), D(total), 1,
            ))

    # Recency 30|31, 60|61, 90|91, 180|181; frequency 1..5; monetary 500|499.99, 300|299.99,
    # 200|199.99, 100|99.99.
    orders("cA", [100, 50, 20, 10, 0], ["100"] * 5)  # R5 F5 M5 (sets the analysis date)
    orders("cB", [30], ["499.99"])  # R5 F1 M4
    orders("cC", [31], ["300.00"])  # R4 F1 M4
    orders("cD", [90, 60], ["150.00", "149.99"])  # R4 F2 M3
    orders("cE", [100, 80, 61], ["100.00", "50.00", "50.00"])  # R3 F3 M3
    orders("cF", [200, 150, 120, 90], ["50.00", "50.00", "50.00", "49.99"])  # R3 F4 M2
    orders("cG", [91], ["100.00"])  # R2 F1 M2
    orders("cH", [180], ["99.99"])  # R2 F1 M1
    orders("cI", [181], ["50.00"])  # R1 F1 M1
    int_orders = spark.createDataFrame(rows, INT_CUSTOMER_ORDERS_DDL)

    rfm = int_customer_rfm(customer_summary(int_orders))

    assert rfm.columns == [
        "customer_id", "recency_days", "frequency", "monetary_value", "avg_order_value",
        "first_order_date", "last_order_date", "customer_tenure_days", "recency_score",
        "frequency_score", "monetary_score", "rfm_total_score", "rfm_segment_code",
    ]
    by_id = {r["customer_id"]: r for r in rfm.collect()}
    scores = {
        cid: (r["recency_days"], r["frequency"], r["monetary_value"], r["rfm_segment_code"],
              r["rfm_total_score"])
        for cid, r in by_id.items()
    }
    assert scores == {
        "cA": (0, 5, D("500.00"), "555", 15),
        "cB": (30, 1, D("499.99"), "514", 10),
        "cC": (31, 1, D("300.00"), "414", 9),
        "cD": (60, 2, D("299.99"), "423", 9),
        "cE": (61, 3, D("200.00"), "333", 9),
        "cF": (90, 4, D("199.99"), "342", 9),
        "cG": (91, 1, D("100.00"), "212", 5),
        "cH": (180, 1, D("99.99"), "211", 4),
        "cI": (181, 1, D("50.00"), "111", 3),
    }
    assert (by_id["cA"]["recency_score"], by_id["cA"]["frequency_score"],
            by_id["cA"]["monetary_score"]) == (5, 5, 5)
    assert (by_id["cA"]["first_order_date"], by_id["cA"]["last_order_date"],
            by_id["cA"]["customer_tenure_days"], by_id["cA"]["avg_order_value"]) == (
        date(2024, 9, 22), as_of, 100, D("100"),
    )
    assert (by_id["cD"]["customer_tenure_days"], by_id["cD"]["avg_order_value"]) == (30, D("149.995"))


def test_int_product_metrics_keeps_unsold_products_with_zeros(spark):
    stg_products = spark.createDataFrame(
        [
            ("p1", "Widget", "Home", D("4.00"), D("12.00"), D("8.00"), D("66.67")),
            ("p2", "Unsold", "Home", D("1.00"), D("2.00"), D("1.00"), D("50.00")),
            ("p3", "Pending only", "Toys", D("1.00"), D("3.00"), D("2.00"), D("66.67")),
        ],
        STG_PRODUCTS_DDL,
    )
    stg_orders = spark.createDataFrame(
        [
            completed("O1", "c1", date(2024, 1, 1)),
            completed("O2", "c2", date(2024, 1, 5)),
            pending("O3", "c1", date(2024, 2, 1)),
        ],
        STG_ORDERS_DDL,
    )
    stg_order_items = spark.createDataFrame(
        [
            item("i1", "O1", "p1", 2, "10.00"),
            item("i2", "O2", "p1", 1, "12.00"),
            item("i3", "O3", "p3", 5, "3.00"),
        ],
        STG_ORDER_ITEMS_DDL,
    )

    metrics = int_product_metrics(stg_products, stg_order_items, stg_orders)

    assert metrics.columns == [
        "product_id", "product_name", "category", "cost_price", "list_price", "profit_margin",
        "profit_margin_pct", "orders_count", "customers_count", "units_sold", "revenue",
        "avg_selling_price", "total_profit", "first_sale_date", "last_sale_date",
    ]
    sales = {
        r["product_id"]: tuple(r)[7:] for r in metrics.collect()
    }
    assert sales == {
        # revenue 32 - 3 units * cost 4 = 20 profit
        "p1": (2, 2, 3, D("32.00"), D("11.00"), D("20.00"), date(2024, 1, 1), date(2024, 1, 5)),
        "p2": (0, 0, 0, D("0.00"), D("0"), D("0.00"), None, None),
        "p3": (0, 0, 0, D("0.00"), D("0"), D("0.00"), None, None),
    }
