"""The model's feature importance as a PNG for the UI (drawn like evaluation/plots.py: the Agg canvas,
no pyplot, so it works in a run worker, a test or the CLI alike)."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def importance_png(importance: pd.DataFrame, title: str) -> bytes:
    """A horizontal bar per feature (columns `feature`, `importance`), the most important on top."""
    shown = importance.sort_values("importance")
    figure = Figure(figsize=(7, 0.6 + 0.32 * max(len(shown), 1)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.barh(shown["feature"], shown["importance"], color="#3b6ea8")
    for y, value in enumerate(shown["importance"]):
        axes.annotate(f"{value:.1f}", (value, y), xytext=(3, 0), textcoords="offset points", va="center")
    axes.set_xlabel("importance (CatBoost PredictionValuesChange, % of the total)")
    axes.set_title(title)
    axes.margins(x=0.12)
    axes.grid(True, axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
