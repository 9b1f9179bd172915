"""The resources every run uses (storage, Spark, quality limits, the Delta IO manager), set by
environment variables, and the executor.

Runs use the in-process executor: all steps of a run share one process and therefore one
SparkSession (one JVM), instead of a JVM per step.
"""

import dagster as dg

from lakehouse_assets.resources import build_resources


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources=build_resources(), executor=dg.in_process_executor)
