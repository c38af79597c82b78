"""The HTML report's content, and the profiling path staying free of scipy (Parquet workers)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from lambdas.drift.dataset_profile import profile_baseline, profile_current
from lambdas.drift.decision import score
from lambdas.drift.report_html import histogram_svg, render_html


def test_report_is_self_contained_escapes_names_and_marks_drift():
    rng = np.random.default_rng(3)
    baseline = profile_baseline(
        {"<b>amount</b>": rng.normal(size=500), "c": rng.choice(np.array(["x", "y"]), 500)}
    )
    current = profile_current(
        baseline, {"<b>amount</b>": rng.normal(2, 1, 300), "c": rng.choice(np.array(["x", "y"]), 300)}
    )
    result = score(baseline, current)
    page = render_html(baseline, current, result, title="t & t")
    assert "<b>amount</b>" not in page and "&lt;b&gt;amount&lt;/b&gt;" in page
    assert "<title>t &amp; t</title>" in page
    assert page.count("<svg") == 2 and "<script" not in page and "<link" not in page
    assert "Drift detected" in page and 'class="drift"' in page


def test_histogram_bars_scale_to_the_largest_share():
    svg = histogram_svg(["a", "b"], [0.5, 0.25], [0.25, 0.0])
    assert svg.count("<rect") == 4
    assert 'height="150.0"' in svg and 'height="75.0"' in svg and 'height="0.0"' in svg


def test_profiling_worker_path_never_imports_scipy():
    code = (
        "import sys, numpy as np\n"
        "import lambdas.drift.map_handler, lambdas.drift.run\n"
        "from lambdas.drift.dataset_profile import profile_baseline, profile_current\n"
        "from lambdas.drift.serialization import dumps\n"
        "b = profile_baseline({'x': np.arange(100.0), 'c': np.array(['a'] * 100)})\n"
        "dumps(profile_current(b, {'x': np.arange(50.0), 'c': np.array(['b'] * 50)}))\n"
        "assert 'scipy' not in sys.modules, sorted(m for m in sys.modules if m.startswith('scipy'))[:5]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
