"""Data quality: rule thresholds (rules), plain rule functions (integrity, gold, contracts),
their catalog, the Dagster asset checks and the gold.data_quality_summary asset."""

from lakehouse_assets.checks.definitions import quality_checks
from lakehouse_assets.checks.summary import data_quality_summary

__all__ = ["data_quality_summary", "quality_checks"]
