"""The table `ModelStorage` keeps limiter states in: one row per state id."""

from __future__ import annotations

from django.db import models

MAX_ID_LENGTH = 768
"""Longest state id a row holds (fits MySQL's 3072-byte index key in utf8mb4): a key part is
at most 600 characters once escaped, which leaves 167 for the limit's id."""


class State(models.Model):
    """One limiter's state: `data` is the state's `to_dict()`; the row is dead after
    `expires_at` (the same columns as `PostgresStorage`'s table, so one SQL function decides
    on both)."""

    id = models.CharField(primary_key=True, max_length=MAX_ID_LENGTH)
    data = models.JSONField()
    expires_at = models.DateTimeField(null=True, db_index=True)

    class Meta:
        verbose_name = "rate-limit state"
        verbose_name_plural = "rate-limit states"

    def __str__(self) -> str:
        return self.id
