"""Gold product marts: performance tiers; reorders, departments and co-purchase pairs, which
read the same order lines and share one step."""

from lakehouse_assets.assets.factory import table_asset, tables_step
from lakehouse_assets.transforms import products, sales

fct_product_performance = table_asset(
    "gold",
    "fct_product_performance",
    products.fct_product_performance,
    description="Product revenue, profit, ranks, category share and performance tier "
    "(percentile_cont over all products' revenue).",
)
order_line_marts = tables_step("gold_order_line_marts", "gold", [
    (
        "fct_product_reorders", sales.fct_product_reorders,
        "Product performance with reorder rate and average days between a customer's orders "
        "of the product.",
    ),
    (
        "fct_department_analytics", sales.fct_department_analytics,
        "Sales, products, customers and orders by department, or category where a product "
        "has no department.",
    ),
    (
        "fct_product_pairs", sales.fct_product_pairs,
        "Products bought together in at least 5 completed orders, with support, confidence "
        "and lift.",
    ),
])

product_assets = [fct_product_performance, order_line_marts]
