"""In-process single-flight: concurrent identical calls share one computation.

``SingleFlight.do(key, fn)`` runs ``fn()`` in its own task the first time a key is asked for and
lets every concurrent caller of the same key await that task (through ``asyncio.shield``), so:

* N concurrent identical calls run ``fn`` once and all get its value;
* if ``fn`` raises, every caller gets the same exception (nothing is remembered afterwards: the
  next call runs ``fn`` again);
* a caller that is cancelled (a client that went away) leaves the shared task running for the
  others, whoever started it; the task is cancelled only when the *last* interested caller is
  gone, so an abandoned computation does not keep an engine busy;
* if the shared task ends cancelled while a caller is still waiting (``fn`` cancelled itself), the
  caller starts a fresh flight once instead of seeing a ``CancelledError`` it did not ask for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class _Call(Generic[T]):
    task: asyncio.Task[T]
    waiters: int = field(default=0)


def _self_cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class SingleFlight(Generic[T]):
    """Key → running task; one per cache instance (never shared between instances)."""

    def __init__(self) -> None:
        self._calls: dict[str, _Call[T]] = {}

    def in_flight(self, key: str) -> bool:
        return key in self._calls

    def __len__(self) -> int:
        return len(self._calls)

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """``(fn's result, shared)``: ``shared`` is True when another caller's flight was joined."""
        for attempt in range(2):
            call = self._calls.get(key)
            shared = call is not None
            if call is None:
                call = self._start(key, fn)
            call.waiters += 1
            try:
                return await asyncio.shield(call.task), shared
            except asyncio.CancelledError:
                # The shared task ended cancelled but nobody cancelled us: try once more.
                if attempt == 0 and call.task.cancelled() and not _self_cancelling():
                    continue
                raise
            finally:
                call.waiters -= 1
                if call.waiters == 0 and not call.task.done():
                    # Nobody wants the value any more: stop the work, and let the next caller
                    # start afresh rather than join a task that is being cancelled.
                    call.task.cancel()
                    if self._calls.get(key) is call:
                        del self._calls[key]
        raise AssertionError("unreachable")  # pragma: no cover

    def _start(self, key: str, fn: Callable[[], Awaitable[T]]) -> _Call[T]:
        async def run() -> T:
            return await fn()

        call: _Call[T] = _Call(asyncio.get_running_loop().create_task(run(), name=f"singleflight:{key}"))
        self._calls[key] = call

        def done(task: asyncio.Task[T]) -> None:
            if self._calls.get(key) is call:
                del self._calls[key]
            if not task.cancelled():
                task.exception()  # mark retrieved: the waiters (if any) have seen it

        call.task.add_done_callback(done)
        return call
