"""The calibration plot is a real PNG and is embedded as markdown the UI renders."""

from __future__ import annotations

import base64
import struct

from racing_platform.evaluation.metrics import calibration_table
from racing_platform.evaluation.plots import PNG_SIGNATURE, calibration_png, png_markdown
from racing_platform_tests.evaluation.conftest import hand_frame


def test_the_calibration_plot_is_a_valid_png_embedded_in_markdown():
    frame = hand_frame()
    tables = {s: calibration_table(frame[s], frame["won"], bins=5) for s in ("blend", "market", "oracle")}
    png = calibration_png(tables)
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (600, 500)
    assert png.rstrip().endswith(b"IEND\xaeB`\x82")
    markdown = png_markdown(png)
    assert markdown.startswith("![calibration plot](data:image/png;base64,")
    assert base64.b64decode(markdown[markdown.index(",") + 1 : -1]) == png


def test_an_empty_table_still_draws():
    assert calibration_png({"blend": calibration_table([], [], 10)}).startswith(PNG_SIGNATURE)
