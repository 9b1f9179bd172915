"""PNG charts of the customer segments, as bytes.

The original design plots with seaborn + pyplot into a file; here each chart is drawn on its own
matplotlib ``Figure`` with the Agg canvas (no pyplot global state, no display, no seaborn)
and returned as PNG bytes for whoever stores or attaches them. The bytes are deterministic:
fixed size and dpi, and no metadata (matplotlib would otherwise stamp its version).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

RFM_SCORES = [1, 2, 3, 4, 5]  # the original design scores recency and frequency from 1 to 5
_DPI = 100
_PNG_METADATA = {"Software": None}  # no version stamp; Agg writes no timestamp


def _png_bytes(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata=_PNG_METADATA)
    return buffer.getvalue()


def _no_data(axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def segment_revenue_png(segment_summary_pdf: pd.DataFrame) -> bytes:
    """Bar chart of total_revenue by customer_segment, highest first.

    Input columns: customer_segment, customer_count, total_revenue, avg_customer_value,
    avg_predicted_clv, total_predicted_value (only the first and third are drawn).
    """
    figure = Figure(figsize=(8, 5), layout="tight")
    axes = figure.add_subplot()
    axes.set_title("Revenue by customer segment")
    if segment_summary_pdf.empty:
        _no_data(axes, "No customer segments yet")
        return _png_bytes(figure)

    summary = segment_summary_pdf.assign(
        # Decimals from Spark become floats; a segment of non-buyers has no revenue: 0.
        total_revenue=pd.to_numeric(segment_summary_pdf["total_revenue"]).astype(float).fillna(0.0),
        customer_segment=segment_summary_pdf["customer_segment"].fillna("Unknown").astype(str),
    ).sort_values(["total_revenue", "customer_segment"], ascending=[False, True])
    axes.bar(summary["customer_segment"], summary["total_revenue"], color="#4C72B0")
    axes.set_xlabel("Customer segment")
    axes.set_ylabel("Total revenue")
    axes.tick_params(axis="x", labelrotation=45)
    for label in axes.get_xticklabels():
        label.set_horizontalalignment("right")
    return _png_bytes(figure)


def rfm_heatmap_png(heatmap_pdf: pd.DataFrame) -> bytes:
    """Heatmap of customer_count by recency_score (rows) x frequency_score (columns).

    Input columns: recency_score, frequency_score, customer_count, avg_value. The grid always
    shows scores 1..5 (plus any other score present); empty cells are 0 customers.
    """
    figure = Figure(figsize=(6, 5), layout="tight")
    axes = figure.add_subplot()
    axes.set_title("Customers by recency and frequency score")
    if heatmap_pdf.empty:
        _no_data(axes, "No RFM scores yet")
        return _png_bytes(figure)

    recency = sorted(set(RFM_SCORES) | set(heatmap_pdf["recency_score"].dropna().astype(int)))
    frequency = sorted(set(RFM_SCORES) | set(heatmap_pdf["frequency_score"].dropna().astype(int)))
    grid = (
        heatmap_pdf.dropna(subset=["recency_score", "frequency_score"])
        .astype({"recency_score": int, "frequency_score": int, "customer_count": int})
        .pivot_table(
            index="recency_score",
            columns="frequency_score",
            values="customer_count",
            aggfunc="sum",
            fill_value=0,
        )
        .reindex(index=recency, columns=frequency, fill_value=0)
    )
    counts = grid.to_numpy(dtype=float)
    image = axes.imshow(counts, cmap="Blues", origin="lower", aspect="auto")
    figure.colorbar(image, ax=axes, label="Customers")
    axes.set_xticks(np.arange(len(frequency)), labels=[str(s) for s in frequency])
    axes.set_yticks(np.arange(len(recency)), labels=[str(s) for s in recency])
    axes.set_xlabel("Frequency score")
    axes.set_ylabel("Recency score")
    brightest = counts.max() if counts.size else 0
    for row, col in np.ndindex(counts.shape):
        value = int(counts[row, col])
        colour = "white" if brightest and value > brightest / 2 else "black"
        axes.text(col, row, str(value), ha="center", va="center", color=colour)
    return _png_bytes(figure)
