"""The calibration plot: PNG bytes from reliability tables, and the markdown that shows it in the UI.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global backend, no display), so it
works in a run worker, a test or the CLI alike.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def calibration_png(tables: Mapping[str, pd.DataFrame], title: str = "Calibration") -> bytes:
    """A reliability diagram: observed win rate against mean predicted probability per bin, one line
    per source (marker area ~ runners in the bin), with the diagonal of perfect calibration."""
    figure = Figure(figsize=(6, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    shown = {source: table for source, table in tables.items() if len(table)}
    highest = [float(t[c].max()) for t in shown.values() for c in ("mean_predicted", "observed_win_rate")]
    top = min(1.0, 1.1 * max([0.05, *highest]))
    axes.plot([0, top], [0, top], linestyle="--", color="grey", linewidth=1, label="perfect")
    for source, table in shown.items():
        sizes = 20 + 180 * table["runners"] / max(1, int(table["runners"].max()))
        (line,) = axes.plot(table["mean_predicted"], table["observed_win_rate"], marker="", label=source)
        axes.scatter(table["mean_predicted"], table["observed_win_rate"], s=sizes, color=line.get_color())
    axes.set_xlim(0, top)
    axes.set_ylim(0, top)
    axes.set_xlabel("mean predicted win probability")
    axes.set_ylabel("observed win rate")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def png_markdown(png: bytes, alt: str = "calibration plot") -> str:
    """Markdown embedding the PNG as a data URI: Dagster's UI renders it in the metadata panel."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
