"""`throttle simulate --plot`: real PNG and SVG files that follow the traffic, and a clear
message when matplotlib (the plot extra) is missing."""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from tests.cli.conftest import run_throttle

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COMPARE = ("10/second", "--policy", "all", "--duration", "5s")
STALE_PIXELS = 20
"""Pixels a redrawn documentation picture may differ by (the picture of one stale figure
of text differs by hundreds; a redraw by the same matplotlib by none)."""


def plot(path: Path, traffic: str, *extra: str, compare: tuple[str, ...] = COMPARE) -> bytes:
    done = run_throttle("simulate", *compare, "--traffic", traffic, "--plot", str(path), *extra)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"plot written to {path}\n")
    return path.read_bytes()


def width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")


def changed_pixels(drawn: Path, committed: Path) -> int:
    """How many pixels of two PNGs differ visibly (a channel by more than a tenth); every
    pixel when their sizes differ. A stale label or a moved line changes hundreds."""
    from matplotlib.image import imread

    new, old = imread(drawn), imread(committed)
    if new.shape != old.shape:
        return int(max(new.size, old.size))
    return int((abs(new - old).max(axis=-1) > 0.1).sum())


def test_a_png_plot_is_a_png_that_follows_the_traffic(tmp_path: Path) -> None:
    steady = plot(tmp_path / "steady.png", "steady:8/s")
    assert steady.startswith(PNG_MAGIC)
    assert steady[12:16] == b"IHDR"
    one = plot(tmp_path / "one.png", "steady:8/s", compare=("10/second", "--duration", "5s"))
    assert width(steady) > 2 * width(one)  # three policies side by side
    assert plot(tmp_path / "again.png", "steady:8/s") == steady
    assert plot(tmp_path / "burst.png", "steady:8/s+burst:15@2s") != steady


def test_an_svg_plot_is_an_svg_document(tmp_path: Path) -> None:
    svg = plot(tmp_path / "plot.svg", "poisson:9/s")
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"10/second, token_bucket" in svg
    assert plot(tmp_path / "again.svg", "poisson:9/s") == svg
    assert plot(tmp_path / "other.svg", "poisson:9/s", "--seed", "1") != svg


def test_without_matplotlib_the_message_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "matplotlib").mkdir()
    (tmp_path / "matplotlib" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'matplotlib'\", name='matplotlib')\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    out = tmp_path / "plot.png"
    done = run_throttle("simulate", "5/s", "--traffic", "steady:1/s", "--plot", str(out), env=env)
    assert done.returncode == 1
    assert done.stderr == (
        "throttle simulate: error: plotting needs matplotlib: matplotlib is not installed; "
        "install it with: pip install -e '.[plot]' (in a checkout of throttle-suite)\n"
    )
    assert not out.exists()
    assert run_throttle("simulate", "5/s", "--traffic", "steady:1/s", env=env).returncode == 0


def test_the_documentation_picture_comes_from_the_make_target(tmp_path: Path) -> None:
    recipe = (ROOT / "Makefile").read_text().split("\ndocs-images:", 1)[1]
    command = next(line.strip() for line in recipe.splitlines() if "throttle simulate" in line)
    args = shlex.split(command)[2:]
    target = args[args.index("--plot") + 1]
    assert target == "docs/images/simulate.png"
    assert (ROOT / target).read_bytes().startswith(PNG_MAGIC)
    assert f"]({target.removeprefix('docs/')})" in (ROOT / "docs" / "cli.md").read_text()
    args[args.index("--plot") + 1] = str(tmp_path / "simulate.png")
    done = run_throttle("simulate", *args)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "simulate.png").read_bytes().startswith(PNG_MAGIC)
    assert re.search(r"most admitted in any 10 s +20 \(limit 10\)", done.stdout)
    assert changed_pixels(tmp_path / "simulate.png", ROOT / target) < STALE_PIXELS, (
        "docs/images/simulate.png is stale (or drawn by another matplotlib): run make docs-images"
    )
