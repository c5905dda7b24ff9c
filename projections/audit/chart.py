"""The budget report as a chart (`salur report budget --format png|svg`): one panel per budget source.

In each panel a bar per program and tahap ("WALIKOTA 1") shows what was paid, net of returns, with
its value written on it; a short black line across the bar marks the tahap's budget ceiling. Rupiah
are shown in juta (millions) or miliar (billions), whichever keeps the largest value readable; the
title carries the as-of date and the foot the chain head the figures reflect. SVG keeps its text as
text (`svg.fonttype: none`), so the figures can be read back and searched.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl

mpl.use("Agg")  # no display: files only (before pyplot is imported)

import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from salur_cases.projections.audit.provenance import Provenance

JUTA, MILIAR = 1_000_000, 1_000_000_000
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def unit_of(largest: int) -> tuple[int, str]:
    """The divisor and name of the unit that shows `largest` readably: miliar from 1 miliar on, else juta."""
    return (MILIAR, "miliar") if largest >= MILIAR else (JUTA, "juta")


def value_label(amount: int, divisor: int) -> str:
    """An amount in the unit with two decimals, as the axis writes numbers: `1,234.50`."""
    return f"{amount / divisor:,.2f}"


def budget_chart(rows: Sequence[dict[str, Any]], provenance: Provenance, fmt: str) -> bytes | str:
    """The chart as PNG bytes or SVG text."""
    sources = list(dict.fromkeys(r["budget_source"] for r in rows))
    largest = max([1, *(max(r["paid_idr"] - r["returned_idr"], r["ceiling_idr"]) for r in rows)])
    divisor, unit = unit_of(largest)
    day = provenance.as_of.date()
    with mpl.rc_context({"svg.fonttype": "none", "font.size": 9}):
        figure, panels = plt.subplots(
            len(sources) or 1, 1, figsize=(10, 2.6 * max(1, len(sources)) + 0.8), squeeze=False
        )
        for axes, source in zip(panels[:, 0], sources, strict=False):
            _panel(axes, source, [r for r in rows if r["budget_source"] == source], divisor, unit)
        figure.suptitle(
            f"Paid, net of returns, by budget source (Rupiah {unit}), as of "
            f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        )
        figure.text(0.01, 0.005, f"chain head {provenance.head}", fontsize=6, color="#555555")
        figure.tight_layout(rect=(0, 0.02, 1, 1))
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt)
        plt.close(figure)
    return buffer.getvalue() if fmt == "png" else buffer.getvalue().decode("utf-8")


def _panel(axes: Any, source: str, rows: Sequence[dict[str, Any]], divisor: int, unit: str) -> None:
    labels = [f"{r['program']} {r['tahap']}" for r in rows]
    net = [r["paid_idr"] - r["returned_idr"] for r in rows]
    bars = axes.bar(range(len(rows)), [n / divisor for n in net], 0.6, color="#4c72b0", label="paid")
    axes.bar_label(bars, labels=[value_label(n, divisor) for n in net], padding=2)
    for i, row in enumerate(rows):
        axes.hlines(
            row["ceiling_idr"] / divisor,
            i - 0.4,
            i + 0.4,
            colors="black",
            linewidth=1.5,
            label="ceiling" if i == 0 else None,
        )
    axes.set_xticks(range(len(rows)), labels)
    axes.set_ylabel(f"Rupiah ({unit})")
    axes.set_title(source, loc="left")
    axes.margins(y=0.2)
    axes.legend(loc="upper right")
