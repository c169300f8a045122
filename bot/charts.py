"""Charts of the follow-up as PNG images: matplotlib's Agg renderer, no pyplot.

Commands run in worker threads (bot/workers.py): each chart is its own ``Figure`` drawn on its
own Agg canvas, with none of pyplot's global state, so two reports can draw at once. Every
chart is the same size (``WIDTH`` × ``HEIGHT`` pixels), whatever it shows. The texts (title,
axis labels, legend, the categories) come translated from the caller: ``chart`` returns the
Figure (a test reads its title and legend from it), ``png`` renders one to bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display: the only backend the bot ever uses

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

WIDTH, HEIGHT, DPI = 1000, 560, 100
COLOURS = ("#2f6f8f", "#e08a2e", "#5a9e4b", "#b84a62", "#7a5ea8", "#8c8c8c")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


def chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    xlabel: str = "",
    ylabel: str = "",
    note: str = "",
) -> Figure:
    """Grouped bars: one group per category (a month, a circle…), one bar per series."""
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    count = max(len(series), 1)
    width = 0.8 / count
    positions = list(range(len(categories)))
    for index, one in enumerate(series):
        offset = (index - (count - 1) / 2) * width
        axes.bar(
            [p + offset for p in positions],
            list(one.values),
            width=width,
            label=one.label,
            color=COLOURS[index % len(COLOURS)],
        )
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xticks(positions)
    rotate = len(categories) > 6 or any(len(c) > 12 for c in categories)
    axes.set_xticklabels(
        list(categories), rotation=30 if rotate else 0, ha="right" if rotate else "center"
    )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if series:
        axes.legend(loc="upper left", fontsize="small", frameon=False)
    if note:
        figure.text(0.01, 0.01, note, fontsize="small", color="#555555")
    figure.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.22 if rotate else 0.14)
    return figure


def png(figure: Figure) -> bytes:
    """The figure as a PNG of exactly its size (no tight bounding box: the size stays fixed).

    The chart's words travel in the PNG's own text chunks too (Title: the axes' title;
    Description: the legend, then the categories, separated by " | "), so that a reader without
    sight of the image, and a test, can read what it says without looking at pixels."""
    out = io.BytesIO()
    axes = figure.axes[0] if figure.axes else None
    legend = axes.get_legend() if axes else None
    words = [text.get_text() for text in legend.get_texts()] if legend else []
    words += [label.get_text() for label in axes.get_xticklabels()] if axes else []
    metadata = {"Title": axes.get_title() if axes else "", "Description": " | ".join(words)}
    figure.savefig(out, format="png", dpi=DPI, metadata=metadata)
    return out.getvalue()
