"""Gold product marts: performance tiers; reorders, departments and co-purchase pairs, which
read the same order lines and share one step."""

from lakehouse_assets.assets.factory import table_asset, tables_step
from lakehouse_assets.transforms import products, sales

fct_product_performance = table_asset(
    "gold", "fct_product_performance", products.fct_product_performance
)
order_line_marts = tables_step("gold_order_line_marts", "gold", [
    ("fct_product_reorders", sales.fct_product_reorders),
    ("fct_department_analytics", sales.fct_department_analytics),
    ("fct_product_pairs", sales.fct_product_pairs),
])

product_assets = [fct_product_performance, order_line_marts]
