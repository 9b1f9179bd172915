"""The code location: every lakehouse table as an asset, with its resources, checks and sensors.

Its parts live in ``defs/``, one module per domain, and are loaded with Dagster's
``load_from_defs_folder``. ``workspace.yaml`` (``dagster dev``), ``[tool.dg]`` in
``pyproject.toml`` (``dg``) and ``-m lakehouse_assets.definitions`` all load this module.
"""

from pathlib import Path

import dagster as dg


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    """The code location; tests pass resources bound to a temporary lakehouse instead."""
    project = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    if resources is None:
        return project
    return dg.Definitions(
        assets=project.assets,
        asset_checks=project.asset_checks,
        jobs=project.jobs,
        sensors=project.sensors,
        schedules=project.schedules,
        executor=project.executor,
        resources=resources,
    )


defs = build_definitions()

# The lakehouse's tables (everything but the external landing assets).
table_assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
