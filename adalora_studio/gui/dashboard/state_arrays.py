"""A preallocated, growing float array: what the dashboard's state appends every step to (no Qt)."""

from __future__ import annotations

import math

import numpy as np


class GrowingArray:
    """A preallocated 1-D float array that doubles its capacity when full; ``view()`` never copies."""

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty(max(16, capacity), dtype=np.float64)
        self._n = 0

    def append(self, value: float) -> None:
        """Add one value (amortised O(1))."""
        if self._n == self._data.shape[0]:
            grown = np.empty(self._data.shape[0] * 2, dtype=np.float64)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n] = value
        self._n += 1

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` values."""
        self._n = max(0, min(n, self._n))

    def view(self) -> np.ndarray:
        """The values so far (a view: valid until the next append)."""
        return self._data[: self._n]

    def last(self, default: float = math.nan) -> float:
        """The newest value, or ``default`` when empty."""
        return float(self._data[self._n - 1]) if self._n else default

    def __len__(self) -> int:
        return self._n
