"""HTML report: self-contained, well-formed SVG, escaped text, decision and SRM shown."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from lambdas.ab_analysis.engine import analyse
from lambdas.ab_analysis.report import lift_plot, render_html
from tests.ab_analysis.experiments import two_arm_input


def test_report_is_self_contained_with_one_parseable_svg_per_metric() -> None:
    html = render_html(analyse(two_arm_input(lift=0.05)).to_dict())
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        ET.fromstring(svg)
    assert "<script" not in html
    assert not re.search(r"(src|href)=\"https?://", html)
    assert "Decision: ship B" in html


def test_report_escapes_names_from_the_input() -> None:
    data = two_arm_input()
    data["metrics"][0]["name"] = "<b>revenue</b>"
    html = render_html(analyse(data).to_dict())
    assert "&lt;b&gt;revenue&lt;/b&gt;" in html
    assert "<b>revenue</b>" not in html


def test_lift_plot_places_a_positive_lift_right_of_zero() -> None:
    metric = analyse(two_arm_input(lift=0.05)).to_dict()["metrics"][0]
    svg = ET.fromstring(lift_plot(metric))
    ns = "{http://www.w3.org/2000/svg}"
    zero_x = float(svg.findall(f"{ns}line")[0].get("x1", "0"))
    point_x = float(svg.findall(f"{ns}circle")[0].get("cx", "0"))
    assert point_x > zero_x


def test_srm_mismatch_is_highlighted() -> None:
    data = two_arm_input()
    data["assignments"] = {"A": 4000, "B": 4600}
    html = render_html(analyse(data).to_dict())
    assert "mismatch: no conclusion is drawn" in html
