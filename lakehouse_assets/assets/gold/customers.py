"""Gold customer marts: metrics and segments, insights, the marketing mart, spend tiers and
lifetime value."""

import base64

from dagster import MetadataValue

from lakehouse_assets.assets.factory import table_asset, tables_step
from lakehouse_assets.transforms import charts, customers, marts


def _png(png: bytes, title: str) -> MetadataValue:
    return MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


def segments_with_charts(fct_customer_metrics):
    """dim_customer_segments plus its two charts, rendered for the Dagster UI."""
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
    description="One row per customer: RFM, current and predicted 12-month CLV, churn risk; "
    "'Never Purchased' for customers without a completed order.",
)
dim_customer_segments = table_asset(
    "gold",
    "dim_customer_segments",
    segments_with_charts,
    description="RFM segment and recommended action per customer; the segment "
    "revenue chart and RFM heatmap are attached to each materialization.",
)
fct_customer_insights = table_asset(
    "gold",
    "fct_customer_insights",
    marts.fct_customer_insights,
    description="Spend, orders, average order value, days since last order and segment per "
    "customer.",
)
fct_marketing_customers = table_asset(
    "gold",
    "fct_marketing_customers",
    marts.fct_marketing_customers,
    description="Marketing mart: value, frequency, preferred categories and "
    "segment per customer.",
)
# Both read only the completed orders: one step.
customer_value = tables_step("gold_customer_value", "gold", [
    (
        "fct_customer_spend_tiers", marts.fct_customer_spend_tiers,
        "Spend tier per customer: Premium > 10000, Gold > 5000, Silver > 1000, else "
        "Bronze.",
    ),
    (
        "fct_customer_ltv", marts.fct_customer_ltv,
        "Customer lifetime value: revenue, active months, monthly revenue and "
        "predicted LTV as of the analysis date.",
    ),
])
fct_high_risk_orders = table_asset(
    "gold",
    "fct_high_risk_orders",
    marts.fct_high_risk_orders,
    description="Orders flagged by rule; every flag explained in "
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
