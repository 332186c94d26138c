"""Batches built ahead of the training step on background threads.

Batch building is numpy, OpenCV and PyAV work that releases the GIL, so threads overlap it
with the step. Each batch is a pure function of its key, so the order threads finish in
cannot change what the step receives.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class Prefetcher:
    def __init__(self, build: Callable[[Any], Any], keys: Iterator[Hashable], depth: int = 4,
                 workers: int = 2) -> None:
        self._build = build
        self._keys = keys
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batches")
        self._queue: list[tuple[Hashable, Future]] = []
        self._depth = depth
        self._fill()

    def _fill(self) -> None:
        while len(self._queue) < self._depth:
            key = next(self._keys, None)
            if key is None:
                return
            self._queue.append((key, self._pool.submit(self._build, key)))

    def next(self) -> tuple[Hashable, Any]:
        if not self._queue:
            raise StopIteration
        key, fut = self._queue.pop(0)
        self._fill()
        return key, fut.result()

    def close(self) -> None:
        for _, fut in self._queue:
            fut.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
