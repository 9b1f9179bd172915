"""Charts: valid, deterministic PNG bytes, also for empty inputs (no Spark needed)."""

from __future__ import annotations

import struct

import pandas as pd
import pytest

from lakehouse_assets.transforms.charts import rfm_heatmap_png, segment_revenue_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SEGMENT_SUMMARY = pd.DataFrame(
    {
        "customer_segment": ["Champions", "At Risk", "Lost"],
        "customer_count": [2, 3, 1],
        "total_revenue": [1500.0, 620.5, 35.0],
        "avg_customer_value": [750.0, 206.83, 35.0],
        "avg_predicted_clv": [1500.0, 248.2, 28.0],
        "total_predicted_value": [3000.0, 744.6, 28.0],
    }
)
HEATMAP = pd.DataFrame(
    {
        "recency_score": [5, 5, 1, 3],
        "frequency_score": [5, 1, 1, 2],
        "customer_count": [2, 4, 1, 3],
        "avg_value": [750.0, 80.0, 35.0, 120.0],
    }
)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


@pytest.mark.parametrize(
    ("draw", "data", "size"),
    [(segment_revenue_png, SEGMENT_SUMMARY, (800, 500)), (rfm_heatmap_png, HEATMAP, (600, 500))],
)
def test_chart_is_a_deterministic_png(draw, data, size):
    png = draw(data)
    assert png_size(png) == size
    assert draw(data.copy()) == png
    assert b"Software" not in png and b"matplotlib" not in png


@pytest.mark.parametrize(
    ("draw", "data"), [(segment_revenue_png, SEGMENT_SUMMARY), (rfm_heatmap_png, HEATMAP)]
)
def test_chart_of_empty_input_is_still_a_png(draw, data):
    png = draw(data.iloc[0:0])
    png_size(png)
    assert png != draw(data)


def test_segment_chart_accepts_decimal_revenue_from_spark():
    from decimal import Decimal

    as_decimals = SEGMENT_SUMMARY.assign(
        total_revenue=[Decimal("1500.00"), Decimal("620.50"), Decimal("35.00")]
    )
    assert segment_revenue_png(as_decimals) == segment_revenue_png(SEGMENT_SUMMARY)


def test_segment_without_revenue_draws_a_zero_bar():
    with_null = SEGMENT_SUMMARY.assign(total_revenue=[1500.0, 620.5, None])
    assert with_null.pipe(segment_revenue_png) == SEGMENT_SUMMARY.assign(
        total_revenue=[1500.0, 620.5, 0.0]
    ).pipe(segment_revenue_png)
