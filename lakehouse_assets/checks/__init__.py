"""Data quality: rule thresholds (rules), plain rule functions (integrity, gold, contracts),
their catalog, the Dagster asset checks (definitions) and the gold.data_quality_summary asset
(summary). Nothing is imported here, so that resources can use the thresholds without
loading the Dagster definitions."""
