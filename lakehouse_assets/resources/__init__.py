"""Resources of the code location: storage settings, the Spark session and the Delta IO manager."""

from __future__ import annotations

from lakehouse_assets.resources.delta_io_manager import DeltaSparkIOManager
from lakehouse_assets.resources.quality import QualitySettings
from lakehouse_assets.resources.spark import SparkResource
from lakehouse_assets.resources.storage import LakehouseStorage


def build_resources(
    storage: LakehouseStorage | None = None,
    quality: QualitySettings | None = None,
    **spark_settings,
) -> dict:
    """The resource dict of the code location; tests pass their own storage (a temp root)."""
    storage = storage or LakehouseStorage.from_env()
    spark = SparkResource(catalog_dir=storage.catalog_dir, **spark_settings)
    return {
        "storage": storage,
        "spark": spark,
        "quality": quality or QualitySettings(),
        "io_manager": DeltaSparkIOManager(storage=storage, spark=spark),
    }


__all__ = [
    "DeltaSparkIOManager", "LakehouseStorage", "QualitySettings", "SparkResource",
    "build_resources",
]
