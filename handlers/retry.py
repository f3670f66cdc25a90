"""The one backoff rule: a wait that doubles with each attempt, capped, with
jitter so that many processes retrying the same thing spread out.

The outbox uses it for a failed send (15 s doubling, capped at an hour); the
processes use it to reconnect to a database or Redis that went away (a
fraction of a second doubling, capped at a few seconds)."""

from __future__ import annotations

import random


def backoff_seconds(
    attempt: int, first: float, cap: float, jitter: float = 0.2, rng: random.Random | None = None
) -> float:
    """Seconds to wait before try ``attempt + 1`` (``attempt`` >= 1 tries done):
    ``first`` doubling, capped at ``cap``, spread by ±``jitter``, never over ``cap``."""
    base = min(cap, first * 2 ** max(0, attempt - 1))
    spread = (rng or random).uniform(1 - jitter, 1 + jitter)
    return float(min(cap, base * spread))
