"""Fidelity of lesson 02's headline demos: does each state the true answer, run after run?

``HEADLINE_DEMOS`` maps a name to a function that runs the demo exactly as
``02-the-gil.ipynb`` does (same calls, default sizes) and judges its printed sentence against
what is true on this machine (``benchmarks/bench_fidelity.py`` runs them):

* **threads vs processes** (``cl.gil.threads_vs_processes()``). True with the GIL on and
  2+ usable cores: threads give no gain (within 15 % of 1x), processes a clear one (even the
  lower repeats above 1.15x). ``right`` when the sentence states both; ``flagged`` when it
  declines ("No conclusion this time: rerun"); ``wrong`` when it states anything else.
* **which work threads speed up** (``cl.gil.measure_thread_scaling()``). True with the GIL
  and 2+ cores: pure Python no gain; sha256, zlib and waiting a clear gain. Same verdicts.
* **convoy effect** (``cl.gil.measure_switch_interval()``). True with the GIL: beside a
  CPU-bound thread the probe wakes about one switch interval late (0.5x to 3x the interval,
  at every interval, from 5+ wake-ups, while alone it wakes well under half the shortest
  interval late). ``right`` when the sentence names the convoy effect; ``flagged`` when it
  says the runs cannot be read; ``wrong`` if it claimed the effect without the GIL, or its
  absence with it.

Without the GIL (a free-threaded build) the truths change (threads gain too; no convoy), and
so does what counts as right; with 1 usable core, no computing work can gain.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.machine import gil_enabled, usable_cores
from ..scaling.fidelity import Verdict
from .convoy import measure_switch_interval
from .speedups import measure_thread_scaling, threads_vs_processes

__all__ = ["HEADLINE_DEMOS", "Verdict", "convoy", "threads_vs_processes_demo", "which_work"]


def threads_vs_processes_demo() -> Verdict:
    """02's headline: pure-Python work on N threads and N processes."""
    result = threads_vs_processes()
    text = str(result)
    if result.outcome == "flagged":
        return Verdict("flagged" if "rerun" in text else "wrong", text)
    t, p = result.threads.gain, result.processes.gain
    cores, gil = usable_cores(), gil_enabled()
    if cores < 2:
        ok = t != "faster" and p != "faster"
    elif gil:
        ok = t == "no gain" and p == "faster"
    else:
        ok = t == "faster" and p == "faster"
    return Verdict("right" if ok else "wrong", text)


def which_work() -> Verdict:
    """02's 'which work do threads speed up' bars."""
    result = measure_thread_scaling()
    text = str(result)
    if result.outcome == "flagged":
        return Verdict("flagged" if "Rerun" in text else "wrong", text)
    cores, gil = usable_cores(), gil_enabled()
    for label, r in zip(result.labels, result.results):
        got = r.point("thread", result.n_threads).gain
        if label.startswith("waiting"):
            want = "faster"
        elif cores < 2 or (result.holds_gil(label) and gil):
            want = "no gain"
        else:
            want = "faster"
        if got != want:
            return Verdict("wrong", f"{label}: {got}, expected {want}. {text}")
    return Verdict("right", text)


def convoy() -> Verdict:
    """02's convoy effect (optional part), at the notebook's intervals."""
    result = measure_switch_interval()
    text = str(result)
    outcome = result.outcome
    if outcome == "unclear":
        return Verdict("flagged", text)
    want = "convoy" if gil_enabled() else "no convoy"
    return Verdict("right" if outcome == want else "wrong", text)


HEADLINE_DEMOS: dict[str, Callable[[], Verdict]] = {
    "02 threads vs processes": threads_vs_processes_demo,
    "02 which work threads speed up": which_work,
    "02 convoy effect": convoy,
}
