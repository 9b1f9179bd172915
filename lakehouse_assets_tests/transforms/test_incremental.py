"""The tables merged per landing day, maintained by difference (real Spark, no Dagster).

The shop of test_sales.py is the state the tables were last computed from. A day then lands:
O1's order date is fixed (01-01 -> 01-02), O3 (C1, 01-03) is cancelled, O4 (C3, 01-02, so far
cancelled) completes, O2's pen line drops from 4 to 2 units, and a new customer C4 places O7
on 01-03 (2 x 3.00 + 1.00 shipping = 7.00). Product P2 changes category and cost: its returned
O6 (01-10), which the day does not touch, changes in the finance mart.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lakehouse_assets.resources.delta_io_manager import MergePlan
from lakehouse_assets.tables import table_spec
from lakehouse_assets.transforms import incremental, marts
from lakehouse_assets.transforms.incremental import SilverOrders
from lakehouse_assets_tests.transforms.test_sales import (
    SHOP_ITEMS,
    SHOP_ORDERS,
    SHOP_PRODUCTS,
    STG_PRODUCTS,
    items_df,
    make_df,
    orders_df,
)

FIXED = {"O1": {"order_date": "2024-01-02"}, "O3": {"order_status": "cancelled"},
         "O4": {"order_status": "completed"}}
NEW_ORDER = dict(order_id="O7", customer_id="C4", order_date="2024-01-03",
                 order_status="completed", shipping_cost="1.00")
DAY_ORDERS = [{**o, **FIXED[o["order_id"]]} for o in SHOP_ORDERS if o["order_id"] in FIXED]
# Same positions (order_item_id is the position): O2's pen line replaced in place.
DAY_ITEMS = [
    {**item, "quantity": 2} if (item["order_id"], item["product_id"]) == ("O2", "P3") else item
    for item in SHOP_ITEMS
] + [dict(order_id="O7", product_id="P1", quantity=2, unit_price="3.00")]
DAY_PRODUCTS = [
    {**p, "category": "Breads", "cost_price": "2.50"} if p["product_id"] == "P2" else p
    for p in SHOP_PRODUCTS
]


def _state(spark, orders, items, landed_orders=(), landed_items=(), products=SHOP_PRODUCTS):
    return SilverOrders(
        orders_df(spark, orders), items_df(spark, items),
        orders_df(spark, list(landed_orders)), items_df(spark, list(landed_items)),
        make_df(spark, STG_PRODUCTS, products),
    )  # fmt: skip


def _tables(touched, now, before=None, stored=None) -> dict:
    """The four tables for the touched keys, as the step computes them."""
    stored = stored or {}
    ids = touched.where("order_id IS NOT NULL").select("order_id").distinct()
    change = incremental.changes(now, before)

    def distinct(*columns):
        return touched.select(*columns).dropna().distinct()

    spend = incremental.user_daily_spend(
        distinct("customer_id", "order_date"), stored.get("fct_user_daily_spend"), change
    )
    return {
        "int_customer_orders": incremental.customer_orders(ids, now),
        "int_customer_summary": incremental.customer_summary(
            distinct("customer_id"), stored.get("int_customer_orders"), ids, now
        ),
        "fct_daily_sales": incremental.daily_sales(
            distinct("order_date"), stored.get("fct_daily_sales"), change, spend
        ),
        "fct_user_daily_spend": spend.drop("had_orders"),
    }


def _rows(df) -> set:
    return {tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in df.collect()}


@pytest.fixture(scope="module")
def day(spark):
    previous = _state(spark, SHOP_ORDERS, SHOP_ITEMS)
    orders = [next((d for d in DAY_ORDERS if d["order_id"] == o["order_id"]), o)
              for o in SHOP_ORDERS] + [NEW_ORDER]
    landed_items = [i for i in DAY_ITEMS if i["order_id"] in ("O2", "O7")]
    current = _state(
        spark, orders, DAY_ITEMS, DAY_ORDERS + [NEW_ORDER], landed_items, DAY_PRODUCTS
    )
    # What the last computation stored: every table from nothing over the shop.
    everything = previous.orders.select(*incremental.TOUCHED_COLUMNS)
    stored = _tables(everything, incremental.order_contributions(previous))
    touched = incremental.touched_orders(current, previous)
    ids = touched.select("order_id").distinct()
    by_difference = _tables(
        touched,
        incremental.order_contributions(current, ids),
        incremental.order_contributions(previous, ids),
        stored,
    )
    # The same keys computed from nothing over every order as they are now.
    recomputed = _tables(touched, incremental.order_contributions(current))
    recomputed["int_customer_orders"] = recomputed["int_customer_orders"].join(
        ids, "order_id", "left_semi"
    )  # from nothing, every order is new: only the touched ones are compared
    finance = {"stored": _finance(previous), "recomputed": _finance(current)}
    finance["dates"] = incremental.finance_dates(touched, current, previous)
    finance["written"] = incremental.finance_daily(finance["dates"], current, finance["stored"])
    return touched, by_difference, recomputed, finance


def _finance(state: SilverOrders):
    return marts.fct_finance_daily(state.orders, state.items, state.products)


def test_the_day_touches_its_orders_and_where_they_were(day):
    touched, *_ = day
    assert {r["order_id"] for r in touched.collect()} == {"O1", "O2", "O3", "O4", "O7"}
    # O1 now on 01-02, and before on 01-01: both pairs are touched.
    assert {("C1", "2024-01-01"), ("C1", "2024-01-02")} <= {
        (r["customer_id"], r["order_date"].isoformat()) for r in touched.collect()
    }


@pytest.mark.parametrize(
    "table", ["int_customer_orders", "int_customer_summary", "fct_daily_sales",
              "fct_user_daily_spend"],
)  # fmt: skip
def test_stored_plus_the_difference_equals_a_recomputation(day, table):
    _, by_difference, recomputed, _ = day
    assert by_difference[table].schema == recomputed[table].schema
    assert _rows(by_difference[table]) == _rows(recomputed[table])


def test_daily_sales_and_spend_by_hand(day):
    _, by_difference, *_ = day
    daily = {r["order_date"].day: r for r in by_difference["fct_daily_sales"].collect()}
    # 01-01: O2 only (O1 moved away): 3.00 + 2 x 1.00 = 5.00, 3 units, C2.
    # 01-02: O1 (15.00, 3 units, C1) and O4 (3 x 4.00 + 1.00 = 13.00, 3 units, C3).
    # 01-03: O5 (11.50, 6 units, C1) and O7 (7.00, 2 units, C4); O3 cancelled.
    assert {d: (r["order_count"], r["total_sales"], r["units_sold"], r["unique_customers"])
            for d, r in daily.items()} == {
        1: (1, Decimal("5.00"), 3, 1),
        2: (2, Decimal("28.00"), 6, 2),
        3: (2, Decimal("18.50"), 8, 2),
    }  # fmt: skip
    assert daily[2]["avg_order_value"] == Decimal("14.00")
    spend = {(r["customer_id"], r["order_date"].day): (r["total_spend"], r["order_count"])
             for r in by_difference["fct_user_daily_spend"].collect()}
    # C1's only 01-01 order moved away: its pair keeps a row of zeros.
    assert spend[("C1", 1)] == (Decimal("0.00"), 0)
    assert spend[("C1", 3)] == (Decimal("11.50"), 1)
    assert spend[("C4", 3)] == (Decimal("7.00"), 1)
    summary = {r["customer_id"]: r for r in by_difference["int_customer_summary"].collect()}
    assert (summary["C1"]["order_count"], summary["C1"]["total_spend"]) == (2, Decimal("26.50"))
    assert summary["C1"]["first_order_date"] == dt.date(2024, 1, 2)
    gone = {r["order_id"] for r in by_difference["int_customer_orders"].collect()
            if r["customer_id"] is None}
    assert gone == {"O3"}  # no longer completed: its row is removed


def test_finance_rows_of_the_touched_dates_merged_equal_a_recomputation(day):
    *_, finance = day
    # 01-01..01-03 through the touched orders; 01-10 only through O6's line of P2.
    assert sorted(r["order_date"].day for r in finance["dates"].collect()) == [1, 2, 3, 10]
    spec = table_spec("gold.fct_finance_daily")
    plan = MergePlan.from_metadata(spec.name, spec.write_metadata, None, None)
    merged = plan.after_merge(finance["stored"], finance["written"])
    assert _rows(merged) == _rows(finance["recomputed"])
    # Bread left Bakery: the stored Bakery rows of its dates are removed, not left behind.
    assert not [r for r in merged.collect() if r["category"] == "Bakery"]
