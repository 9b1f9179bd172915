"""Silver: the cleaned, typed and deduplicated entities, their intermediate summaries, and the
tables merged per landing day for what its orders touch (with daily sales and spend)."""

import dagster as dg

from lakehouse_assets.assets.by_landing_day import by_landing_day_assets
from lakehouse_assets.assets.silver import silver_assets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[*silver_assets, *by_landing_day_assets])
