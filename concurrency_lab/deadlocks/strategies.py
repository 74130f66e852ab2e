"""Four ways to take two locks without deadlocking, as code you can read: :func:`pick_up`.

Coffman, Elphick and Shoshani (1971) showed that a deadlock needs four conditions at once:
mutual exclusion, hold and wait, no preemption, and circular wait. Each strategy here takes
one of them away (locks exist *for* mutual exclusion, so that one stays):

==================  ======================================================  ================
strategy            what a thread does                                      removes
==================  ======================================================  ================
``global_order``    takes its locks in one order that every thread shares   circular wait
                    (``sorted(locks, key=id)``)
``timeout_backoff`` waits for the second lock for at most ``patience_s``;   no preemption
                    if it does not come, puts the first down and retries
                    later. It *does* hold while it waits, but not forever:
                    it gives its lock back itself
``try_acquire``     takes the second lock only if it is free right now      hold and wait
                    (``blocking=False``); otherwise puts the first down. It
                    never waits while holding
``arbitrator``      asks one extra lock (the waiter) before collecting;     circular wait
                    only one thread collects at a time, so the waiting
                    cannot close a circle. The price: while that thread
                    waits for a busy lock, everyone else waits too
==================  ======================================================  ================

("No preemption" in the sense of Silberschatz, Galvin and Gagne's *Operating System
Concepts*: a thread that cannot get what it asks for gives up what it holds.)

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, cast, get_args

from ..core.validate import check_choice
from .locks import TracedLock

__all__ = ["REMOVES", "STRATEGIES", "Strategy", "check_strategy", "pick_up"]

#: The fixes a demo can use, and ``"none"`` (no fix).
Strategy = Literal["none", "global_order", "timeout_backoff", "try_acquire", "arbitrator"]

#: What each strategy does, in one phrase.
STRATEGIES: Mapping[Strategy, str] = MappingProxyType(
    {
        "none": "take the first lock, then the second, and wait as long as it takes",
        "global_order": "take both locks in one order every thread shares: sorted by id()",
        "timeout_backoff": "wait a short while for the second lock; if it does not come, put "
        "the first one down, wait a random moment, try again",
        "try_acquire": "take the second lock only if it is free right now; otherwise put the "
        "first one down, wait a random moment, try again",
        "arbitrator": "ask one waiter (an extra lock) before picking up any lock: one thread "
        "at a time collects its locks",
    }
)

#: Which of Coffman's four conditions each strategy takes away.
REMOVES: Mapping[Strategy, str] = MappingProxyType(
    {
        "none": "nothing",
        "global_order": "circular wait",
        "timeout_backoff": "no preemption",
        "try_acquire": "hold and wait",
        "arbitrator": "circular wait",
    }
)


def check_strategy(strategy: object) -> Strategy:
    """``strategy`` if it is one of :data:`Strategy`, else a ``ValueError`` listing them."""
    return cast(Strategy, check_choice(strategy, "strategy", get_args(Strategy)))


def pick_up(
    first: TracedLock,
    second: TracedLock,
    strategy: Strategy,
    *,
    waiter: TracedLock,
    rng: random.Random,
    patience_s: float = 0.02,
) -> bool:
    """Try once to hold both locks. True: you hold both. False: you hold none; retry later.

    This is the whole of each strategy; the demos call it for every meal or transfer.

    Args:
        first, second: the two locks this thread needs, in its own order.
        strategy: one of :data:`STRATEGIES`.
        waiter: the one extra lock of the ``"arbitrator"`` strategy.
        rng: where random back-off times come from.
        patience_s: how long ``"timeout_backoff"`` waits for the second lock; also the mean
            back-off time.

    Raises:
        DeadlockError: a watchdog chose this thread to break a deadlock (nothing is held).

    Introduced in ``05-deadlocks.ipynb``.
    """
    if strategy == "arbitrator":
        with waiter:  # only one thread at a time collects its locks
            first.acquire()
            second.acquire()
        return True
    if strategy == "global_order":
        first, second = sorted((first, second), key=id)  # the same order in every thread
    first.acquire()
    try:
        if strategy == "timeout_backoff":
            got = second.acquire(timeout=patience_s)  # holds `first` while it waits, not forever
        elif strategy == "try_acquire":
            got = second.acquire(blocking=False)  # never waits while holding `first`
        else:
            got = second.acquire()  # waits as long as it takes
    except BaseException:  # a watchdog chose this thread to break a deadlock
        first.release()
        raise
    if not got:
        first.release()  # put the first lock down too ...
        time.sleep(rng.uniform(0, 2 * patience_s))  # ... and wait a random moment
    return got
