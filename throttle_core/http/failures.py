"""The log of storage failures, which is not a flood: the first failure of an outage with its
traceback, then one line a minute saying how many requests were let through or refused."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

REPORT_EVERY = 60.0
"""Seconds between the summary lines while the storage keeps failing; a failure after this
long without one starts a new outage, logged in full again."""


class FailureLog:
    """Logs the storage failures of one request limiter. `failed(fail_open)` is called from
    the exception handler of each failed decision; `now` gives seconds (the limiter's clock).
    Decisions that work cost nothing here."""

    __slots__ = ("_last", "_lock", "_next", "_passed", "_refused", "log", "now")

    def __init__(self, log: logging.Logger, now: Callable[[], float]) -> None:
        self.log = log
        self.now = now
        self._last: float | None = None
        self._next = 0.0
        self._passed = 0
        self._refused = 0
        self._lock = threading.Lock()

    def failed(self, fail_open: bool) -> None:
        """Count one failed decision; log it in full if it starts an outage, or the counts
        since the last line once a minute has passed."""
        now = self.now()
        with self._lock:
            fresh = self._last is None or now - self._last >= REPORT_EVERY
            self._last = now
            if not fresh:
                if fail_open:
                    self._passed += 1
                else:
                    self._refused += 1
                if now < self._next:
                    return
            passed, refused = self._passed, self._refused
            self._passed = self._refused = 0
            self._next = now + REPORT_EVERY
        if fresh:
            outcome = "letting the request through (fail_open)" if fail_open else "answering 503"
            self.log.warning("rate-limit storage failed; %s", outcome, exc_info=True)
            return
        error = sys.exc_info()[1]
        self.log.warning(
            "rate-limit storage still failing (%s): %d requests let through and %d refused "
            "in the last minute",
            "unknown error" if error is None else f"{type(error).__name__}: {error}",
            passed,
            refused,
        )
