"""Gold product marts: seed 003's performance tiers, seed 001's reorders and departments,
seed 000's co-purchase pairs."""

from lakehouse_assets.assets.factory import table_asset
from lakehouse_assets.transforms import products, sales

fct_product_performance = table_asset(
    "gold",
    "fct_product_performance",
    products.fct_product_performance,
    inputs=["silver.int_product_metrics"],
    description="Product revenue, profit, ranks, category share and performance tier "
    "(percentile_cont over all products' revenue; seed 003 4.3).",
)
fct_product_reorders = table_asset(
    "gold",
    "fct_product_reorders",
    sales.fct_product_reorders,
    inputs=["silver.stg_orders", "silver.stg_order_items", "silver.stg_products"],
    description="Product performance with reorder rate and average days between a customer's "
    "orders of the product (seed 001).",
)
fct_department_analytics = table_asset(
    "gold",
    "fct_department_analytics",
    sales.fct_department_analytics,
    inputs=["silver.stg_orders", "silver.stg_order_items", "silver.stg_products"],
    description="Sales, products, customers and orders by department, or category where a "
    "product has no department (seed 001).",
)
fct_product_pairs = table_asset(
    "gold",
    "fct_product_pairs",
    sales.fct_product_pairs,
    inputs=["silver.stg_orders", "silver.stg_order_items"],
    description="Products bought together in at least 5 completed orders, with support, "
    "confidence and lift (seed 000 co-purchase recommendations).",
)

product_assets = [
    fct_product_performance,
    fct_product_reorders,
    fct_department_analytics,
    fct_product_pairs,
]
