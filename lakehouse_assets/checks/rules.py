"""Every threshold of the data-quality rules, in one place.

Change a number here, not in the rule functions: each rule takes its threshold as an argument
and reports it in its result, so the Dagster UI shows which limit a table was held to.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

# Statuses the landing contract knows (datagen.schema.ORDER_STATUSES); silver lower-cases
# and trims them. Another value is reported as a warning, not an error: a new status is a
# business change to review, not corrupt data.
KNOWN_ORDER_STATUSES = ("pending", "processing", "completed", "cancelled", "returned")

# Silver's own rule only quarantines emails without '@'; the contract also wants a domain.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@dataclass(frozen=True)
class Thresholds:
    # Money sums are decimals with 2 places on both sides of every reconciliation, so they
    # match exactly; one cent absorbs a rounding of a per-row average, nothing more.
    money_tolerance: Decimal = Decimal("0.01")
    # Ratios stored as double (items_per_order).
    ratio_tolerance: float = 1e-9
    # Referential integrity: ERROR when more than this share of child rows is orphaned.
    # Not zero: an order item may land a day before its order (late-arriving parent), and
    # the generator's defect mode injects a few orphans on purpose; both stay visible as counts.
    max_orphan_share: float = 0.01
    # Historical trend (WARN only): a day is flagged when its value is outside
    # median +- k * 1.4826 * MAD of the days with sales in the trailing `trend_days`.
    trend_days: int = 28
    trend_mad_k: float = 3.5
    trend_min_history: int = 7  # fewer trailing days with sales: not judged
    # A band never narrower than this share of the median: MAD is 0 on flat histories, and
    # at a few orders a day (data_seeds) a 25% band flagged 43 of 112 days; 100% flags a day
    # at more than double (or, for a band reaching 0, none of) the typical day.
    trend_min_relative_band: float = 1.0
    # Freshness (WARN only), per bronze dataset: the latest landing date with a loaded file
    # may be at most this many days before the reference date (see checks.integrity.freshness).
    # Customers and products are reference data that land when they change: no lag rule.
    freshness_lag_days: MappingProxyType = field(
        default_factory=lambda: MappingProxyType({"orders": 2, "order_items": 2})
    )
    # RFM scores.
    score_min: int = 1
    score_max: int = 5
    # How many offending keys a result shows.
    sample_size: int = 5


THRESHOLDS = Thresholds()
