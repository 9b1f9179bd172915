"""The SQL behind every endpoint, on one ``Read`` (pinned table versions).

Column and table names come from this module only; every value from a client is a ``?``
parameter. Decimal columns stay ``Decimal`` (rendered as strings by the app), dates stay dates.
Lineage columns (``silver_source_tables``, ``processing_timestamp``, ``layer``) are not served.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

from lakehouse_assets.serving.pagination import Page, paginate
from lakehouse_assets.serving.snapshots import Read

# Value sets of the gold tables (transforms/customers.py, products.py, sales.py): a value
# outside them is a client error, not an empty result.
SEGMENTS = ("Champions", "Loyal Customers", "New Customers", "Big Spenders", "At Risk",
            "Cant Lose Them", "Hibernating", "Lost", "Others", "Prospects")
TIERS = ("Star", "Performer", "Average", "Underperformer")
RISK_FLAGS = ("is_high_value", "is_order_burst", "is_high_value_refund", "is_large_discount",
              "is_new_account_high_value", "is_low_margin_high_value")

# Sort columns a client may choose (never null, so that keyset pagination is exact).
CUSTOMER_SORTS = ("monetary_value", "frequency", "predicted_clv_12m", "customer_id")
PRODUCT_SORTS = ("revenue", "units_sold", "total_profit", "customers_count", "product_id")
RISK_SORTS = ("order_date", "order_total", "risk_flag_count", "order_id")
PRODUCT_GROUPS = {"tier": "performance_tier", "category": "category"}

CUSTOMER_METRICS = ("gold.fct_customer_metrics", "gold.dim_customer_segments")
CUSTOMER_PROFILE = ("gold.fct_customer_metrics", "gold.dim_customer_segments",
                    "gold.fct_customer_ltv", "gold.fct_customer_spend_tiers")
PRODUCTS = ("gold.fct_product_performance",)


class Filters:
    """``WHERE`` clauses (from code) and their parameters (from the client); None = no filter."""

    def __init__(self):
        self.clauses: list[str] = []
        self.params: list = []

    def add(self, clause: str, *values) -> "Filters":
        if all(v is not None for v in values):
            self.clauses.append(clause)
            self.params.extend(values)
        return self

    @property
    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


def _column(name: str, allowed: tuple[str, ...]) -> str:
    """A column name chosen by the client, from the allowed set only (it becomes SQL text)."""
    if name not in allowed:
        raise ValueError(f"{name!r} is not one of {allowed}")
    return name


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- customers
def customer_metrics(read: Read, *, segment: str | None, min_spend: Decimal | None,
                     sort: str, descending: bool, limit: int, cursor: str | None) -> Page:
    f = Filters().add("s.customer_segment = ?", segment).add("m.monetary_value >= ?", min_spend)
    sql = f"""
        SELECT m.customer_id, m.email, m.first_name, m.last_name, m.country,
               s.customer_segment, m.churn_risk, m.recency_days, m.frequency,
               m.monetary_value, m.avg_order_value, m.recency_score, m.frequency_score,
               m.monetary_score, m.rfm_total_score, m.rfm_segment_code, m.first_order_date,
               m.last_order_date, m.customer_tenure_days, m.current_clv, m.predicted_clv_12m
        FROM {{fct_customer_metrics}} m
        LEFT JOIN {{dim_customer_segments}} s ON s.customer_id = m.customer_id
        {f.sql}"""
    query = {"q": "customer-metrics", "segment": segment, "min_spend": min_spend, "sort": sort,
             "desc": descending}
    return paginate(read, sql, f.params, query=query, sort=_column(sort, CUSTOMER_SORTS),
                    key="customer_id", descending=descending, limit=limit, cursor=cursor)


_PROFILE_SQL = """
    SELECT m.customer_id, m.email, m.first_name, m.last_name, m.country, m.customer_created_at,
           m.recency_days, m.frequency, m.monetary_value, m.avg_order_value, m.recency_score,
           m.frequency_score, m.monetary_score, m.rfm_total_score, m.rfm_segment_code,
           m.first_order_date, m.last_order_date, m.customer_tenure_days, m.current_clv,
           m.predicted_clv_12m, m.churn_risk,
           s.customer_segment, s.recommended_action, t.customer_segment AS spend_tier,
           l.customer_id IS NOT NULL AS has_ltv, l.total_revenue, l.total_orders,
           l.first_purchase, l.last_purchase, l.active_months, l.monthly_revenue,
           l.months_since_last_purchase, l.predicted_ltv
    FROM {fct_customer_metrics} m
    LEFT JOIN {dim_customer_segments} s ON s.customer_id = m.customer_id
    LEFT JOIN {fct_customer_spend_tiers} t ON t.customer_id = m.customer_id
    LEFT JOIN {fct_customer_ltv} l ON l.customer_id = m.customer_id"""

_PROFILE_GROUPS = {
    "profile": ("email", "first_name", "last_name", "country", "customer_created_at"),
    "rfm": ("recency_days", "frequency", "monetary_value", "avg_order_value", "recency_score",
            "frequency_score", "monetary_score", "rfm_total_score", "rfm_segment_code",
            "first_order_date", "last_order_date", "customer_tenure_days"),
    "segments": ("customer_segment", "recommended_action", "spend_tier", "churn_risk"),
    "value": ("current_clv", "predicted_clv_12m"),
}
_LTV = ("total_revenue", "total_orders", "first_purchase", "last_purchase", "active_months",
        "monthly_revenue", "months_since_last_purchase", "predicted_ltv")


def customer_profile(read: Read, customer_id: str) -> dict | None:
    """Profile, RFM, segments (RFM segment, spend tier, churn risk) and value (CLV, LTV: null
    for a customer without a completed order) of one customer; None if unknown."""
    row = read.lookup("customer_profiles", _PROFILE_SQL, "customer_id", CUSTOMER_PROFILE,
                      customer_id)
    if row is None:
        return None
    out = {"customer_id": customer_id}
    out.update({group: {c: row[c] for c in cols} for group, cols in _PROFILE_GROUPS.items()})
    out["value"]["ltv"] = {c: row[c] for c in _LTV} if row["has_ltv"] else None
    return out


def customer_features(read: Read, customer_id: str) -> dict | None:
    rows = read.rows("SELECT * FROM {ml_customer_features} WHERE customer_id = ?", [customer_id])
    return rows[0] if rows else None


def segment_summary(read: Read) -> list[dict]:
    rows = read.rows("""
        SELECT customer_segment AS segment, count(*) AS customers,
               sum(monetary_value) AS revenue, sum(total_orders) AS orders,
               sum(predicted_clv_12m) AS predicted_clv_12m,
               min(recommended_action) AS recommended_action
        FROM {dim_customer_segments} GROUP BY customer_segment
        ORDER BY revenue DESC, segment""")
    for row in rows:  # in Decimal: DuckDB divides decimals in floating point
        row["avg_order_value"] = _cents(row["revenue"] / row["orders"]) if row["orders"] else None
    return rows


# --------------------------------------------------------------------------- products
PRODUCT_COLUMNS = """product_id, product_name, category, performance_tier, units_sold, revenue,
    avg_selling_price, customers_count, orders_count, total_profit, list_price, cost_price,
    profit_margin_pct, category_revenue_share, revenue_rank, units_rank, profit_rank,
    first_sale_date, last_sale_date"""


def product(read: Read, product_id: str) -> dict | None:
    rows = read.rows(f"SELECT {PRODUCT_COLUMNS} FROM {{fct_product_performance}} "
                     "WHERE product_id = ?", [product_id])
    return rows[0] if rows else None


def products(read: Read, *, tier: str | None, category: str | None, sort: str,
             descending: bool, limit: int, cursor: str | None) -> Page:
    f = Filters().add("performance_tier = ?", tier).add("category = ?", category)
    sql = f"SELECT {PRODUCT_COLUMNS} FROM {{fct_product_performance}} {f.sql}"
    query = {"q": "products", "tier": tier, "category": category, "sort": sort,
             "desc": descending}
    return paginate(read, sql, f.params, query=query, sort=_column(sort, PRODUCT_SORTS),
                    key="product_id", descending=descending, limit=limit, cursor=cursor)


def product_performance(read: Read, group_by: str) -> list[dict]:
    column = PRODUCT_GROUPS[group_by]
    return read.rows(f"""
        SELECT {column} AS "group", count(*) AS products, sum(units_sold) AS units_sold,
               sum(revenue) AS revenue, sum(total_profit) AS total_profit
        FROM {{fct_product_performance}} GROUP BY {column} ORDER BY revenue DESC, "group" """)


# --------------------------------------------------------------------------- sales
def daily_sales(read: Read, *, start: dt.date | None, end: dt.date | None, descending: bool,
                limit: int, cursor: str | None) -> Page:
    f = Filters().add("order_date >= ?", start).add("order_date <= ?", end)
    sql = f"""
        SELECT order_date, order_count, total_sales, avg_order_value, units_sold,
               items_per_order, unique_customers, day_of_week, month, year
        FROM {{fct_daily_sales}} {f.sql}"""
    query = {"q": "daily-sales", "start": start, "end": end, "desc": descending}
    return paginate(read, sql, f.params, query=query, sort="order_date", key="order_date",
                    descending=descending, limit=limit, cursor=cursor)


def sales_forecast(read: Read, days: int) -> list[dict]:
    return read.rows("""
        SELECT forecast_date, predicted_sales, lower_bound, upper_bound, model_version
        FROM {fct_sales_forecast} ORDER BY forecast_date LIMIT ?""", [days])


def high_risk_orders(read: Read, *, flag: str | None, min_flags: int | None,
                     customer_id: str | None, start: dt.date | None, end: dt.date | None,
                     sort: str, descending: bool, limit: int, cursor: str | None) -> Page:
    f = (Filters().add("risk_flag_count >= ?", min_flags).add("customer_id = ?", customer_id)
         .add("order_date >= ?", start).add("order_date <= ?", end))
    if flag is not None:
        f.add(_column(flag, RISK_FLAGS))
    sql = f"""
        SELECT order_id, customer_id, order_date, order_status, payment_status, order_subtotal,
               order_total, discount_amount, margin_ratio, orders_that_day, {", ".join(RISK_FLAGS)},
               risk_reasons, risk_flag_count
        FROM {{fct_high_risk_orders}} {f.sql}"""
    query = {"q": "high-risk-orders", "flag": flag, "min_flags": min_flags,
             "customer_id": customer_id, "start": start, "end": end, "sort": sort,
             "desc": descending}
    return paginate(read, sql, f.params, query=query, sort=_column(sort, RISK_SORTS),
                    key="order_id", descending=descending, limit=limit, cursor=cursor)


# --------------------------------------------------------------------------- data quality
def quality_runs(read: Read, *, failed_only: bool, limit: int, cursor: str | None) -> Page:
    having = "HAVING count(*) FILTER (WHERE NOT passed) > 0" if failed_only else ""
    sql = f"""
        SELECT run_id, max(checked_at) AS checked_at, count(*) AS rules,
               count(*) FILTER (WHERE passed) AS passed,
               count(*) FILTER (WHERE NOT passed) AS failed,
               count(*) FILTER (WHERE NOT passed AND blocking) AS blocking_failures,
               count(DISTINCT table_name) AS tables,
               min(window_start) AS window_start, max(window_end) AS window_end
        FROM {{data_quality_summary}} GROUP BY run_id {having}"""
    query = {"q": "data-quality-runs", "failed_only": failed_only}
    return paginate(read, sql, [], query=query, sort="checked_at", key="run_id",
                    descending=True, limit=limit, cursor=cursor)


def quality_run(read: Read, run_id: str) -> list[dict]:
    rows = read.rows("""
        SELECT table_name, rule, passed, severity, blocking, rows_checked, rows_failed,
               rows_quarantined, threshold, sample_keys, window_start, window_end, checked_at
        FROM {data_quality_summary} WHERE run_id = ?
        ORDER BY passed, table_name, rule""", [run_id])
    for row in rows:  # stored as JSON text
        row["sample_keys"] = json.loads(row["sample_keys"]) if row["sample_keys"] else []
    return rows
