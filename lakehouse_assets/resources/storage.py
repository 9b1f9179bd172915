"""Where the lakehouse lives: table paths for the medallion layers and the landing zone.

Every path in the project is derived here, so that moving the lakehouse to object storage
(``s3a://bucket/lakehouse``) is a change of setting, not of code.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

LAYERS = ("bronze", "silver", "gold", "ml")

DEFAULT_LAKEHOUSE_ROOT = "./lakehouse"
DEFAULT_LANDING_ROOT = "./landing"


def _is_uri(path: str) -> bool:
    return "://" in path


def _normalise(path: str) -> str:
    """Local paths become absolute so that Spark, Dagster and the CLI agree on them."""
    return path.rstrip("/") if _is_uri(path) else os.path.abspath(os.path.expanduser(path))


def local_delta_table(path: str) -> Any:
    """The Delta table at a local ``path``, read without Spark (delta-rs via dagster-deltalake):
    for sensors, which have no Spark session, and for tests that look at what was written."""
    from dagster_deltalake import DeltaTableResource, LocalConfig

    return DeltaTableResource(url=str(path), storage_options=LocalConfig()).load()


class LakehouseStorage(ConfigurableResource):
    """The lakehouse root (tables at ``<root>/<layer>/<table>``) and the landing root."""

    lakehouse_root: str = Field(
        default=DEFAULT_LAKEHOUSE_ROOT,
        description="Root of the Delta tables; local path or s3a:// / abfss:// URI. "
        "Environment variable LAKEHOUSE_ROOT.",
    )
    landing_root: str = Field(
        default=DEFAULT_LANDING_ROOT,
        description="Root of the raw landing zone <landing_root>/<dataset>/<YYYY-MM-DD>/*.csv. "
        "Environment variable LAKEHOUSE_LANDING_ROOT.",
    )

    @property
    def is_local(self) -> bool:
        return not _is_uri(self.root)

    @property
    def root(self) -> str:
        return _normalise(self.lakehouse_root)

    @property
    def landing(self) -> str:
        return _normalise(self.landing_root)

    def table_path(self, layer: str, table: str) -> str:
        if layer not in LAYERS:
            raise ValueError(f"Unknown lakehouse layer {layer!r}; expected one of {LAYERS}")
        return f"{self.root}/{layer}/{table}"

    @property
    def catalog_dir(self) -> str:
        """Local Hive metastore (Derby) and warehouse, kept beside the tables."""
        return f"{self.root}/_catalog"

