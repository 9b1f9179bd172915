"""The raw landing files as external assets, and the sensor that starts bronze when they change."""

import dagster as dg

from lakehouse_assets.assets.bronze import landing_specs
from lakehouse_assets.sensors import landing_zone_sensor


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=landing_specs, sensors=[landing_zone_sensor])
