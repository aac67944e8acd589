"""Calls on a few threads, results taken in the order they finish (API requests, conversations)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def as_finished(fn: Callable[[T], R], args: Iterable[T], workers: int) -> Iterator[tuple[T, R]]:
    """``(arg, fn(arg))`` for each arg, computed on ``workers`` threads and yielded as each finishes.

    A new call starts only when the caller takes a result, so at most ``workers`` calls are ever in flight;
    when the caller stops (an error, Ctrl-C) calls not yet started are cancelled.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbench-api")
    queue = iter(args)
    pending: dict[Future[R], T] = {}
    try:
        for arg in itertools.islice(queue, workers):
            pending[pool.submit(fn, arg)] = arg
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                arg = pending.pop(future)
                yield arg, future.result()
                for nxt in itertools.islice(queue, 1):
                    pending[pool.submit(fn, nxt)] = nxt
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
