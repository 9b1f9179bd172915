"""The limits the data-quality rules hold the data to, set per deployment.

Each limit has a default that suits real retail data and is read from an environment variable
(or set in the ``quality`` resource's config in the launchpad), so a deployment tunes its
gates without editing code. Checks report the limit each result was held to; silver reports
its plausibility limits with every materialization.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field, field_validator

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


def _env(setting: str, default: object) -> object:
    """The setting's environment variable, as the default's type; a clear error if it is not."""
    text = os.environ.get(ENV_VARS[setting])
    if not text:
        return default
    try:
        return type(default)(text)
    except ValueError:
        raise ValueError(
            f"{ENV_VARS[setting]}={text!r} is not a valid {type(default).__name__} "
            f"(quality setting {setting})"
        ) from None


def _setting(name: str, default: object, description: str, **bounds) -> Any:
    """A field read from its environment variable, validated like configured values."""
    return Field(
        default_factory=lambda: _env(name, default),
        validate_default=True,
        description=f"{description} Env {ENV_VARS[name]}.",
        **bounds,
    )


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

    @field_validator("earliest_order_date")
    @classmethod
    def _is_a_date(cls, value: str) -> str:
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
