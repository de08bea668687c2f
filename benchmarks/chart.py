"""A horizontal bar chart written as a PNG with nothing but zlib and struct (no plotting
dependency): bars of ratios, a parity line at 1.0 and a tick at each bar's target."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (30, 30, 30)
GREY: RGB = (150, 150, 150)
GREEN: RGB = (46, 139, 87)
ORANGE: RGB = (230, 126, 34)
RED: RGB = (200, 30, 30)

# A 5x7 bitmap font: 7 rows per glyph, each row a byte whose low 5 bits are the pixels.
FONT = {
    "A": "0e11111f111111", "B": "1e11111e11111e", "C": "0e11101010110e",
    "D": "1c12111111121c", "E": "1f10101e10101f", "F": "1f10101e101010",
    "G": "0e11101711110f", "H": "1111111f111111", "I": "0e04040404040e",
    "J": "0702020202120c", "K": "11121418141211", "L": "1010101010101f",
    "M": "111b1515111111", "N": "11111915131111", "O": "0e11111111110e",
    "P": "1e11111e101010", "Q": "0e11111115120d", "R": "1e11111e141211",
    "S": "0f10100e01011e", "T": "1f040404040404", "U": "1111111111110e",
    "V": "11111111110a04", "W": "1111111515150a", "X": "11110a040a1111",
    "Y": "1111110a040404", "Z": "1f01020408101f",
    "0": "0e11131519110e", "1": "040c040404040e", "2": "0e11010204081f",
    "3": "1f02040201110e", "4": "02060a121f0202", "5": "1f101e0101110e",
    "6": "0608101e11110e", "7": "1f010204080808", "8": "0e11110e11110e",
    "9": "0e11110f01020c", " ": "00000000000000", ".": "00000000000c0c",
    ":": "000c0c000c0c00", "/": "00010204081000", "-": "0000001f000000",
    "_": "0000000000001f", "(": "02040808080402", ")": "08040202020408",
    "%": "18190204081303", ",": "000000000c0408", "=": "00001f001f0000",
    "<": "02040810080402", ">": "08040201020408", "+": "0004041f040400",
    ";": "000c0c000c0408", "?": "0e110102040004",
}  # fmt: skip


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, and the value it should reach (None: no target)."""

    label: str
    value: float
    target: float | None = None


class Canvas:
    """An RGB image in memory, with rectangles and 5x7 text, that encodes itself as a PNG."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(bytes(WHITE) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: RGB) -> None:
        x0, x1 = max(0, x), min(self.width, x + w)
        if x1 <= x0:
            return
        row = bytes(color) * (x1 - x0)
        for yy in range(max(0, y), min(self.height, y + h)):
            start = (yy * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, text: str, color: RGB = BLACK, scale: int = 2) -> int:
        """Draw `text` (upper-cased) with its top-left at (x, y); return the x after it."""
        for char in text.upper():
            glyph = bytes.fromhex(FONT.get(char, FONT["?"]))
            for row, bits in enumerate(glyph):
                for col in range(5):
                    if bits & (0x10 >> col):
                        self.rect(x + col * scale, y + row * scale, scale, scale, color)
            x += 6 * scale
        return x

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )
        header = struct.pack("!IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + b"".join(
            _chunk(tag, data)
            for tag, data in ((b"IHDR", header), (b"IDAT", zlib.compress(raw, 9)), (b"IEND", b""))
        )


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + tag + data + struct.pack("!I", zlib.crc32(tag + data))


def bar_chart(title: str, bars: Sequence[Bar], legend: str, width: int = 1000) -> bytes:
    """Horizontal bars, green where a bar reaches its target (orange where it does not, grey
    without one), a grey line at 1.0 and a red tick at each target; returns PNG bytes."""
    row, top, left, right = 26, 50, 330, 90
    height = top + row * len(bars) + 50
    canvas = Canvas(width, height)
    canvas.text(10, 12, title, scale=2)
    scale_max = max([1.0, *(b.value for b in bars), *(b.target or 0.0 for b in bars)]) * 1.05
    span = width - left - right

    def at(value: float) -> int:
        return left + round(span * min(value, scale_max) / scale_max)

    for i, bar in enumerate(bars):
        y = top + i * row
        canvas.text(10, y + 5, bar.label[:26], scale=2)
        color = GREY if bar.target is None else GREEN if bar.value >= bar.target else ORANGE
        canvas.rect(left, y + 3, at(bar.value) - left, row - 8, color)
        end = at(bar.value)
        if bar.target is not None:
            canvas.rect(at(bar.target) - 1, y, 3, row - 2, RED)
            end = max(end, at(bar.target) + 2)
        canvas.text(end + 6, y + 5, f"{bar.value:.2f}", scale=2)
    canvas.rect(at(1.0), top - 6, 1, row * len(bars) + 6, GREY)
    canvas.text(10, height - 30, legend, color=GREY, scale=2)
    return canvas.png()
