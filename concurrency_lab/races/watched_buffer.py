"""Run a learner's bounded buffer under watch: who changes it, holding what, and how full.

:func:`watch_buffer` stands in a watched ``threading.Condition`` and a watched deque for the
buffer's ``cond`` and ``items``, runs two producers and two consumers, and reports what it
saw (:class:`Watch`). The self-check ``cl.check.races.bounded_buffer`` judges that report.

Introduced in ``04-races-and-locks.ipynb`` (Exercise 3).
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

__all__ = [
    "CheckOver",
    "PutWhenFull",
    "Watch",
    "WatchedCondition",
    "WatchedItems",
    "put_when_full",
    "watch_buffer",
]


class CheckOver(BaseException):
    """Raised in a learner's thread once the check has ended, to unwind it (not an Exception)."""


class WatchedCondition:
    """Stands in for the buffer's ``threading.Condition``: knows which thread holds it.

    Every wait is cut into short slices, so once the check has ended a waiting thread
    notices and is unwound with :class:`CheckOver` instead of staying blocked. With
    ``timeout_cap_s``, every finite timeout is cut to at most that long, so that a check can
    see what the learner's code does once a wait's time runs out without waiting 5 s.
    """

    def __init__(
        self,
        cond: threading.Condition,
        over: threading.Event,
        *,
        timeout_cap_s: float | None = None,
    ) -> None:
        self._cond = cond
        self._over = over
        self._cap = timeout_cap_s
        self._local = threading.local()
        self.used_by: set[str] = set()

    def held(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._cond.acquire(blocking, timeout)
        if got:
            self._local.depth = getattr(self._local, "depth", 0) + 1
            self.used_by.add(threading.current_thread().name)
        return got

    def release(self) -> None:
        self._local.depth = getattr(self._local, "depth", 0) - 1
        self._cond.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _capped(self, timeout: float | None) -> float | None:
        if timeout is None or self._cap is None:
            return timeout
        return min(timeout, self._cap)

    def wait(self, timeout: float | None = None) -> bool:
        timeout = self._capped(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._over.is_set():
                raise CheckOver
            left = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if left <= 0:
                return False
            if self._cond.wait(left):
                return True

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        timeout = self._capped(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.wait(left)
            else:
                self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        self._cond.notify(n)

    def notify_all(self) -> None:
        self._cond.notify_all()


class WatchedItems(collections.deque):  # type: ignore[type-arg]
    """Stands in for the buffer's ``items`` deque: notes every change made without ``cond``.

    It also notes when the buffer grows past its capacity, and once the check has ended,
    ``len()`` raises :class:`CheckOver` so that a thread spinning on it stops.
    """

    def __init__(self, items: Iterable[Any], watch: Watch) -> None:
        super().__init__(items)
        self._watch = watch

    def _changed(self, op: str) -> None:
        w = self._watch
        if w.cond is not None and not w.cond.held():
            w.unguarded.setdefault(op, threading.current_thread().name)
        n = collections.deque.__len__(self)
        if n > w.max_len:
            w.max_len = n
            if n > w.capacity:
                w.failed.set()

    def __len__(self) -> int:
        if self._watch.over.is_set():
            raise CheckOver
        return collections.deque.__len__(self)

    def __bool__(self) -> bool:
        return len(self) > 0

    def append(self, x: Any) -> None:
        super().append(x)
        self._changed("append")

    def appendleft(self, x: Any) -> None:
        super().appendleft(x)
        self._changed("appendleft")

    def pop(self) -> Any:  # type: ignore[override]  # deque.pop takes no index
        x = super().pop()
        self._changed("pop")
        return x

    def popleft(self) -> Any:
        x = super().popleft()
        self._changed("popleft")
        return x


class Watch:
    """What the bounded-buffer check observed while the threads ran."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.over = threading.Event()  # the check has ended: unwind every thread
        self.failed = threading.Event()  # something went wrong: end the check now
        self.cond: WatchedCondition | None = None
        self.unguarded: dict[str, str] = {}  # deque operation -> first thread doing it unlocked
        self.max_len = 0
        self.errors: list[tuple[str, BaseException]] = []
        self.received: list[Any] = []
        self.stuck: list[str] = []
        self.lock = threading.Lock()


def _worker(buf: Any, watch: Watch, role: str, index: int, n: int) -> None:
    try:
        if role == "consumer":
            time.sleep(0.02)  # consumers start late, so the producers fill the buffer first
            got = [buf.get() for _ in range(n)]
            with watch.lock:
                watch.received.extend(got)
        else:
            for k in range(n):
                buf.put((index, k))
                if watch.cond is None:  # not watched: look at the length from outside
                    size = len(getattr(buf, "items", ()))
                    watch.max_len = max(watch.max_len, size)
                    if size > watch.capacity:
                        watch.failed.set()
    except CheckOver:
        pass
    except BaseException as exc:  # shown to the learner
        with watch.lock:
            watch.errors.append((threading.current_thread().name, exc))
        watch.failed.set()


def watch_buffer(buf: Any, *, capacity: int, n_items: int, timeout_s: float) -> Watch:
    """Run 2 producers and 2 consumers of ``n_items`` each through ``buf``; report what happened.

    The interpreter's switch interval is lowered meanwhile (so threads switch often) and
    restored. The run stops as soon as a thread raises or the buffer overflows, and after
    ``timeout_s`` at the latest; threads still waiting on the watched condition are unwound.
    """
    watch = Watch(capacity)
    if isinstance(getattr(buf, "cond", None), threading.Condition):
        watch.cond = buf.cond = WatchedCondition(buf.cond, watch.over)
    if isinstance(getattr(buf, "items", None), collections.deque):
        buf.items = WatchedItems(buf.items, watch)
    roles = [("producer", 0), ("producer", 1), ("consumer", 0), ("consumer", 1)]
    threads = [
        threading.Thread(
            target=_worker,
            args=(buf, watch, role, i, n_items),
            name=f"{role}-{i + 1}",
            daemon=True,
        )
        for role, i in roles
    ]
    old = sys.getswitchinterval()
    try:
        sys.setswitchinterval(1e-4)
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout_s
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            if watch.failed.wait(0.01):
                break
        watch.stuck = [t.name for t in threads if t.is_alive()]
    finally:
        sys.setswitchinterval(old)
        watch.over.set()
        for t in threads:
            t.join(timeout=0.5)
    return watch


PutWhenFull = Literal["raised", "reported", "appended", "dropped", "waiting"]


def put_when_full(buf: Any, *, capacity: int, timeout_cap_s: float = 0.05) -> PutWhenFull | None:
    """Fill ``buf`` to ``capacity``, then ``put`` one more item with nobody to take one.

    Every finite timeout of the buffer's ``cond`` is cut to ``timeout_cap_s``, so the
    learner's wait runs out at once. What ``put`` then did:

    * ``"raised"``: it raised (say ``TimeoutError``): right.
    * ``"reported"``: it returned ``False`` without adding the item: right too.
    * ``"appended"``: it added the item anyway: the buffer overflows.
    * ``"dropped"``: it returned, without adding the item and without saying so.
    * ``"waiting"``: it still waited a second later (no timeout, or it waited again).

    ``None`` if the buffer has no ``threading.Condition`` in ``cond`` and deque in ``items``
    (nothing to cut), or if filling it failed.
    """
    if not isinstance(getattr(buf, "cond", None), threading.Condition) or not isinstance(
        getattr(buf, "items", None), collections.deque
    ):
        return None
    watch = Watch(capacity)
    watch.cond = buf.cond = WatchedCondition(buf.cond, watch.over, timeout_cap_s=timeout_cap_s)
    buf.items = WatchedItems(buf.items, watch)
    box: dict[str, Any] = {}

    def fill_then_one_more() -> None:
        try:
            for k in range(capacity):
                buf.put(("fill", k))
            box["filled"] = True
            box["returned"] = buf.put(("one", "more"))
        except CheckOver:
            pass
        except BaseException as exc:  # the answer raised: what a full buffer should do
            box["error"] = exc

    t = threading.Thread(target=fill_then_one_more, name="producer-1", daemon=True)
    t.start()
    t.join(timeout=1.0 + capacity * timeout_cap_s)
    waiting = t.is_alive()
    watch.over.set()
    t.join(timeout=0.5)
    if not box.get("filled"):
        return None
    if waiting:
        return "waiting"
    if "error" in box:
        return "raised"
    if collections.deque.__len__(buf.items) > capacity:
        return "appended"
    return "reported" if box.get("returned") is False else "dropped"
