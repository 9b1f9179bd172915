"""Intermediate layer: int_customer_orders, the per-customer summary, int_customer_rfm and
product metrics.

Spark SQL close to the original design, run with `spark.sql(query, name=DataFrame)` so the inputs are bound
as anonymous views (no shared temp-view names). Fixes against the original design are commented in place.

"As of" is always the analysis date derived from the data (the latest completed order date),
never the wall clock, so a rebuild of the same data gives the same result.
"""

from __future__ import annotations

from pyspark.sql import DataFrame


def int_customer_orders(stg_orders: DataFrame, stg_order_items: DataFrame) -> DataFrame:
    """One row per completed order.

    Columns: order_id, customer_id, order_date, shipping_cost, order_subtotal, order_total,
    items_count.
    """
    # Fix: the original design leaves order_subtotal/order_total null for a completed order without items
    # (SUM over no rows); such an order costs its shipping only.
    return stg_orders.sparkSession.sql(
        """
        SELECT
            o.order_id,
            o.customer_id,
            o.order_date,
            o.shipping_cost,
            COALESCE(SUM(oi.line_total), 0) AS order_subtotal,
            COALESCE(SUM(oi.line_total), 0) + o.shipping_cost AS order_total,
            COUNT(oi.order_item_id) AS items_count
        FROM {stg_orders} o
        LEFT JOIN {stg_order_items} oi ON o.order_id = oi.order_id
        WHERE o.is_completed
        GROUP BY o.order_id, o.customer_id, o.order_date, o.shipping_cost
        """,
        stg_orders=stg_orders,
        stg_order_items=stg_order_items,
    )


def analysis_date(orders: DataFrame, column: str = "order_date") -> DataFrame:
    """One row, one column `analysis_date`: the latest completed order date (null if none),
    from int_customer_orders (``order_date``) or the customer summary (``last_order_date``).

    Replaces the original design's CURRENT_DATE; cross join it where an "as of" date is needed.
    """
    return orders.sparkSession.sql(
        f"SELECT MAX(`{column}`) AS analysis_date FROM {{orders}}", orders=orders
    )


def customer_summary(int_customer_orders: DataFrame) -> DataFrame:
    """Per customer with a completed order, everything that does not depend on the analysis
    date: what the per-customer tables are computed from without reading the order history.

    Columns: customer_id, order_count, total_spend, avg_order_value (AVG of order_total),
    first_order_date, last_order_date, active_months (distinct calendar months with an order),
    order_value_volatility (STDDEV of order_total), max_order_value, min_order_value,
    avg_days_between_orders, order_dates (every completed order's date, ascending: what a
    window relative to the analysis date counts).
    """
    # Fix: the original design nests LAG (a window) inside AVG (an aggregate), which Spark
    # rejects; the gaps are computed per order first and averaged outside.
    return int_customer_orders.sparkSession.sql(
        """
        WITH order_gaps AS (
            SELECT
                *,
                DATEDIFF(
                    order_date,
                    LAG(order_date) OVER (PARTITION BY customer_id ORDER BY order_date, order_id)
                ) AS days_since_previous_order
            FROM {int_customer_orders}
        )

        SELECT
            customer_id,
            COUNT(DISTINCT order_id) AS order_count,
            SUM(order_total) AS total_spend,
            AVG(order_total) AS avg_order_value,
            MIN(order_date) AS first_order_date,
            MAX(order_date) AS last_order_date,
            COUNT(DISTINCT TRUNC(order_date, 'MM')) AS active_months,
            STDDEV(order_total) AS order_value_volatility,
            MAX(order_total) AS max_order_value,
            MIN(order_total) AS min_order_value,
            AVG(days_since_previous_order) AS avg_days_between_orders,
            ARRAY_SORT(COLLECT_LIST(order_date)) AS order_dates
        FROM order_gaps
        GROUP BY customer_id
        """,
        int_customer_orders=int_customer_orders,
    )


def int_customer_rfm(int_customer_summary: DataFrame) -> DataFrame:
    """RFM per customer with at least one completed order, from the customer summary and the
    analysis date (one pass over the summary, never over the orders).

    Columns: customer_id, recency_days, frequency, monetary_value, avg_order_value,
    first_order_date, last_order_date, customer_tenure_days, recency_score, frequency_score,
    monetary_score, rfm_total_score, rfm_segment_code.
    """
    # Fixes: the original design writes DATEDIFF('day', a, b) (a quoted unit is a parse error in Spark) and
    # sums the score aliases in the SELECT that defines them; the scores get their own CTE.
    return int_customer_summary.sparkSession.sql(
        """
        WITH rfm_calc AS (
            SELECT
                s.customer_id,
                DATEDIFF(ad.analysis_date, s.last_order_date) AS recency_days,
                s.order_count AS frequency,
                s.total_spend AS monetary_value,
                s.avg_order_value,
                s.first_order_date,
                s.last_order_date,
                DATEDIFF(s.last_order_date, s.first_order_date) AS customer_tenure_days
            FROM {int_customer_summary} s
            CROSS JOIN {analysis_date} ad
        ),

        rfm_scores AS (
            SELECT
                *,
                CASE
                    WHEN recency_days <= 30 THEN 5
                    WHEN recency_days <= 60 THEN 4
                    WHEN recency_days <= 90 THEN 3
                    WHEN recency_days <= 180 THEN 2
                    ELSE 1
                END AS recency_score,
                CASE
                    WHEN frequency >= 5 THEN 5
                    WHEN frequency >= 4 THEN 4
                    WHEN frequency >= 3 THEN 3
                    WHEN frequency >= 2 THEN 2
                    ELSE 1
                END AS frequency_score,
                CASE
                    WHEN monetary_value >= 500 THEN 5
                    WHEN monetary_value >= 300 THEN 4
                    WHEN monetary_value >= 200 THEN 3
                    WHEN monetary_value >= 100 THEN 2
                    ELSE 1
                END AS monetary_score
            FROM rfm_calc
        )

        SELECT
            *,
            recency_score + frequency_score + monetary_score AS rfm_total_score,
            CONCAT(recency_score, frequency_score, monetary_score) AS rfm_segment_code
        FROM rfm_scores
        """,
        int_customer_summary=int_customer_summary,
        analysis_date=analysis_date(int_customer_summary, "last_order_date"),
    )


def int_product_metrics(
    stg_products: DataFrame, stg_order_items: DataFrame, stg_orders: DataFrame
) -> DataFrame:
    """Sales per product over completed orders; every product kept, zeros where unsold.

    Columns: product_id, product_name, category, cost_price, list_price, profit_margin,
    profit_margin_pct, orders_count, customers_count, units_sold, revenue, avg_selling_price,
    total_profit, first_sale_date, last_sale_date.
    """
    return stg_products.sparkSession.sql(
        """
        WITH product_sales AS (
            SELECT
                oi.product_id,
                COUNT(DISTINCT o.order_id) AS orders_count,
                COUNT(DISTINCT o.customer_id) AS customers_count,
                SUM(oi.quantity) AS units_sold,
                SUM(oi.line_total) AS revenue,
                AVG(oi.unit_price) AS avg_selling_price,
                MIN(o.order_date) AS first_sale_date,
                MAX(o.order_date) AS last_sale_date
            FROM {stg_order_items} oi
            JOIN {stg_orders} o ON oi.order_id = o.order_id
            WHERE o.is_completed
            GROUP BY oi.product_id
        )

        SELECT
            p.product_id,
            p.product_name,
            p.category,
            p.cost_price,
            p.list_price,
            p.profit_margin,
            p.profit_margin_pct,
            COALESCE(ps.orders_count, 0) AS orders_count,
            COALESCE(ps.customers_count, 0) AS customers_count,
            COALESCE(ps.units_sold, 0) AS units_sold,
            COALESCE(ps.revenue, 0) AS revenue,
            COALESCE(ps.avg_selling_price, 0) AS avg_selling_price,
            COALESCE(ps.revenue - ps.units_sold * p.cost_price, 0) AS total_profit,
            ps.first_sale_date,
            ps.last_sale_date
        FROM {stg_products} p
        LEFT JOIN product_sales ps ON p.product_id = ps.product_id
        """,
        stg_products=stg_products,
        stg_order_items=stg_order_items,
        stg_orders=stg_orders,
    )
