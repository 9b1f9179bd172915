"""Gold customer marts: seed 003's metrics and segments, seed 001's insights, seed 000's
marketing mart, seed 004's spend tiers and lifetime value."""

import base64

from dagster import MetadataValue

from lakehouse_assets.assets.factory import table_asset, tables_step
from lakehouse_assets.transforms import charts, customers, marts


def _png(png: bytes, title: str) -> MetadataValue:
    return MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


def segments_with_charts(fct_customer_metrics):
    """dim_customer_segments plus seed 003 module 6's two charts, rendered for the Dagster UI."""
    segments = customers.dim_customer_segments(fct_customer_metrics).persist()
    summary = customers.segment_revenue_summary(segments).toPandas()
    heatmap = customers.rfm_heatmap(fct_customer_metrics).toPandas()
    return segments, {
        "segment_revenue_chart": _png(charts.segment_revenue_png(summary), "Revenue by segment"),
        "rfm_heatmap": _png(charts.rfm_heatmap_png(heatmap), "RFM heatmap"),
        "segment_summary": MetadataValue.md(summary.to_markdown(index=False)),
    }


fct_customer_metrics = table_asset(
    "gold",
    "fct_customer_metrics",
    customers.fct_customer_metrics,
    description="One row per customer: RFM, current and predicted 12-month CLV, churn risk "
    "(seed 003 4.1); 'Never Purchased' for customers without a completed order.",
)
dim_customer_segments = table_asset(
    "gold",
    "dim_customer_segments",
    segments_with_charts,
    description="RFM segment and recommended action per customer (seed 003 4.2); the segment "
    "revenue chart and RFM heatmap of seed 003 module 6 are attached to each materialization.",
)
fct_customer_insights = table_asset(
    "gold",
    "fct_customer_insights",
    marts.fct_customer_insights,
    description="Spend, orders, average order value, days since last order and segment per "
    "customer (seed 001 customer insights).",
)
fct_marketing_customers = table_asset(
    "gold",
    "fct_marketing_customers",
    marts.fct_marketing_customers,
    description="Marketing mart (seed 000): value, frequency, preferred categories and "
    "segment per customer.",
)
# Both read only the completed orders: one step.
customer_value = tables_step("gold_customer_value", "gold", [
    (
        "fct_customer_spend_tiers", marts.fct_customer_spend_tiers,
        "Spend tier per customer (seed 004): Premium > 10000, Gold > 5000, Silver > 1000, else "
        "Bronze.",
    ),
    (
        "fct_customer_ltv", marts.fct_customer_ltv,
        "Customer lifetime value (seed 004): revenue, active months, monthly revenue and "
        "predicted LTV as of the analysis date.",
    ),
])
fct_high_risk_orders = table_asset(
    "gold",
    "fct_high_risk_orders",
    marts.fct_high_risk_orders,
    description="Orders flagged by rule (seed 002 adapted to orders); every flag explained in "
    "risk_reasons.",
)

customer_assets = [
    fct_customer_metrics,
    dim_customer_segments,
    fct_customer_insights,
    fct_marketing_customers,
    customer_value,
    fct_high_risk_orders,
]
