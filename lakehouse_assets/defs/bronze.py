"""Bronze: every landing file's rows as they arrived, with quarantine and the file ledger."""

import dagster as dg

from lakehouse_assets.assets.bronze import bronze_assets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=bronze_assets)
