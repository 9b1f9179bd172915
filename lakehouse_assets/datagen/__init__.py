"""Synthetic e-commerce landing-zone generator (docs/contracts.md layout) and the committed data_seeds builder.

Two profiles: "clean" (tidy data) and "retail" (guest orders, cancellations, fee lines, closed days,
split files, impossible dates, ...); the generator module docstring describes each reality and why.
"""

from .generator import generate_landing_zone
from .schema import DATASETS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, columns

__all__ = ["generate_landing_zone", "DATASETS", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "columns"]
