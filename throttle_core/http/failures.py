"""The log of storage failures, which is not a flood: the first failure with its traceback,
then one line a minute saying how many requests were let through or refused since."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

REPORT_EVERY = 60.0
"""Seconds between the summary lines while the storage keeps failing."""


class FailureLog:
    """Logs storage failures of one request limiter. `failed(fail_open)` is called from the
    exception handler of each failed decision; `recovered()` after the next decision that
    worked, which ends the outage (and logs its totals), so the next failure is logged in
    full again. `now` gives seconds (the limiter's clock)."""

    __slots__ = ("_lock", "_next", "_passed", "_refused", "failing", "log", "now")

    def __init__(self, log: logging.Logger, now: Callable[[], float]) -> None:
        self.log = log
        self.now = now
        self.failing = False
        self._next = 0.0
        self._passed = 0
        self._refused = 0
        self._lock = threading.Lock()

    def failed(self, fail_open: bool) -> None:
        """Count one failed decision; log it in full if it starts an outage, or the counts
        since the last line once a minute has passed."""
        outcome = "letting the request through (fail_open)" if fail_open else "answering 503"
        with self._lock:
            if not self.failing:
                self.failing = True
                self._next = self.now() + REPORT_EVERY
                self._passed = self._refused = 0
                self.log.warning("rate-limit storage failed; %s", outcome, exc_info=True)
                return
            if fail_open:
                self._passed += 1
            else:
                self._refused += 1
            now = self.now()
            if now < self._next:
                return
            passed, refused = self._passed, self._refused
            self._passed = self._refused = 0
            self._next = now + REPORT_EVERY
        self.log.warning(
            "rate-limit storage still failing (%s): %d requests let through and %d refused "
            "in the last minute",
            _last_error(),
            passed,
            refused,
        )

    def recovered(self) -> None:
        """The storage answered again: log the requests since the last line, end the outage."""
        with self._lock:
            if not self.failing:
                return
            self.failing = False
            passed, refused = self._passed, self._refused
        self.log.warning(
            "rate-limit storage answers again; %d requests were let through and %d refused "
            "since the last report",
            passed,
            refused,
        )


def _last_error() -> str:
    error = sys.exc_info()[1]
    return "unknown error" if error is None else f"{type(error).__name__}: {error}"
