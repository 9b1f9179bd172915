"""Customer, marketing, finance and risk marts on tiny hand-computed inputs (real Spark).

The shop (orders O1..O6, products P1..P3 + unknown P9) is described in test_sales.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lakehouse_assets.transforms.intermediate import customer_summary
from lakehouse_assets.transforms.marts import (
    age_group,
    fct_customer_insights,
    fct_customer_ltv,
    fct_customer_spend_tiers,
    fct_finance_daily,
    fct_high_risk_orders,
    fct_marketing_customers,
)
from lakehouse_assets_tests.transforms.test_sales import (
    DIM_CUSTOMER_SEGMENTS,
    INT_CUSTOMER_ORDERS,
    STG_CUSTOMERS,
    STG_PRODUCTS,
    int_customer_orders_df,
    items_df,
    make_df,
    orders_df,
    rows_by,
    shop,
)


@pytest.fixture(scope="module")
def tables(spark):
    return {
        **shop(spark),
        "stg_customers": make_df(
            spark,
            STG_CUSTOMERS,
            [
                dict(customer_id="C1", email="c1@example.com", country="DE", city="Berlin", age=30),
                dict(customer_id="C2", email="c2@example.com", country="FR", city=None, age=None),
                dict(customer_id="C3", email="c3@example.com", country="US", city="Austin", age=70),
            ],
        ),
        "dim_customer_segments": make_df(
            spark,
            DIM_CUSTOMER_SEGMENTS,
            [
                dict(customer_id="C1", customer_segment="Champions"),
                dict(customer_id="C3", customer_segment="Lost"),
            ],
        ),
    }


def test_customer_insights(tables):
    insights = rows_by(
        fct_customer_insights(tables["int_customer_summary"], tables["dim_customer_segments"]),
        "customer_id",
    )
    # Analysis date = 2024-01-03 (latest completed order); C3 has no completed order.
    assert insights == {
        "C1": dict(customer_id="C1", customer_segment="Champions", total_spend=Decimal("35.00"),
                   order_count=3, avg_order_value=Decimal("11.67"),
                   last_order_date=dt.date(2024, 1, 3), days_since_last_order=0),
        "C2": dict(customer_id="C2", customer_segment=None, total_spend=Decimal("7.00"),
                   order_count=1, avg_order_value=Decimal("7.00"),
                   last_order_date=dt.date(2024, 1, 1), days_since_last_order=2),
    }  # fmt: skip


def test_marketing_customers(tables):
    marketing = rows_by(
        fct_marketing_customers(
            tables["stg_customers"],
            tables["stg_orders"],
            tables["stg_order_items"],
            tables["stg_products"],
            tables["int_customer_summary"],
            tables["dim_customer_segments"],
        ),
        "customer_id",
    )
    assert marketing == {
        # P9 (unknown product) adds no category.
        "C1": dict(customer_id="C1", customer_segment="Champions", email="c1@example.com",
                   country="DE", city="Berlin", age_group="25-34", total_spend=Decimal("35.00"),
                   avg_order_value=Decimal("11.67"), purchase_frequency=3,
                   preferred_categories=["Bakery", "Fruit"],
                   last_purchase_date=dt.date(2024, 1, 3)),
        # The returned O6 (Bakery) is no purchase.
        "C2": dict(customer_id="C2", customer_segment=None, email="c2@example.com",
                   country="FR", city=None, age_group="Unknown", total_spend=Decimal("7.00"),
                   avg_order_value=Decimal("7.00"), purchase_frequency=1,
                   preferred_categories=["Fruit", "Office"],
                   last_purchase_date=dt.date(2024, 1, 1)),
    }  # fmt: skip


def test_age_groups(spark):
    ages = spark.createDataFrame([(a,) for a in [None, 17, 18, 24, 25, 64, 65]], "age int")
    groups = [r[0] for r in ages.select(age_group(ages["age"])).collect()]
    assert groups == ["Unknown", "Under 18", "18-24", "18-24", "25-34", "55-64", "65+"]


def test_finance_daily_allocates_order_money_once(tables):
    finance = fct_finance_daily(
        tables["stg_orders"], tables["stg_order_items"], tables["stg_products"]
    )
    assert finance.columns[3:] == [
        "gross_revenue", "total_tax", "total_discounts", "gross_profit", "transaction_count",
        "avg_transaction_value", "total_refunds", "credit_card_revenue",
    ]  # fmt: skip
    rows = {
        (r[0].day, r[1], r[2]): " ".join(str(value) for value in r[3:]) for r in finance.collect()
    }
    assert rows == {
        # O1's tax 1.00 and discount 2.00 split 6:4 between its Fruit and Bakery lines.
        (1, "Fruit", "credit_card"): "6.00 0.60 1.20 4.00 1 6.00 0.00 6.00",
        (1, "Bakery", "credit_card"): "4.00 0.40 0.80 2.00 1 4.00 0.00 4.00",
        (1, "Fruit", "paypal"): "3.00 0.30 0.00 2.00 1 3.00 0.00 0.00",
        (1, "Office", "paypal"): "4.00 0.40 0.00 2.00 1 4.00 0.00 0.00",
        # O3: completed, but its payment was refunded.
        (3, "Fruit", "credit_card"): "6.00 0.60 0.00 4.00 1 6.00 6.00 6.00",
        # O5: no payment method, tax or discount; the unknown P9 has no cost, so no profit.
        (3, "Fruit", "unknown"): "10.00 0.00 0.00 5.00 1 10.00 0.00 0.00",
        (3, "Unknown", "unknown"): "1.50 0.00 0.00 None 1 1.50 0.00 0.00",
        # O6 was returned: in the mart, fully refunded. The cancelled O4 is not in it.
        (10, "Bakery", "credit_card"): "4.00 0.40 0.00 2.00 1 4.00 4.00 4.00",
    }


def test_customer_spend_tiers_boundaries(spark):
    totals = {"C1": ["6000.00", "4000.00"], "C2": ["10000.01"], "C3": ["5000.00"],
              "C4": ["1000.00"], "C5": ["1000.01"], "C6": ["5000.01"]}  # fmt: skip
    orders = make_df(
        spark,
        INT_CUSTOMER_ORDERS,
        [
            dict(order_id=f"{c}-{i}", customer_id=c, order_date="2024-03-01", order_total=t)
            for c, ts in totals.items()
            for i, t in enumerate(ts)
        ],
    )
    tiers = rows_by(fct_customer_spend_tiers(customer_summary(orders)), "customer_id")
    assert {c: r["customer_segment"] for c, r in tiers.items()} == {
        "C1": "Gold",  # exactly 10000: not > 10000
        "C2": "Premium",
        "C3": "Silver",  # exactly 5000
        "C4": "Bronze",  # exactly 1000
        "C5": "Silver",
        "C6": "Gold",
    }
    assert tiers["C1"] == dict(
        customer_id="C1", customer_segment="Gold", total_spend=Decimal("10000.00"),
        avg_order_value=Decimal("5000.00"), frequency=2,
    )  # fmt: skip


def test_customer_ltv_to_analysis_date(spark):
    orders = make_df(
        spark,
        INT_CUSTOMER_ORDERS,
        [
            dict(order_id="a", customer_id="L1", order_date="2024-01-10", order_total="100.00"),
            dict(order_id="b", customer_id="L1", order_date="2024-01-20", order_total="50.00"),
            dict(order_id="c", customer_id="L1", order_date="2024-04-15", order_total="150.00"),
            dict(order_id="d", customer_id="L2", order_date="2023-07-15", order_total="200.00"),
            dict(order_id="e", customer_id="L3", order_date="2024-07-15", order_total="80.00"),
            dict(order_id="f", customer_id="L4", order_date="2024-01-16", order_total="60.00"),
        ],
    )
    ltv = rows_by(fct_customer_ltv(customer_summary(orders)), "customer_id")  # analysis date 2024-07-15
    assert ltv["L1"] == dict(
        customer_id="L1", total_revenue=Decimal("300.00"), total_orders=3,
        first_purchase=dt.date(2024, 1, 10), last_purchase=dt.date(2024, 4, 15),
        active_months=2, monthly_revenue=Decimal("150.00"), months_since_last_purchase=3,
        predicted_ltv=Decimal("525.00"),  # 300 * (1 + (1 - 3/12))
    )  # fmt: skip
    months_and_ltv = {
        c: (r["months_since_last_purchase"], str(r["predicted_ltv"])) for c, r in ltv.items()
    }
    assert months_and_ltv["L2"] == (12, "200.00")  # a year ago: no future value added
    assert months_and_ltv["L3"] == (0, "160.00")  # bought on the analysis date: doubled
    # 5.97 months -> 5 whole months: 60 * (1 + 7/12) = 95.00 (6 months would give 90.00)
    assert months_and_ltv["L4"] == (5, "95.00")


RISK_ORDERS = [
    # high value (> 500) at a 10 % margin
    dict(order_id="H1", customer_id="R2", order_date="2024-02-10", order_status="completed",
         payment_status="paid", shipping_cost="0.00", discount_amount="0.00"),
    # high value, returned and refunded
    dict(order_id="H2", customer_id="R2", order_date="2024-02-11", order_status="returned",
         payment_status="refunded", shipping_cost="0.00"),
    # three orders by R1 on one day (one cancelled)
    dict(order_id="H3", customer_id="R1", order_date="2024-02-12", order_status="completed",
         shipping_cost="0.00"),
    dict(order_id="H4", customer_id="R1", order_date="2024-02-12", order_status="cancelled",
         shipping_cost="0.00"),
    dict(order_id="H5", customer_id="R1", order_date="2024-02-12", order_status="completed",
         shipping_cost="0.00"),
    # R3's first order, a day after sign-up: 600 with a 400 discount
    dict(order_id="H6", customer_id="R3", order_date="2024-02-10", order_status="completed",
         shipping_cost="0.00", discount_amount="400.00"),
    # not flagged: R3's second order; H8's discount is exactly half its subtotal
    dict(order_id="H7", customer_id="R3", order_date="2024-02-20", order_status="completed",
         shipping_cost="0.00"),
    dict(order_id="H8", customer_id="R2", order_date="2024-02-13", order_status="completed",
         shipping_cost="0.00", discount_amount="25.00"),
]  # fmt: skip
RISK_ITEMS = [
    dict(order_id="H1", product_id="X", quantity=10, unit_price="100.00"),
    dict(order_id="H2", product_id="Y", quantity=10, unit_price="60.00"),
    dict(order_id="H3", product_id="Y", quantity=1, unit_price="20.00"),
    dict(order_id="H4", product_id="Y", quantity=1, unit_price="20.00"),
    dict(order_id="H5", product_id="Y", quantity=1, unit_price="20.00"),
    dict(order_id="H6", product_id="Y", quantity=6, unit_price="100.00"),
    dict(order_id="H7", product_id="Y", quantity=1, unit_price="20.00"),
    dict(order_id="H8", product_id="Y", quantity=1, unit_price="50.00"),
]
FLAGS = [
    "is_high_value", "is_order_burst", "is_high_value_refund", "is_large_discount",
    "is_new_account_high_value", "is_low_margin_high_value",
]  # fmt: skip


@pytest.fixture(scope="module")
def risk_tables(spark):
    return dict(
        stg_orders=orders_df(spark, RISK_ORDERS),
        int_customer_orders=int_customer_orders_df(spark, RISK_ORDERS, RISK_ITEMS),
        stg_order_items=items_df(spark, RISK_ITEMS),
        stg_products=make_df(
            spark,
            STG_PRODUCTS,
            [dict(product_id="X", cost_price="90.00"), dict(product_id="Y", cost_price="10.00")],
        ),
        stg_customers=make_df(
            spark,
            STG_CUSTOMERS,
            [
                dict(customer_id="R1", customer_created_at="2024-02-01"),
                dict(customer_id="R2", customer_created_at="2023-01-01"),
                dict(customer_id="R3", customer_created_at="2024-02-09"),
            ],
        ),
    )


def test_high_risk_orders_with_fixed_threshold(risk_tables):
    flagged = rows_by(fct_high_risk_orders(**risk_tables, high_value_threshold=500), "order_id")
    raised = {order: [f for f in FLAGS if row[f]] for order, row in flagged.items()}
    assert raised == {
        "H1": ["is_high_value", "is_low_margin_high_value"],
        "H2": ["is_high_value", "is_high_value_refund"],
        "H3": ["is_order_burst"],
        "H4": ["is_order_burst"],
        "H5": ["is_order_burst"],
        "H6": ["is_high_value", "is_large_discount", "is_new_account_high_value"],
    }
    assert flagged["H1"]["risk_reasons"] == [
        "high value: order_total 1000.00 > threshold 500.00",
        "low margin on a high-value order: ratio 0.100",
    ]
    assert flagged["H6"]["risk_reasons"][1:] == [
        "large discount: 400.00 on a subtotal of 600.00",
        "new account: first order of 600.00 within 1 day(s) of sign-up",
    ]
    assert flagged["H3"]["risk_reasons"] == ["order burst: 3 orders by the customer that day"]
    assert flagged["H1"]["margin_ratio"] == pytest.approx(0.1)
    assert flagged["H6"]["order_total"] == Decimal("600.00")
    assert flagged["H6"]["risk_flag_count"] == 3


def test_high_risk_orders_with_p99_threshold(risk_tables):
    # Completed totals 20, 20, 20, 50, 600, 1000: p99 = 600 + 0.95 * 400 = 980.
    flagged = rows_by(fct_high_risk_orders(**risk_tables), "order_id")
    assert {o for o, r in flagged.items() if r["is_high_value"]} == {"H1"}
    assert flagged["H1"]["risk_reasons"][0] == (
        "high value: order_total 1000.00 > threshold 980.00"
    )
    assert set(flagged) == {"H1", "H3", "H4", "H5", "H6"}  # H6: discount, not value
