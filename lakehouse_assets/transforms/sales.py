"""Gold sales marts as plain DataFrame -> DataFrame functions (no table I/O, no wall clock).

- ``fct_daily_sales``: sales per order date.
- ``fct_product_reorders``: product performance with reorder rate and days between orders.
- ``fct_department_analytics``: sales by department.
- ``fct_product_pairs``: co-purchase pairs with support, confidence and lift.
- ``fct_user_daily_spend``: spend per customer and order date, from orders.

Every rule, with its edge cases, is stated in docs/business-rules.md.

The shared helpers (``money``, ``order_lines``, ``customer_order_summary``) are also used by
:mod:`lakehouse_assets.transforms.marts`; ``analysis_date`` comes from the intermediate layer.

Inputs follow docs/contracts.md (silver ``stg_*``) plus the intermediate ``int_customer_orders``
(one row per completed order). "Completed" always means ``stg_orders.is_completed``.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

# The as-of date of every gold table: the latest completed order date, never the wall clock.
from lakehouse_assets.transforms.intermediate import analysis_date

# Every money column of the gold layer: cents, wide enough for any realistic sum, and one
# fixed type so that incremental rewrites never change a table's schema.
MONEY = DecimalType(18, 2)

# Order selections for ``order_lines`` (SQL predicates over stg_orders' columns).
COMPLETED_ORDERS = "is_completed"
COMPLETED_OR_RETURNED_ORDERS = "is_completed OR lower(order_status) = 'returned'"
ALL_ORDERS = "true"

_ORDER_COLUMNS = [
    "order_id",
    "customer_id",
    "order_date",
    "order_status",
    "payment_method",
    "payment_status",
    "shipping_cost",
    "tax_amount",
    "discount_amount",
]

# The product columns an order line carries (``order_lines``).
PRODUCT_COLUMNS = ("product_id", "product_name", "category", "department", "cost_price")


def money(amount: Column | str) -> Column:
    """``amount`` rounded half-up to cents, as ``MONEY``."""
    return F.round(amount, 2).cast(MONEY)


def department_or_category() -> Column:
    """The department of a line; products without one fall back to their category."""
    return F.coalesce(F.col("department"), F.col("category"), F.lit("Unknown"))


def order_lines(
    stg_orders: DataFrame,
    stg_order_items: DataFrame,
    stg_products: DataFrame | None = None,
    *,
    orders_where: str = COMPLETED_ORDERS,
) -> DataFrame:
    """Order items of the selected orders, each with its order's columns.

    Columns: order_item_id, product_id, quantity, unit_price, line_total, then the order's
    order_id, customer_id, order_date, order_status, payment_method, payment_status,
    shipping_cost, tax_amount, discount_amount; with ``stg_products`` also product_name,
    category, department (``department_or_category``: never null) and cost_price (product
    columns null when the product is unknown). Items of unselected orders are dropped.
    """
    orders = stg_orders.where(F.expr(orders_where)).select(*_ORDER_COLUMNS)
    lines = stg_order_items.select(
        "order_item_id", "order_id", "product_id", "quantity", "unit_price", "line_total"
    ).join(orders, "order_id")
    if stg_products is None:
        return lines
    products = stg_products.select(*PRODUCT_COLUMNS)
    return lines.join(products, "product_id", "left").withColumn(
        "department", department_or_category()
    )


def customer_order_summary(int_customer_summary: DataFrame) -> DataFrame:
    """Per customer with completed orders: the building block of every customer mart.

    Columns: customer_id, total_spend (unrounded decimal sum of order_total), order_count,
    avg_order_value (total_spend / order_count, unrounded), first_order_date,
    last_order_date, active_months (distinct calendar months with an order), analysis_date.
    """
    return (
        int_customer_summary.select(
            "customer_id", "total_spend", "order_count", "first_order_date", "last_order_date",
            "active_months",
        )
        # Divided here, not the summary's stored AVG: the marts keep the scale and rounding of
        # total_spend / order_count that they have always published.
        .withColumn("avg_order_value", F.try_divide("total_spend", "order_count"))
        .crossJoin(analysis_date(int_customer_summary, "last_order_date"))
    )


def fct_daily_sales(int_customer_orders: DataFrame, stg_order_items: DataFrame) -> DataFrame:
    """One row per order date with completed orders.

    Columns: order_date, order_count, total_sales (sum of order_total, shipping included),
    avg_order_value (total_sales / order_count), units_sold (sum of item quantities),
    items_per_order (units_sold / order_count, double), unique_customers, day_of_week
    (Spark dayofweek: 1 = Sunday .. 7 = Saturday), month, year.
    """
    units_per_order = stg_order_items.groupBy("order_id").agg(F.sum("quantity").alias("units"))
    daily = (
        int_customer_orders.join(units_per_order, "order_id", "left")
        .groupBy("order_date")
        .agg(
            F.count("order_id").alias("order_count"),
            F.sum("order_total").alias("total_sales"),
            F.sum("units").alias("units_sold"),
            F.countDistinct("customer_id").alias("unique_customers"),
        )
    )
    return daily_sales_columns(daily)


def daily_sales_columns(daily: DataFrame) -> DataFrame:
    """``fct_daily_sales``'s columns from per-date order_count, total_sales, units_sold and
    unique_customers, a null read as 0: a date without completed orders (its only order was
    cancelled since) gets zeros and null averages, so that its stale row is overwritten."""
    order_count = F.coalesce(F.col("order_count"), F.lit(0))
    units_sold = F.coalesce(F.col("units_sold"), F.lit(0))
    return daily.select(
        "order_date",
        order_count.cast("long").alias("order_count"),
        money(F.coalesce(F.col("total_sales"), F.lit(0))).alias("total_sales"),
        # try_divide: null, not an ANSI error, on a zero-order date.
        money(F.try_divide(F.col("total_sales"), order_count)).alias("avg_order_value"),
        units_sold.cast("long").alias("units_sold"),
        F.try_divide(units_sold.cast("double"), order_count).alias("items_per_order"),
        F.coalesce(F.col("unique_customers"), F.lit(0)).cast("long").alias("unique_customers"),
        F.dayofweek("order_date").alias("day_of_week"),
        F.month("order_date").alias("month"),
        F.year("order_date").alias("year"),
    )


def fct_product_reorders(
    stg_orders: DataFrame, stg_order_items: DataFrame, stg_products: DataFrame
) -> DataFrame:
    """Product performance with reorder behaviour, one row per product sold.

    Columns: product_id, product_name, category, department (department, else category),
    total_quantity, total_sales (sum of line_total), order_count (distinct completed orders),
    reorder_rate, avg_days_between_orders.

    Definitions:
    - A customer's purchases of a product are ordered by (order_date, order_id); a completed
      order line is a *reorder* when the same customer bought the same product in an earlier
      purchase in that order. Two lines of one product in one order are the same purchase, so
      neither is a reorder by the other. ``reorder_rate`` = reorder lines / all lines of the
      product. Lines without a customer_id are never reorders.
    - ``avg_days_between_orders``: the mean, over all customers' consecutive purchase pairs of
      the product, of the gap in days (a same-day repurchase counts as 0); null when no
      customer bought the product twice.
    """
    lines = order_lines(stg_orders, stg_order_items, stg_products)
    purchases_of_product = Window.partitionBy("customer_id", "product_id").orderBy(
        "order_date", "order_id"
    )
    lines = lines.withColumn(
        "is_reorder",
        F.col("customer_id").isNotNull() & (F.dense_rank().over(purchases_of_product) > 1),
    )

    purchases = (
        lines.where(F.col("customer_id").isNotNull())
        .select("customer_id", "product_id", "order_id", "order_date")
        .distinct()
    )
    gaps = (
        purchases.withColumn(
            "days_since_previous_purchase",
            F.datediff("order_date", F.lag("order_date").over(purchases_of_product)),
        )
        .groupBy("product_id")
        .agg(F.avg("days_since_previous_purchase").alias("avg_days_between_orders"))
    )

    return (
        lines.groupBy("product_id", "product_name", "category", "department")
        .agg(
            F.sum("quantity").alias("total_quantity"),
            money(F.sum("line_total")).alias("total_sales"),
            F.countDistinct("order_id").alias("order_count"),
            F.avg(F.col("is_reorder").cast("double")).alias("reorder_rate"),
        )
        .join(gaps, "product_id", "left")
        .select(
            "product_id",
            "product_name",
            "category",
            "department",
            "total_quantity",
            "total_sales",
            "order_count",
            "reorder_rate",
            "avg_days_between_orders",
        )
    )


def fct_department_analytics(
    stg_orders: DataFrame, stg_order_items: DataFrame, stg_products: DataFrame
) -> DataFrame:
    """Completed-order item sales by department, category when none.

    Columns: department, total_sales (sum of line_total: item sales, no shipping, which
    belongs to the order rather than to a department), product_count (distinct products
    sold), customer_count, order_count (distinct orders containing the department),
    avg_order_value (total_sales / order_count). Items of products missing from
    stg_products fall under 'Unknown'.
    """
    return (
        order_lines(stg_orders, stg_order_items, stg_products)
        .groupBy("department")
        .agg(
            F.sum("line_total").alias("total_sales"),
            F.countDistinct("product_id").alias("product_count"),
            F.countDistinct("customer_id").alias("customer_count"),
            F.countDistinct("order_id").alias("order_count"),
        )
        .select(
            "department",
            money("total_sales").alias("total_sales"),
            "product_count",
            "customer_count",
            "order_count",
            money(F.try_divide("total_sales", "order_count")).alias("avg_order_value"),
        )
    )


def fct_product_pairs(
    stg_orders: DataFrame, stg_order_items: DataFrame, min_count: int = 5
) -> DataFrame:
    """Products bought together in completed orders.

    Columns: product_a, product_b (product_a < product_b), co_purchase_count (distinct
    orders with both), support (pair orders / completed orders with items),
    confidence_a_to_b (pair orders / orders with a), confidence_b_to_a, lift
    (support / (support_a * support_b)). Only pairs with co_purchase_count >= min_count
    (default 5).

    Baskets are deduplicated to (order, product) before the self-join, so an order with the
    same product on several lines neither inflates the counts nor the join.
    """
    baskets = (
        order_lines(stg_orders, stg_order_items)
        .where(F.col("product_id").isNotNull())
        .select("order_id", "product_id")
        .distinct()
    )
    order_total = baskets.agg(F.countDistinct("order_id").alias("orders_with_items"))
    orders_per_product = baskets.groupBy("product_id").agg(F.count("*").alias("orders"))

    side_a = baskets.withColumnRenamed("product_id", "product_a")
    side_b = baskets.withColumnRenamed("product_id", "product_b")
    pairs = (
        side_a.join(side_b, "order_id")
        .where(F.col("product_a") < F.col("product_b"))
        .groupBy("product_a", "product_b")
        .agg(F.count("*").alias("co_purchase_count"))
        .where(F.col("co_purchase_count") >= min_count)
    )

    orders_a = orders_per_product.select(
        F.col("product_id").alias("product_a"), F.col("orders").alias("orders_a")
    )
    orders_b = orders_per_product.select(
        F.col("product_id").alias("product_b"), F.col("orders").alias("orders_b")
    )
    pair_count = F.col("co_purchase_count").cast("double")
    return (
        pairs.join(orders_a, "product_a")
        .join(orders_b, "product_b")
        .crossJoin(order_total)
        .select(
            "product_a",
            "product_b",
            "co_purchase_count",
            F.try_divide(pair_count, "orders_with_items").alias("support"),
            F.try_divide(pair_count, "orders_a").alias("confidence_a_to_b"),
            F.try_divide(pair_count, "orders_b").alias("confidence_b_to_a"),
            # support / (support_a * support_b), with the counts' common denominator cancelled.
            F.try_divide(
                pair_count * F.col("orders_with_items"), F.col("orders_a") * F.col("orders_b")
            ).alias("lift"),
        )
    )


def fct_user_daily_spend(int_customer_orders: DataFrame) -> DataFrame:
    """Per-customer daily spend, over completed orders.

    Columns: customer_id, order_date, total_spend (sum of order_total), order_count.
    """
    return int_customer_orders.groupBy("customer_id", "order_date").agg(
        money(F.sum("order_total")).alias("total_spend"),
        F.count("order_id").alias("order_count"),
    )
