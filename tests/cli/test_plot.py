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
STALE = 1e-4
"""The mean difference of two pictures' pixels (each channel from 0 to 1) above which they
are not the same drawing. The same matplotlib draws the same pixels (0); a few pixels of
anti-aliasing stay below it; one panel's capacity line flipping between 0 and 1 for 20 s
instead of lying flat at 0 gives 7e-4."""


def plot(path: Path, traffic: str, *extra: str, compare: tuple[str, ...] = COMPARE) -> bytes:
    done = run_throttle("simulate", *compare, "--traffic", traffic, "--plot", str(path), *extra)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"plot written to {path}\n")
    return path.read_bytes()


def width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")


def picture_difference(drawn: Path, committed: Path) -> float:
    """The mean absolute difference of two PNGs' pixels (1.0 when their sizes differ)."""
    from matplotlib.image import imread

    new, old = imread(drawn), imread(committed)
    if new.shape != old.shape:
        return 1.0
    return float(abs(new - old).mean())


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
    assert picture_difference(tmp_path / "simulate.png", ROOT / target) < STALE, (
        "docs/images/simulate.png is stale: run make docs-images"
    )
