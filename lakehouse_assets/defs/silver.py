"""Silver: the cleaned, typed and deduplicated entities and their intermediate summaries."""

import dagster as dg

from lakehouse_assets.assets.silver import silver_assets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=silver_assets)
