"""Charts for the editors' report, drawn on the server as inline SVG with matplotlib (no
Rasa imports, no JavaScript, nothing from a CDN).

Readable without colour: every series has its own hatch pattern and a black outline,
and each bar carries its number (direct labels). The SVG matplotlib writes is made fit
for the staff app's Content-Security-Policy (`style-src 'self'`, which forbids inline
styles): each `style="..."` becomes SVG presentation attributes, the <style> and
<metadata> elements go, and every id is prefixed with the chart's own so several charts
can share a page. The <svg> gets role="img", an aria-label and a <title>; the page puts
a table with the same numbers beside it (editor/report_page.py).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use("svg")  # no display, no GUI toolkit
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "hsg-report", "font.size": 11})

from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)
# One look per series: a fill light enough for black labels, and a hatch of its own.
LOOKS = [("#c6dbef", ""), ("#fdd0a2", "//"), ("#c7e9c0", ".."), ("#dadaeb", "xx"), ("#fcbba1", "\\\\")]
FONT_SIZE = re.compile(r"^\d+(\.\d+)?(px|pt)$")


def _font(value: str) -> Dict[str, str]:
    """The CSS `font` shorthand matplotlib writes ("bold 10px 'DejaVu Sans'") as attributes."""
    words = value.split()
    attributes: Dict[str, str] = {}
    for index, word in enumerate(words):
        if FONT_SIZE.match(word):
            attributes["font-size"] = word
            attributes["font-family"] = " ".join(words[index + 1 :]).strip("'\"") or "sans-serif"
            break
        if word in ("bold", "normal", "bolder", "lighter") or word.isdigit():
            attributes["font-weight"] = word
        elif word in ("italic", "oblique"):
            attributes["font-style"] = word
    return attributes


def _style_to_attributes(element: ET.Element) -> None:
    style = element.attrib.pop("style", "")
    for declaration in style.split(";"):
        if ":" not in declaration:
            continue
        name, value = (part.strip() for part in declaration.split(":", 1))
        if name == "font":
            element.attrib.update(_font(value))
        elif name:
            element.set(name, value)


def _prefix_ids(root: ET.Element, prefix: str) -> None:
    href = f"{{{XLINK}}}href"
    for element in root.iter():
        if "id" in element.attrib:
            element.set("id", f"{prefix}-{element.get('id')}")
        for name, value in list(element.attrib.items()):
            if "url(#" in value:
                element.set(name, value.replace("url(#", f"url(#{prefix}-"))
            elif name == href and value.startswith("#"):
                element.set(name, f"#{prefix}-{value[1:]}")


def clean_svg(raw: str, chart_id: str, label: str) -> str:
    """matplotlib's SVG, made fit for the page (see the module's docstring)."""
    root = ET.fromstring(raw.encode("utf-8"))
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG}}}metadata", f"{{{SVG}}}style"):
                parent.remove(child)
    for element in root.iter():
        _style_to_attributes(element)
    _prefix_ids(root, chart_id)
    for name in ("width", "height"):
        root.attrib.pop(name, None)  # the page's CSS sizes it; the viewBox keeps its shape
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("id", chart_id)
    root.set("class", "chart")
    title = ET.Element(f"{{{SVG}}}title")
    title.text = label
    root.insert(0, title)
    return ET.tostring(root, encoding="unicode")


def _render(figure: Figure, chart_id: str, label: str) -> str:
    buffer = io.StringIO()
    FigureCanvasSVG(figure).print_svg(buffer)
    return clean_svg(buffer.getvalue(), chart_id, label)


def _axes(figure: Figure, ylabel: str):
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_ylabel(ylabel)
    axes.yaxis.get_major_locator().set_params(integer=True)
    return axes


def weekly_bars(
    chart_id: str,
    label: str,
    weeks: Sequence[str],
    series: Dict[str, List[int]],
    stacked: bool = False,
    unit: str = "count",
) -> str:
    """Bars per week: one bar per series side by side, or stacked; each with its number."""
    # Fixed margins (their labels are short: counts, and "W48 / Nov 23"): matplotlib's
    # constrained layout would take about half of the page's time.
    figure = Figure(figsize=(8, 3.6 if len(series) > 1 else 3.2))
    figure.subplots_adjust(left=0.08, right=0.99, bottom=0.16, top=0.82 if len(series) > 1 else 0.95)
    axes = _axes(figure, unit)
    count = len(series)
    width = 0.8 if stacked else 0.8 / max(count, 1)
    bottoms = [0] * len(weeks)
    for index, (name, values) in enumerate(series.items()):
        colour, hatch = LOOKS[index % len(LOOKS)]
        offset = 0.0 if stacked else (index - (count - 1) / 2) * width
        positions = [number + offset for number in range(len(weeks))]
        bars = axes.bar(
            positions, values, width, bottom=bottoms if stacked else None, label=name,
            color=colour, hatch=hatch, edgecolor="#1b1b1b", linewidth=0.8,
        )  # fmt: skip
        shown = [str(value) if value else "" for value in values]
        axes.bar_label(bars, labels=shown, label_type="center" if stacked else "edge", padding=0 if stacked else 2)
        if stacked:
            bottoms = [low + value for low, value in zip(bottoms, values)]
    many = len(weeks) > 10  # then only "W48", upright, so 26 weeks fit
    axes.set_xticks(range(len(weeks)), [week.split("\n")[0] for week in weeks] if many else weeks)
    axes.tick_params(axis="x", labelsize=8 if many else 10)
    axes.margins(y=0.15)
    if count > 1:  # above the plot, so the bars keep the whole width
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False)
    return _render(figure, chart_id, label)


def ranked_bars(chart_id: str, label: str, names: Sequence[str], values: Sequence[int]) -> str:
    """Horizontal bars, the largest on top, each with its number."""
    figure = Figure(figsize=(8, 0.45 * max(len(names), 2) + 0.8), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    colour, hatch = LOOKS[0]
    positions = list(range(len(names)))[::-1]
    bars = axes.barh(positions, values, color=colour, hatch=hatch, edgecolor="#1b1b1b", linewidth=0.8)
    axes.bar_label(bars, labels=[str(value) for value in values], padding=3)
    axes.set_yticks(positions, names)
    axes.set_xlabel("messages")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.margins(x=0.12)
    return _render(figure, chart_id, label)
