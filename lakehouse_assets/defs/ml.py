"""ML: the customer feature table (Delta, and a Parquet copy for tools without Delta)."""

import dagster as dg

from lakehouse_assets.assets.ml import ml_assets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=ml_assets)
