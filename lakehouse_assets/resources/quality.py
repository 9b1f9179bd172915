"""The limits the data-quality rules hold the data to, set per deployment.

Each limit has a default that suits real retail data and is set by an environment variable
(``resources.from_environment``) or in the ``quality`` resource's config in the launchpad, so a
deployment tunes its gates without editing code. Checks report the limit each result was held to; silver reports
its plausibility limits with every materialization.
"""

from __future__ import annotations

import dataclasses
import operator
import datetime as dt
from decimal import Decimal
from typing import Any

from dagster import ConfigurableResource, EnvVar
from pydantic import Field, ValidationInfo, field_validator

from lakehouse_assets.checks.rules import THRESHOLDS, Thresholds
from lakehouse_assets.transforms.silver import Plausibility

DEFAULTS = Plausibility()

# setting -> environment variable; also what failed checks tell the user to change.
ENV_VARS = {
    "max_orphan_share": "LAKEHOUSE_MAX_ORPHAN_SHARE",
    "earliest_order_date": "LAKEHOUSE_EARLIEST_ORDER_DATE",
    "max_future_days": "LAKEHOUSE_MAX_FUTURE_DAYS",
    "max_quantity": "LAKEHOUSE_MAX_QUANTITY",
    "max_unit_price": "LAKEHOUSE_MAX_UNIT_PRICE",
}


# What EnvVar.int returns (its class is not public): an integer known only when a run starts.
_DEFERRED = (EnvVar, type(EnvVar.int("LAKEHOUSE")))

# setting -> {"ge" | "gt" | "le": limit} its value must satisfy.
BOUNDS: dict[str, dict[str, float]] = {}
_COMPARISONS = {
    "ge": (operator.ge, "greater than or equal to"),
    "gt": (operator.gt, "greater than"),
    "le": (operator.le, "less than or equal to"),
}


def _setting(name: str, default: object, description: str, **bounds: float) -> Any:
    """A field with its default, its bounds and the environment variable that sets it.

    The bounds are checked by ``QualitySettings._within_bounds``, not by pydantic: a value
    given as an ``EnvVar`` is only known when the run starts (Dagster validates it then).
    """
    BOUNDS[name] = bounds
    return Field(default=default, description=f"{description} Env {ENV_VARS[name]}.")


class QualitySettings(ConfigurableResource):
    """Thresholds of the quality checks and bounds of silver's plausibility rules."""

    max_orphan_share: float = _setting(
        "max_orphan_share", THRESHOLDS.max_orphan_share,
        "Referential integrity fails above this share of child rows whose parent is unknown "
        "(late-arriving parents stay visible below it).",
        ge=0, le=1,
    )
    earliest_order_date: str = _setting(
        "earliest_order_date", DEFAULTS.earliest_order_date.isoformat(),
        "Orders dated before this day (YYYY-MM-DD) are quarantined as too_early.",
    )
    max_future_days: int = _setting(
        "max_future_days", DEFAULTS.max_future_days,
        "Order dates and customer sign-ups may lie this many days after their landing date "
        "(time zones); later ones are quarantined as future.",
        ge=0,
    )
    max_quantity: int = _setting(
        "max_quantity", DEFAULTS.max_quantity,
        "Order item quantities above this are quarantined as above_max.",
        gt=0,
    )
    max_unit_price: float = _setting(
        "max_unit_price", float(DEFAULTS.max_unit_price),
        "Unit, list and cost prices above this are quarantined as above_max.",
        gt=0,
    )

    @field_validator(*BOUNDS, mode="before")
    @classmethod
    def _within_bounds(cls, value: float, info: ValidationInfo) -> float:
        if isinstance(value, _DEFERRED):
            return value  # resolved and validated when the run starts
        for name, limit in BOUNDS[info.field_name].items():
            holds, says = _COMPARISONS[name]
            if not holds(value, limit):
                raise ValueError(
                    f"{info.field_name} must be {says} {limit} (env "
                    f"{ENV_VARS[info.field_name]}), not {value!r}"
                )
        return value

    @field_validator("earliest_order_date", mode="before")
    @classmethod
    def _is_a_date(cls, value: str) -> str:
        if isinstance(value, EnvVar):
            return value  # resolved and validated when the run starts
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(
                f"earliest_order_date must be a date YYYY-MM-DD (env "
                f"{ENV_VARS['earliest_order_date']}), not {value!r}"
            ) from None

    def thresholds(self) -> Thresholds:
        return dataclasses.replace(THRESHOLDS, max_orphan_share=self.max_orphan_share)

    def plausibility(self) -> Plausibility:
        return Plausibility(
            earliest_order_date=dt.date.fromisoformat(self.earliest_order_date),
            max_future_days=self.max_future_days,
            max_quantity=self.max_quantity,
            max_unit_price=Decimal(str(self.max_unit_price)),
        )
