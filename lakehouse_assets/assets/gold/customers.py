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


fct_customer_metrics = table_asset("gold", "fct_customer_metrics", customers.fct_customer_metrics)
dim_customer_segments = table_asset("gold", "dim_customer_segments", segments_with_charts)
fct_customer_insights = table_asset("gold", "fct_customer_insights", marts.fct_customer_insights)
fct_marketing_customers = table_asset(
    "gold", "fct_marketing_customers", marts.fct_marketing_customers
)
# Both read only the completed orders: one step.
customer_value = tables_step("gold_customer_value", "gold", [
    ("fct_customer_spend_tiers", marts.fct_customer_spend_tiers),
    ("fct_customer_ltv", marts.fct_customer_ltv),
])
fct_high_risk_orders = table_asset("gold", "fct_high_risk_orders", marts.fct_high_risk_orders)

customer_assets = [
    fct_customer_metrics,
    dim_customer_segments,
    fct_customer_insights,
    fct_marketing_customers,
    customer_value,
    fct_high_risk_orders,
]
