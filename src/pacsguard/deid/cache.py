"""A small least-recently-used cache for objects built per patient (compiled patterns)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    """Keeps the ``size`` most recently used values; builds missing ones with ``make``."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = self._items[key] = make()
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value
