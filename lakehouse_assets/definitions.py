"""The code location: every lakehouse table as an asset, with its resources, checks and sensors.

Runs use the in-process executor: all steps of a run share one process and therefore one
SparkSession (one JVM), instead of a JVM per step.
"""

from dagster import Definitions, in_process_executor

from lakehouse_assets.assets.bronze import bronze_assets
from lakehouse_assets.resources import build_resources

defs = Definitions(
    assets=[*bronze_assets],
    resources=build_resources(),
    executor=in_process_executor,
)
