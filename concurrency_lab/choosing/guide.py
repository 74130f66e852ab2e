"""The decision guide as data: kind of work, model, why, the code pattern, and what was measured.

:func:`decision_guide` returns the guide's rows. Without a matrix they are the general
advice (what the lesson's key points say, and the one-page handout a workshop prints:
:meth:`DecisionGuideResult.to_markdown`); with a matrix, each row that the matrix measured
also says what this machine showed, through :func:`~concurrency_lab.choosing.recommend`.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core.machine import gil_enabled
from ..core.results import Result
from .advice import recommend
from .matrix import MatrixResult

__all__ = ["DecisionGuideResult", "GuideRow", "decision_guide"]


@dataclass(frozen=True)
class GuideRow:
    """One row of the decision guide.

    Attributes:
        work: the kind of work, as a learner would describe it.
        use: what to use, in words.
        models: the matrix models that count as following this advice.
        why: the reason, from what the work does.
        pattern: the code pattern (plain Python).
        workload: the matrix row that measures this kind of work (``None``: not measured).
        measured: what a matrix showed for it (``""`` without a matrix).
    """

    work: str
    use: str
    models: tuple[str, ...]
    why: str
    pattern: str
    workload: str | None = None
    measured: str = ""


_CPU_GIL = GuideRow(
    work="Pure-Python computing (loops, parsing, simulations)",
    use="processes: a ProcessPoolExecutor",
    models=("processes",),
    why="Under the GIL one thread at a time runs Python code; each process has its own "
    "interpreter and GIL, so N processes can use N cores. They cost a start-up (milliseconds "
    "to a second) and every argument and result is pickled, so give each task plenty of work.",
    pattern="""from concurrent.futures import ProcessPoolExecutor

with ProcessPoolExecutor(max_workers=n) as pool:  # in a script: under if __name__ == "__main__":
    results = list(pool.map(work, items, timeout=600))""",
    workload="cpu",
)
_CPU_FREE = replace(
    _CPU_GIL,
    use="threads on a free-threaded Python (no GIL), else processes",
    models=("threads", "processes"),
    why="Without a GIL, threads run Python code on several cores at once and share memory, "
    "with no start-up or pickling; on a standard build (GIL on), use processes.",
)

_ROWS = (
    _CPU_GIL,
    GuideRow(
        work="C code that releases the GIL (hashlib, zlib, numpy on large arrays)",
        use="threads: a ThreadPoolExecutor",
        models=("threads", "processes"),
        why="The C code runs outside the GIL, so threads compute on several cores at once; "
        "they share memory, start fast and need no pickling. Processes work too, at a higher "
        "price.",
        pattern="""from concurrent.futures import ThreadPoolExecutor

with ThreadPoolExecutor(max_workers=n) as pool:
    digests = list(pool.map(hash_file, paths, timeout=600))""",
        workload="gil_releasing",
    ),
    GuideRow(
        work="Waiting: network, disk, other programs (tens to hundreds of waits at once)",
        use="threads: a ThreadPoolExecutor (or asyncio)",
        models=("threads", "asyncio"),
        why="A waiting thread holds neither the GIL nor a core, so waits overlap, even beyond "
        "the number of cores; threads work with ordinary blocking libraries.",
        pattern="""with ThreadPoolExecutor(max_workers=32) as pool:
    pages = list(pool.map(download, urls, timeout=60))""",
        workload="io",
    ),
    GuideRow(
        work="Thousands of waits at once, with async libraries (servers, crawlers)",
        use="asyncio",
        models=("asyncio",),
        why="A waiting coroutine holds about a kilobyte of memory; a thread typically ten "
        "times that or more, plus megabytes of address space reserved for its stack, and "
        "systems limit how many threads a program may start. One thread, no locks between "
        "awaits; but every call on the path must be async: one blocking call stops every task.",
        pattern="""async def main(urls):
    async with asyncio.timeout(60):  # Python 3.11+; 3.10: asyncio.wait_for
        async with asyncio.TaskGroup() as tg:  # Python 3.11+; 3.10: asyncio.gather
            tasks = [tg.create_task(fetch(url)) for url in urls]
    return [t.result() for t in tasks]


pages = asyncio.run(main(urls))  # in a notebook: await main(urls)""",
    ),
    GuideRow(
        work="Mixed: computing and waiting in each task",
        use="the waits on threads or asyncio, the computing in a process pool",
        models=("processes",),
        why="Threads and asyncio overlap the waits but, under the GIL, run the computing one "
        "task at a time; a process pool runs the computing in parallel. A pool that runs "
        "whole tasks does both when the waits are simple.",
        pattern="""async def handle(item, pool):
    data = await fetch(item)  # the wait stays on the loop
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, compute, data)  # the computing, in a process


# a blocking call that only waits: await asyncio.to_thread(blocking_call, arg)""",
        workload="mixed",
    ),
    GuideRow(
        work="Little work, or tasks of under a millisecond each",
        use="serial code (or batch the tasks)",
        models=("serial",),
        why="Starting workers and sending each task costs more than it saves; if there are "
        "many tiny tasks, send them in batches.",
        pattern="""results = [work(x) for x in items]
# or, in batches: list(pool.map(work, items, chunksize=100, timeout=600))""",
    ),
    GuideRow(
        work="More work than one machine can do",
        use="a cluster scheduler (Dask, Ray)",
        models=(),
        why="It sends tasks to workers on many machines and retries failed ones, at a "
        "scheduling cost of about a millisecond per task: give each task seconds of work.",
        pattern="""from dask.distributed import Client

client = Client("tcp://scheduler:8786")  # Client() starts a cluster on this machine
results = client.gather(client.map(work, items))""",
    ),
)


@dataclass(frozen=True)
class DecisionGuideResult(Result):
    """The decision guide: one :class:`GuideRow` per kind of work.

    Attributes:
        rows: the guide's rows.
        measured_on: the machine a matrix was measured on (``""``: general advice only).

    Introduced in ``07-choosing-a-model.ipynb``.
    """

    rows: tuple[GuideRow, ...]
    measured_on: str = ""

    def summary(self) -> str:
        lines = []
        for r in self.rows:
            line = f"{r.work} -> {r.use}. {r.why}"
            if r.measured:
                line += f" Measured here: {r.measured}"
            lines.append(line)
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The guide as a Markdown page, code patterns included (the printable handout)."""
        head = "## Which model for which work"
        if self.measured_on:
            head += f"\n\nMeasured on {self.measured_on}."
        parts = [head]
        for r in self.rows:
            text = f"**{r.work} → {r.use}.** {r.why}"
            if r.measured:
                text += f"\n\n*Measured here:* {r.measured}"
            parts.append(f"{text}\n\n```python\n{r.pattern}\n```")
        return "\n\n".join(parts)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def decision_guide(
    matrix: MatrixResult | None = None, *, gil: bool | None = None
) -> DecisionGuideResult:
    """The decision guide's rows; with ``matrix``, each measured row says what it showed.

    >>> guide = decision_guide()
    >>> guide.rows[0].use in ('processes: a ProcessPoolExecutor',
    ...     'threads on a free-threaded Python (no GIL), else processes')
    True
    >>> decision_guide(gil=True).rows[0].use
    'processes: a ProcessPoolExecutor'

    Args:
        matrix: a :class:`~concurrency_lab.choosing.MatrixResult` (optional).
        gil: without a matrix, the advice for a Python with the GIL on (``True``) or off
            (``False``); ``None``: for this interpreter. (The printed handout,
            ``docs/decision-guide.md``, uses both.) A matrix says which it was measured with.

    Returns:
        A :class:`DecisionGuideResult`; ``print`` it, or let a cell show it (code included).

    Raises:
        TypeError: ``matrix`` is not a matrix, or ``gil`` is not ``True``, ``False`` or ``None``.
        ValueError: both ``matrix`` and ``gil`` are given.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    if matrix is not None and not isinstance(matrix, MatrixResult):
        raise TypeError(
            f"'matrix' must be the result of cl.choosing.scenario_matrix() or None "
            f"(got {type(matrix).__name__})."
        )
    if gil is not None and not isinstance(gil, bool):
        raise TypeError(f"'gil' must be True, False or None (got {gil!r}).")
    if matrix is not None and gil is not None:
        raise ValueError(
            "Give either a matrix or gil=, not both: a matrix was measured with the GIL "
            f"{'on' if matrix.gil_enabled else 'off'}, and its rows say so."
        )
    if gil is None:
        gil = matrix.gil_enabled if matrix is not None else gil_enabled()
    rows = tuple(_CPU_FREE if (r is _CPU_GIL and not gil) else r for r in _ROWS)
    if matrix is None:
        return DecisionGuideResult(rows)
    out = []
    for r in rows:
        if r.workload is None or r.workload not in matrix.workloads:
            out.append(r)
            continue
        rec = recommend(matrix, workload=r.workload)
        others = ", ".join(
            f"{m} {x:.1f}x" + (" (noise)" if m in rec.noise else "")
            for m, x in rec.ranking
            if m not in ("serial", rec.model)
        )
        if rec.declined:
            numbers = ", ".join(
                f"{m} {x:.1f}x" + (" (noise)" if m in rec.noise else "")
                for m, x in rec.ranking
                if m != "serial"
            )
            load = matrix.load(r.workload)
            cause = (
                f"other programs kept about {load.others_cores:.1f} of {matrix.usable_cores} "
                f"cores busy"
                if load.busy and load.others_cores is not None
                else "a cell came out faster than possible"
            )
            said = (
                f"no clear answer from this run ({numbers}; {cause}): see "
                f"recommend(matrix, workload={r.workload!r}) for why."
            )
        else:
            said = f"{rec.model} {rec.speedup:.1f}x" + (f" (also: {others})" if others else "")
            said += (
                ", as the guide says."
                if rec.model in r.models
                else f"; here the numbers favour {rec.model}: see recommend(matrix, "
                f"workload={r.workload!r}) for why."
            )
        out.append(replace(r, measured=said))
    cores = matrix.usable_cores
    on = (
        f"{cores} usable core{'s' if cores != 1 else ''}, {matrix.n_workers} workers, "
        f"GIL {'on' if matrix.gil_enabled else 'off'}"
    )
    return DecisionGuideResult(tuple(out), on)
