"""Resources of the code location: storage settings, the Spark session and the Delta IO manager.

A deployment sets them by environment variables (the table in the README). ``from_environment``
turns each variable that is set into an ``EnvVar``: Dagster resolves it when a run starts,
and the UI's resource page shows which variable a value came from. A variable that is not set
leaves the field's default (Dagster's ``EnvVar`` has no default of its own).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dagster import ConfigurableResource, EnvVar

from lakehouse_assets.resources.delta_io_manager import DeltaSparkIOManager
from lakehouse_assets.resources.quality import ENV_VARS as QUALITY_ENV_VARS
from lakehouse_assets.resources.quality import QualitySettings
from lakehouse_assets.resources.spark import SparkResource
from lakehouse_assets.resources.storage import LakehouseStorage

# resource class -> field -> the environment variable that sets it.
ENVIRONMENT: dict[type[ConfigurableResource], dict[str, str]] = {
    LakehouseStorage: {
        "lakehouse_root": "LAKEHOUSE_ROOT",
        "landing_root": "LAKEHOUSE_LANDING_ROOT",
    },
    SparkResource: {
        "master": "LAKEHOUSE_SPARK_MASTER",
        "remote": "LAKEHOUSE_SPARK_REMOTE",
        "shuffle_partitions": "LAKEHOUSE_SHUFFLE_PARTITIONS",
    },
    QualitySettings: QUALITY_ENV_VARS,
}


def from_environment(
    resource: type[ConfigurableResource], environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """The fields of ``resource`` whose environment variable is set, as ``EnvVar``s.

    Dagster's config knows string and integer sources only, so a float field's variable is
    parsed here (the resource's own validation still applies to the value).
    """
    fields = resource.model_fields
    settings: dict[str, Any] = {}
    for field, variable in ENVIRONMENT[resource].items():
        text = environ.get(variable)
        if not text:
            continue
        kind = fields[field].annotation
        if kind is int:
            settings[field] = EnvVar.int(variable)
        elif kind is float:
            try:
                settings[field] = float(text)
            except ValueError:
                raise ValueError(f"{variable}={text!r} is not a valid float ({field})") from None
        else:
            settings[field] = EnvVar(variable)
    return settings


def build_resources(
    storage: LakehouseStorage | None = None,
    quality: QualitySettings | None = None,
    **spark_settings,
) -> dict:
    """The resource dict of the code location; tests pass their own storage (a temp root).

    What is not given comes from the environment (``from_environment``) or the defaults.
    """
    storage = storage or LakehouseStorage(**from_environment(LakehouseStorage))
    spark = SparkResource(
        storage=storage, **{**from_environment(SparkResource), **spark_settings}
    )
    return {
        "storage": storage,
        "spark": spark,
        "quality": quality or QualitySettings(**from_environment(QualitySettings)),
        "io_manager": DeltaSparkIOManager(storage=storage, spark=spark),
    }


__all__ = [
    "DeltaSparkIOManager", "ENVIRONMENT", "LakehouseStorage", "QualitySettings", "SparkResource",
    "build_resources", "from_environment",
]
