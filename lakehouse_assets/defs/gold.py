"""Gold: the customer, product and sales marts."""

import dagster as dg

from lakehouse_assets.assets.gold.customers import customer_assets
from lakehouse_assets.assets.gold.products import product_assets
from lakehouse_assets.assets.gold.sales import sales_assets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[*customer_assets, *product_assets, *sales_assets])
