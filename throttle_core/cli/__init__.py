"""The `throttle` console script: demo, simulate (and plot), inspect, reset, cleanup, pg-init."""

from __future__ import annotations

from throttle_core.cli.demo import demo
from throttle_core.cli.main import main

__all__ = ["demo", "main"]
