"""Gold customer, marketing, finance and risk marts, as plain DataFrame -> DataFrame functions.

- ``fct_customer_insights``: segment, spend and recency per customer.
- ``fct_marketing_customers``: the marketing mart, with the columns our data has.
- ``fct_finance_daily``: the finance mart.
- ``fct_customer_spend_tiers`` and ``fct_customer_ltv``: spend tiers and lifetime value.
- ``fct_high_risk_orders``: rule-based risk flags, on orders.

Every rule, with its edge cases, is stated in docs/business-rules.md.

No function reads or writes a table or looks at the clock: "as of" is the analysis date,
the latest completed order date (``transforms.intermediate.analysis_date``).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakehouse_assets.transforms.sales import (
    ALL_ORDERS,
    COMPLETED_OR_RETURNED_ORDERS,
    customer_order_summary,
    money,
    order_lines,
)


def fct_customer_insights(
    int_customer_summary: DataFrame, dim_customer_segments: DataFrame
) -> DataFrame:
    """Per customer with completed orders.

    Columns: customer_id, customer_segment (RFM segment from dim_customer_segments, null
    when the customer is not in it), total_spend, order_count, avg_order_value,
    last_order_date, days_since_last_order (to the analysis date, so the latest buyer has 0).
    """
    segments = dim_customer_segments.select("customer_id", "customer_segment")
    return (
        customer_order_summary(int_customer_summary)
        .join(segments, "customer_id", "left")
        .select(
            "customer_id",
            "customer_segment",
            money("total_spend").alias("total_spend"),
            "order_count",
            money("avg_order_value").alias("avg_order_value"),
            "last_order_date",
            F.datediff("analysis_date", "last_order_date").alias("days_since_last_order"),
        )
    )


def age_group(age: Column) -> Column:
    """Marketing age bands; 'Unknown' when the age is missing (it is optional in landing)."""
    return (
        F.when(age.isNull(), "Unknown")
        .when(age < 18, "Under 18")
        .when(age < 25, "18-24")
        .when(age < 35, "25-34")
        .when(age < 45, "35-44")
        .when(age < 55, "45-54")
        .when(age < 65, "55-64")
        .otherwise("65+")
    )


def fct_marketing_customers(
    stg_customers: DataFrame,
    stg_orders: DataFrame,
    stg_order_items: DataFrame,
    stg_products: DataFrame,
    int_customer_summary: DataFrame,
    dim_customer_segments: DataFrame,
) -> DataFrame:
    """Marketing mart: one row per customer with a completed order and a
    customer record.

    Columns: customer_id, customer_segment (RFM, null when not segmented), email, country,
    city, age_group, total_spend, avg_order_value, purchase_frequency (completed orders),
    preferred_categories (sorted distinct known categories bought, possibly empty),
    last_purchase_date.

    Location is country + city here; its campaign columns (clicks, email opens)
    have no source in our data and are left out. Spend comes from order-level totals and the
    categories from a separate item-level aggregate, so neither is multiplied by the other.
    """
    categories_bought = (
        order_lines(stg_orders, stg_order_items, stg_products)
        .groupBy("customer_id")
        .agg(F.array_sort(F.collect_set("category")).alias("preferred_categories"))
    )
    customers = stg_customers.select("customer_id", "email", "country", "city", "age")
    segments = dim_customer_segments.select("customer_id", "customer_segment")
    return (
        customer_order_summary(int_customer_summary)
        .join(customers, "customer_id")
        .join(segments, "customer_id", "left")
        .join(categories_bought, "customer_id", "left")
        .select(
            "customer_id",
            "customer_segment",
            "email",
            "country",
            "city",
            age_group(F.col("age")).alias("age_group"),
            money("total_spend").alias("total_spend"),
            money("avg_order_value").alias("avg_order_value"),
            F.col("order_count").alias("purchase_frequency"),
            F.coalesce(F.col("preferred_categories"), F.array().cast("array<string>")).alias(
                "preferred_categories"
            ),
            F.col("last_order_date").alias("last_purchase_date"),
        )
    )


def fct_finance_daily(
    stg_orders: DataFrame, stg_order_items: DataFrame, stg_products: DataFrame
) -> DataFrame:
    """Finance mart by order_date, category, payment_method.

    Orders: completed and returned (returns are revenue that was booked, then refunded).
    Columns: order_date, category ('Unknown' for unknown products), payment_method
    ('unknown' when missing), gross_revenue
    (sum of line_total), total_tax, total_discounts, gross_profit (revenue - quantity *
    cost_price, over lines whose cost is known), transaction_count (distinct orders with a
    line in the group), avg_transaction_value (gross_revenue / transaction_count),
    total_refunds (revenue of orders with payment_status 'refunded' or status 'returned'),
    credit_card_revenue (revenue paid by 'credit_card').

    Tax and discount are order-level amounts while the grain splits orders by category, so
    each order's tax and discount are allocated to its lines in proportion to line_total
    (equally when the order's subtotal is 0) and rounded to cents only after summing: an
    order's tax is counted once, never once per item.
    """
    by_order = Window.partitionBy("order_id")
    lines = order_lines(
        stg_orders, stg_order_items, stg_products, orders_where=COMPLETED_OR_RETURNED_ORDERS
    )
    line_share = F.coalesce(
        F.try_divide(F.col("line_total"), F.sum("line_total").over(by_order)),
        F.try_divide(F.lit(1), F.count("*").over(by_order)),
    )
    is_refund = (F.lower("payment_status") == "refunded") | (F.lower("order_status") == "returned")
    is_credit_card = F.lower("payment_method") == "credit_card"
    lines = lines.select(
        "order_id",
        "order_date",
        F.coalesce(F.col("category"), F.lit("Unknown")).alias("category"),
        F.coalesce(F.col("payment_method"), F.lit("unknown")).alias("payment_method"),
        "line_total",
        (F.col("tax_amount") * line_share).alias("allocated_tax"),
        (F.col("discount_amount") * line_share).alias("allocated_discount"),
        (F.col("line_total") - F.col("quantity") * F.col("cost_price")).alias("line_profit"),
        F.when(F.coalesce(is_refund, F.lit(False)), F.col("line_total")).alias("refund"),
        F.when(F.coalesce(is_credit_card, F.lit(False)), F.col("line_total")).alias("card"),
    )
    zero = F.lit(0)
    return (
        lines.groupBy("order_date", "category", "payment_method")
        .agg(
            F.sum("line_total").alias("gross_revenue"),
            F.sum("allocated_tax").alias("total_tax"),
            F.sum("allocated_discount").alias("total_discounts"),
            F.sum("line_profit").alias("gross_profit"),
            F.countDistinct("order_id").alias("transaction_count"),
            F.sum("refund").alias("total_refunds"),
            F.sum("card").alias("credit_card_revenue"),
        )
        .select(
            "order_date",
            "category",
            "payment_method",
            money(F.coalesce("gross_revenue", zero)).alias("gross_revenue"),
            money(F.coalesce("total_tax", zero)).alias("total_tax"),
            money(F.coalesce("total_discounts", zero)).alias("total_discounts"),
            money("gross_profit").alias("gross_profit"),
            "transaction_count",
            money(F.try_divide("gross_revenue", "transaction_count")).alias(
                "avg_transaction_value"
            ),
            money(F.coalesce("total_refunds", zero)).alias("total_refunds"),
            money(F.coalesce("credit_card_revenue", zero)).alias("credit_card_revenue"),
        )
    )


def fct_customer_spend_tiers(int_customer_summary: DataFrame) -> DataFrame:
    """A spend tier per customer (docs/business-rules.md#spend-tiers).

    Columns: customer_id, customer_segment ('Premium' if total_spend > 10000, 'Gold' > 5000,
    'Silver' > 1000, else 'Bronze'; strict >, as in the original design, so exactly 10000 is 'Gold'),
    total_spend, avg_order_value, frequency (completed orders).
    """
    summary = customer_order_summary(int_customer_summary)
    spend = F.col("total_spend")
    tier = (
        F.when(spend > 10000, "Premium")
        .when(spend > 5000, "Gold")
        .when(spend > 1000, "Silver")
        .otherwise("Bronze")
    )
    return summary.select(
        "customer_id",
        tier.alias("customer_segment"),
        money("total_spend").alias("total_spend"),
        money("avg_order_value").alias("avg_order_value"),
        F.col("order_count").alias("frequency"),
    )


def fct_customer_ltv(int_customer_summary: DataFrame) -> DataFrame:
    """Customer lifetime value (docs/business-rules.md#ltv).

    Columns: customer_id, total_revenue, total_orders, first_purchase, last_purchase,
    active_months (distinct calendar months with an order), monthly_revenue
    (total_revenue / active_months), months_since_last_purchase, predicted_ltv =
    total_revenue * (1 + greatest(0, 1 - months_since_last_purchase / 12)).

    The original design measures the months to CURRENT_DATE with ``EXTRACT(MONTH FROM AGE(..))``, which
    keeps only the month component (14 months -> 2). Here the months run to the analysis
    date, as whole elapsed months: floor(months_between(analysis_date, last_purchase)).
    """
    months_since_last = F.floor(F.months_between("analysis_date", "last_order_date"))
    # Decimal arithmetic end to end (12.0 is a decimal literal), rounded once to cents.
    recency_multiplier = F.lit(1) + F.greatest(
        F.lit(0), F.lit(1) - F.col("months_since_last_purchase") / F.expr("12.0")
    )
    return (
        customer_order_summary(int_customer_summary)
        .withColumn("months_since_last_purchase", months_since_last)
        .select(
            "customer_id",
            money("total_spend").alias("total_revenue"),
            F.col("order_count").alias("total_orders"),
            F.col("first_order_date").alias("first_purchase"),
            F.col("last_order_date").alias("last_purchase"),
            "active_months",
            money(F.try_divide("total_spend", "active_months")).alias("monthly_revenue"),
            "months_since_last_purchase",
            money(F.col("total_spend") * recency_multiplier).alias("predicted_ltv"),
        )
    )


def fct_high_risk_orders(
    stg_orders: DataFrame,
    int_customer_orders: DataFrame,
    stg_order_items: DataFrame,
    stg_products: DataFrame,
    stg_customers: DataFrame,
    *,
    high_value_threshold: float | None = None,
    high_value_percentile: float = 0.99,
    max_orders_per_customer_day: int = 3,
    max_discount_share: float = 0.5,
    new_account_days: int = 1,
    new_account_order_threshold: float = 500.0,
    min_margin_ratio: float = 0.2,
) -> DataFrame:
    """Rule-based risk flags on orders of every status, only flagged orders kept.

    Order money is recomputed for every order (int_customer_orders holds completed ones only):
    order_subtotal = sum(line_total), order_total = subtotal + shipping_cost,
    margin_ratio = sum(line_total - quantity * cost_price) / subtotal.
    The high-value threshold is ``high_value_threshold`` when given, else the
    ``high_value_percentile`` (exact, interpolated) of completed order totals.

    Rules, one boolean column each (a reason in ``risk_reasons`` per raised flag):
    - ``is_high_value``: order_total > high-value threshold.
    - ``is_order_burst``: the customer placed >= ``max_orders_per_customer_day`` orders
      (any status: cancelled attempts are part of the pattern) on the order's date.
    - ``is_high_value_refund``: a high-value order that was refunded (payment_status
      'refunded') or returned (status 'returned').
    - ``is_large_discount``: discount_amount / order_subtotal > ``max_discount_share``.
    - ``is_new_account_high_value``: the customer's first order (by order_date, order_id),
      placed within ``new_account_days`` days of the account's creation, with
      order_total > ``new_account_order_threshold``.
    - ``is_low_margin_high_value``: the original design's "risk level high and usage cost ratio < 0.2"
      for orders: a high-value order with margin_ratio < ``min_margin_ratio``.

    Columns: order_id, customer_id, order_date, order_status, payment_status,
    order_subtotal, order_total, discount_amount, margin_ratio, orders_that_day, the six
    flags, risk_reasons array<string>, risk_flag_count.
    """
    line_money = (
        order_lines(stg_orders, stg_order_items, stg_products, orders_where=ALL_ORDERS)
        .groupBy("order_id")
        .agg(
            F.sum("line_total").alias("order_subtotal"),
            F.sum(F.col("line_total") - F.col("quantity") * F.col("cost_price")).alias(
                "order_profit"
            ),
        )
    )
    if high_value_threshold is None:
        threshold = int_customer_orders.agg(
            F.percentile(F.col("order_total").cast("double"), high_value_percentile).alias(
                "high_value_threshold"
            )
        )
    else:
        threshold = stg_orders.sparkSession.range(1).select(
            F.lit(float(high_value_threshold)).alias("high_value_threshold")
        )

    customer_day = Window.partitionBy("customer_id", "order_date")
    customer_history = Window.partitionBy("customer_id").orderBy("order_date", "order_id")
    accounts = stg_customers.select("customer_id", "customer_created_at")
    orders = (
        stg_orders.join(line_money, "order_id", "left")
        .join(accounts, "customer_id", "left")
        .crossJoin(threshold)
        .withColumn("order_subtotal", F.coalesce(F.col("order_subtotal"), F.lit(0)))
        .withColumn(
            "order_total",
            F.col("order_subtotal") + F.coalesce(F.col("shipping_cost"), F.lit(0)),
        )
        .withColumn("margin_ratio", F.try_divide(F.col("order_profit"), F.col("order_subtotal")))
        .withColumn("orders_that_day", F.count("order_id").over(customer_day))
        .withColumn("customer_order_number", F.row_number().over(customer_history))
    )

    def flag(condition: Column) -> Column:
        return F.coalesce(condition, F.lit(False))  # an unknown input raises no flag

    def reason(template: str, *values: str) -> Column:
        # Java's formatter takes no Spark decimal for %f: format numbers as doubles.
        return F.format_string(template, *[F.col(v).cast("double") for v in values])

    total = F.col("order_total")
    is_high_value = flag(total > F.col("high_value_threshold"))
    refunded_or_returned = (F.lower("payment_status") == "refunded") | (
        F.lower("order_status") == "returned"
    )
    rules: dict[str, tuple[Column, Column]] = {
        "is_high_value": (
            is_high_value,
            reason(
                "high value: order_total %.2f > threshold %.2f",
                "order_total",
                "high_value_threshold",
            ),
        ),
        "is_order_burst": (
            flag(
                F.col("customer_id").isNotNull()
                & (F.col("orders_that_day") >= max_orders_per_customer_day)
            ),
            F.format_string("order burst: %d orders by the customer that day", "orders_that_day"),
        ),
        "is_high_value_refund": (
            is_high_value & flag(refunded_or_returned),
            F.format_string("high-value order refunded or returned (status %s)", "order_status"),
        ),
        "is_large_discount": (
            flag(
                F.try_divide(F.col("discount_amount"), F.col("order_subtotal")) > max_discount_share
            ),
            reason(
                "large discount: %.2f on a subtotal of %.2f", "discount_amount", "order_subtotal"
            ),
        ),
        "is_new_account_high_value": (
            flag(
                (F.col("customer_order_number") == 1)
                & (F.datediff("order_date", "customer_created_at") <= new_account_days)
                & (total > new_account_order_threshold)
            ),
            reason(
                f"new account: first order of %.2f within {new_account_days} day(s) of sign-up",
                "order_total",
            ),
        ),
        "is_low_margin_high_value": (
            is_high_value & flag(F.col("margin_ratio") < min_margin_ratio),
            reason("low margin on a high-value order: ratio %.3f", "margin_ratio"),
        ),
    }

    flagged = orders.select(
        "order_id",
        "customer_id",
        "order_date",
        "order_status",
        "payment_status",
        money("order_subtotal").alias("order_subtotal"),
        money("order_total").alias("order_total"),
        "discount_amount",
        F.col("margin_ratio").cast("double").alias("margin_ratio"),
        "orders_that_day",
        *[condition.alias(name) for name, (condition, _) in rules.items()],
        F.array_compact(
            F.array(*[F.when(condition, why) for condition, why in rules.values()])
        ).alias("risk_reasons"),
    )
    return flagged.withColumn("risk_flag_count", F.size("risk_reasons")).where(
        F.col("risk_flag_count") > 0
    )
