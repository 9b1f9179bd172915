"""Sales marts on a tiny hand-computed shop (real Spark through the session fixture).

The input builders (contract schemas, ``make_df``, ``shop``) are shared with test_marts.py.

The shop (all in January 2024; 1st = Monday):
  O1 C1 01-01 completed ship 5.00: P1 2 x 3.00 = 6.00, P2 1 x 4.00 = 4.00  -> total 15.00
  O2 C2 01-01 completed ship 0.00: P1 1 x 3.00 = 3.00, P3 4 x 1.00 = 4.00  -> total  7.00
  O3 C1 01-03 completed ship 2.50: P1 1 x 3.00 twice (two lines)          -> total  8.50
  O4 C3 01-02 cancelled:           P2 3 x 4.00 (the 2nd has only this order)
  O5 C1 01-03 completed ship 0.00: P1 5 x 2.00 = 10.00, P9 1 x 1.50 (P9 unknown) -> 11.50
  O6 C2 01-10 returned:            P2 1 x 4.00
Products: P1 Fruit/Grocery cost 1.00, P2 Bakery/Grocery cost 2.00, P3 Office/no department
cost 0.50; P9 is not in stg_products.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lakehouse_assets.transforms.intermediate import customer_summary
from lakehouse_assets.transforms.sales import (
    daily_sales_columns,
    fct_daily_sales,
    fct_department_analytics,
    fct_product_pairs,
    fct_product_reorders,
    fct_user_daily_spend,
)

# Contract schemas (docs/contracts.md) and the intermediate int_customer_orders / dim.
STG_CUSTOMERS = (
    "customer_id string, email string, first_name string, last_name string, country string, "
    "customer_created_at date, phone string, city string, age int, is_valid_email boolean, "
    "_landing_date date"
)
STG_PRODUCTS = (
    "product_id string, product_name string, category string, department string, "
    "supplier_id string, stock_level int, reorder_point int, cost_price decimal(10,2), "
    "list_price decimal(10,2), profit_margin decimal(10,2), profit_margin_pct decimal(5,2), "
    "_landing_date date"
)
STG_ORDERS = (
    "order_id string, customer_id string, order_date date, order_status string, "
    "shipping_cost decimal(10,2), order_year int, order_month int, order_quarter int, "
    "order_day_of_week string, is_completed boolean, payment_method string, "
    "payment_status string, currency string, tax_amount decimal(10,2), "
    "discount_amount decimal(10,2), _landing_date date"
)
STG_ORDER_ITEMS = (
    "order_item_id string, order_id string, product_id string, quantity int, "
    "unit_price decimal(10,2), line_total decimal(10,2), _landing_date date"
)
INT_CUSTOMER_ORDERS = (
    "order_id string, customer_id string, order_date date, shipping_cost decimal(10,2), "
    "order_subtotal decimal(20,2), order_total decimal(21,2), items_count long"
)
DIM_CUSTOMER_SEGMENTS = (
    "customer_id string, email string, first_name string, last_name string, "
    "customer_segment string, recency_score int, frequency_score int, monetary_score int, "
    "rfm_total_score int, monetary_value decimal(21,2), total_orders long, "
    "avg_order_value decimal(25,6), predicted_clv_12m decimal(25,2), churn_risk string, "
    "recommended_action string"
)


def _convert(value, type_name: str):
    if value is None:
        return None
    if type_name.startswith("decimal"):
        return Decimal(str(value))
    if type_name == "date":
        return dt.date.fromisoformat(value) if isinstance(value, str) else value
    return value


def make_df(spark, ddl: str, rows: list[dict]):
    """A DataFrame with the full ``ddl`` schema; columns a row leaves out are null.
    Dates may be ISO strings and decimals strings or numbers."""
    fields = [field.split() for field in ddl.split(", ")]
    unknown = {key for row in rows for key in row} - {name for name, _ in fields}
    assert not unknown, f"not in the schema: {unknown}"
    data = [tuple(_convert(row.get(name), type_name) for name, type_name in fields) for row in rows]
    return spark.createDataFrame(data, ddl)


def orders_df(spark, rows: list[dict]):
    """stg_orders; is_completed derives from order_status as in silver."""
    rows = [{"is_completed": row.get("order_status") == "completed", **row} for row in rows]
    return make_df(spark, STG_ORDERS, rows)


def items_df(spark, rows: list[dict]):
    """stg_order_items; line_total = quantity * unit_price as in silver."""
    rows = [
        {
            "order_item_id": f"{row['order_id']}-{i}",
            "line_total": Decimal(str(row["unit_price"])) * row["quantity"],
            **row,
        }
        for i, row in enumerate(rows)
    ]
    return make_df(spark, STG_ORDER_ITEMS, rows)


def int_customer_orders_df(spark, order_rows: list[dict], item_rows: list[dict]):
    """int_customer_orders as the colleague's contract defines it: completed orders only,
    order_total = subtotal of line totals + shipping."""
    rows = []
    for order in order_rows:
        if order.get("order_status") != "completed":
            continue
        lines = [i for i in item_rows if i["order_id"] == order["order_id"]]
        subtotal = sum((Decimal(str(i["unit_price"])) * i["quantity"] for i in lines), Decimal(0))
        shipping = Decimal(str(order.get("shipping_cost") or 0))
        rows.append(
            {
                "order_id": order["order_id"],
                "customer_id": order["customer_id"],
                "order_date": order["order_date"],
                "shipping_cost": shipping,
                "order_subtotal": subtotal,
                "order_total": subtotal + shipping,
                "items_count": len(lines),
            }
        )
    return make_df(spark, INT_CUSTOMER_ORDERS, rows)


SHOP_ORDERS = [
    dict(order_id="O1", customer_id="C1", order_date="2024-01-01", order_status="completed",
         shipping_cost="5.00", payment_method="credit_card", payment_status="paid",
         tax_amount="1.00", discount_amount="2.00"),
    dict(order_id="O2", customer_id="C2", order_date="2024-01-01", order_status="completed",
         shipping_cost="0.00", payment_method="paypal", payment_status="paid",
         tax_amount="0.70", discount_amount="0.00"),
    dict(order_id="O3", customer_id="C1", order_date="2024-01-03", order_status="completed",
         shipping_cost="2.50", payment_method="credit_card", payment_status="refunded",
         tax_amount="0.60", discount_amount="0.00"),
    dict(order_id="O4", customer_id="C3", order_date="2024-01-02", order_status="cancelled",
         shipping_cost="1.00", payment_method="credit_card", payment_status="voided",
         tax_amount="1.20", discount_amount="0.00"),
    dict(order_id="O5", customer_id="C1", order_date="2024-01-03", order_status="completed",
         shipping_cost="0.00"),
    dict(order_id="O6", customer_id="C2", order_date="2024-01-10", order_status="returned",
         shipping_cost="0.00", payment_method="credit_card", payment_status="paid",
         tax_amount="0.40", discount_amount="0.00"),
]  # fmt: skip
SHOP_ITEMS = [
    dict(order_id="O1", product_id="P1", quantity=2, unit_price="3.00"),
    dict(order_id="O1", product_id="P2", quantity=1, unit_price="4.00"),
    dict(order_id="O2", product_id="P1", quantity=1, unit_price="3.00"),
    dict(order_id="O2", product_id="P3", quantity=4, unit_price="1.00"),
    dict(order_id="O3", product_id="P1", quantity=1, unit_price="3.00"),
    dict(order_id="O3", product_id="P1", quantity=1, unit_price="3.00"),
    dict(order_id="O4", product_id="P2", quantity=3, unit_price="4.00"),
    dict(order_id="O5", product_id="P1", quantity=5, unit_price="2.00"),
    dict(order_id="O5", product_id="P9", quantity=1, unit_price="1.50"),
    dict(order_id="O6", product_id="P2", quantity=1, unit_price="4.00"),
]
SHOP_PRODUCTS = [
    dict(product_id="P1", product_name="Apple", category="Fruit", department="Grocery",
         cost_price="1.00", list_price="3.00"),
    dict(product_id="P2", product_name="Bread", category="Bakery", department="Grocery",
         cost_price="2.00", list_price="4.00"),
    dict(product_id="P3", product_name="Pen", category="Office", department=None,
         cost_price="0.50", list_price="1.00"),
]  # fmt: skip


def shop(spark) -> dict:
    """The shop's inputs by table name."""
    return {
        "stg_orders": orders_df(spark, SHOP_ORDERS),
        "stg_order_items": items_df(spark, SHOP_ITEMS),
        "stg_products": make_df(spark, STG_PRODUCTS, SHOP_PRODUCTS),
        "int_customer_orders": int_customer_orders_df(spark, SHOP_ORDERS, SHOP_ITEMS),
        "int_customer_summary": customer_summary(
            int_customer_orders_df(spark, SHOP_ORDERS, SHOP_ITEMS)
        ),
    }


def rows_by(df, key: str) -> dict:
    return {row[key]: row.asDict() for row in df.collect()}


@pytest.fixture(scope="module")
def tables(spark):
    return shop(spark)


def test_daily_sales_over_completed_orders(tables):
    daily = fct_daily_sales(tables["int_customer_orders"], tables["stg_order_items"])
    assert daily.columns == [
        "order_date", "order_count", "total_sales", "avg_order_value", "units_sold",
        "items_per_order", "unique_customers", "day_of_week", "month", "year",
    ]  # fmt: skip
    # 01-02 had only a cancelled order and 01-10 only a return: no row.
    assert rows_by(daily, "order_date") == {
        dt.date(2024, 1, 1): dict(
            order_date=dt.date(2024, 1, 1), order_count=2, total_sales=Decimal("22.00"),
            avg_order_value=Decimal("11.00"), units_sold=8, items_per_order=4.0,
            unique_customers=2, day_of_week=2, month=1, year=2024,
        ),
        dt.date(2024, 1, 3): dict(
            order_date=dt.date(2024, 1, 3), order_count=2, total_sales=Decimal("20.00"),
            avg_order_value=Decimal("10.00"), units_sold=8, items_per_order=4.0,
            unique_customers=1, day_of_week=4, month=1, year=2024,
        ),
    }  # fmt: skip


def test_a_date_without_completed_orders_gets_zeros_and_null_averages(spark, tables):
    # What the incremental step writes for a date whose only order was cancelled since.
    daily = daily_sales_columns(spark.createDataFrame(
        [(dt.date(2024, 1, 2), None, None, None, None)],
        "order_date date, order_count long, total_sales decimal(18,2), units_sold long, "
        "unique_customers long",
    ))
    assert rows_by(daily, "order_date")[dt.date(2024, 1, 2)] == dict(
        order_date=dt.date(2024, 1, 2), order_count=0, total_sales=Decimal("0.00"),
        avg_order_value=None, units_sold=0, items_per_order=None, unique_customers=0,
        day_of_week=3, month=1, year=2024,
    )  # fmt: skip
    full = fct_daily_sales(tables["int_customer_orders"], tables["stg_order_items"])
    assert daily.schema == full.schema  # the incremental rows fit the full table


def test_product_reorders(tables):
    products = rows_by(
        fct_product_reorders(
            tables["stg_orders"], tables["stg_order_items"], tables["stg_products"]
        ),
        "product_id",
    )
    # P1, C1: O1 (01-01), then O3 and O5 (both 01-03; O3 < O5 by order_id) -> the two O3
    # lines and the O5 line are reorders; C2's single P1 line is not: 3 of 5 lines.
    # Gaps of C1: O1 -> O3 = 2 days, O3 -> O5 = 0 days; mean 1.0.
    assert products["P1"] == dict(
        product_id="P1", product_name="Apple", category="Fruit", department="Grocery",
        total_quantity=10, total_sales=Decimal("25.00"), order_count=4,
        reorder_rate=pytest.approx(0.6), avg_days_between_orders=1.0,
    )  # fmt: skip
    # P2: the cancelled O4 and returned O6 do not count.
    assert products["P2"] == dict(
        product_id="P2", product_name="Bread", category="Bakery", department="Grocery",
        total_quantity=1, total_sales=Decimal("4.00"), order_count=1, reorder_rate=0.0,
        avg_days_between_orders=None,
    )  # fmt: skip
    assert products["P3"]["department"] == "Office"  # no department: its category
    assert products["P9"]["department"] == "Unknown"  # not in stg_products
    assert products["P9"]["product_name"] is None
    assert set(products) == {"P1", "P2", "P3", "P9"}


def test_department_analytics(tables):
    departments = rows_by(
        fct_department_analytics(
            tables["stg_orders"], tables["stg_order_items"], tables["stg_products"]
        ),
        "department",
    )
    assert departments == {
        "Grocery": dict(department="Grocery", total_sales=Decimal("29.00"), product_count=2,
                        customer_count=2, order_count=4, avg_order_value=Decimal("7.25")),
        "Office": dict(department="Office", total_sales=Decimal("4.00"), product_count=1,
                       customer_count=1, order_count=1, avg_order_value=Decimal("4.00")),
        "Unknown": dict(department="Unknown", total_sales=Decimal("1.50"), product_count=1,
                        customer_count=1, order_count=1, avg_order_value=Decimal("1.50")),
    }  # fmt: skip


def test_user_daily_spend(tables):
    spend = {
        (r["customer_id"], r["order_date"].day): (r["total_spend"], r["order_count"])
        for r in fct_user_daily_spend(tables["int_customer_orders"]).collect()
    }
    assert spend == {
        ("C1", 1): (Decimal("15.00"), 1),
        ("C2", 1): (Decimal("7.00"), 1),
        ("C1", 3): (Decimal("20.00"), 2),
    }


def test_product_pairs(spark):
    # Completed baskets: 1-5 {A, B} (order 1 lists A twice), 6-9 {A, C}, 10 {B, C}, 11 {D};
    # order 12 {A, B} is cancelled. 11 completed orders with items; with A: 9, B: 6, C: 5.
    baskets = {str(n): ["A", "B"] for n in range(1, 6)}
    baskets.update({str(n): ["A", "C"] for n in range(6, 10)})
    baskets.update({"1": ["A", "A", "B"], "10": ["B", "C"], "11": ["D"], "12": ["A", "B"]})
    orders = orders_df(
        spark,
        [
            dict(order_id=o, customer_id="C", order_date="2024-01-01",
                 order_status="cancelled" if o == "12" else "completed")
            for o in baskets
        ],
    )  # fmt: skip
    items = items_df(
        spark,
        [
            dict(order_id=order, product_id=product, quantity=1, unit_price=1)
            for order, products in baskets.items()
            for product in products
        ],
    )
    # The default threshold 5 keeps A-B (exactly 5 orders) and drops A-C (4) and B-C (1).
    pairs = fct_product_pairs(orders, items).collect()
    assert [row.asDict() for row in pairs] == [
        dict(
            product_a="A",
            product_b="B",
            co_purchase_count=5,
            support=pytest.approx(5 / 11),
            confidence_a_to_b=pytest.approx(5 / 9),
            confidence_b_to_a=pytest.approx(5 / 6),
            lift=pytest.approx((5 / 11) / ((9 / 11) * (6 / 11))),
        )
    ]
