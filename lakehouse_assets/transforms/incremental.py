"""Which order dates a landing day touches, for the gold tables merged per landing date.

A landing day carries new orders and status changes of older ones, and order items of its
orders; every order date they belong to must be recomputed, and nothing else.
"""

from pyspark.sql import DataFrame


def touched_orders(
    orders_landed: DataFrame, items_landed: DataFrame, stg_orders: DataFrame
) -> DataFrame:
    """order_id, customer_id, order_date of the orders whose order or items landed in the window."""
    via_items = stg_orders.join(
        items_landed.select("order_id").distinct(), "order_id", "left_semi"
    )
    return (
        orders_landed.select("order_id", "customer_id", "order_date")
        .unionByName(via_items.select("order_id", "customer_id", "order_date"))
        .distinct()
    )


def orders_on_touched_dates(
    touched: DataFrame, stg_orders: DataFrame, stg_order_items: DataFrame
) -> tuple[DataFrame, DataFrame]:
    """All silver orders and items on the touched order dates (the inputs to recompute them)."""
    dates = touched.select("order_date").distinct()
    orders = stg_orders.join(dates, "order_date", "left_semi")
    items = stg_order_items.join(orders.select("order_id"), "order_id", "left_semi")
    return orders, items
