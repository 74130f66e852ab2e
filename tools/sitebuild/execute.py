"""Execute lesson notebooks with nbclient, one or two at a time, and never hang.

Each notebook runs in its own kernel: this Python (``sys.executable``, through a kernel spec
written to a temporary folder, so no other kernel spec on the machine can be picked), with the
notebook's folder as working directory, a private ``IPYTHONDIR`` (no personal start-up files
change start methods or backends) and ``MPLBACKEND`` unset (the kernel's inline backend draws the
plots). Every cell has a timeout and every notebook a total budget; the kernel is shut down in any
case, and processes it left behind are killed and reported.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

KERNEL_NAME = "concurrency-lab-site"
EXPECTED_ERROR_TAG = "raises-exception"
SHUTDOWN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Problem:
    """Something wrong in one executed notebook (an error where none was expected, a timeout)."""

    notebook: str
    cell: int | None
    what: str

    def __str__(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "notebook"
        return f"{self.notebook}, {where}: {self.what}"


@dataclass(frozen=True)
class Executed:
    """One executed notebook: its outputs, how long it took, and what went wrong."""

    source: Path
    nb: NotebookNode
    elapsed_s: float
    problems: tuple[Problem, ...]
    log: Path


def write_kernel_spec(folder: Path) -> KernelSpecManager:
    """A kernel spec for this very Python in ``folder``, and a manager that sees only it."""
    spec = folder / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": f"Python {sys.version.split()[0]} (site build)",
                "language": "python",
                "metadata": {"debugger": False},
            }
        )
    )
    return KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)


def kernel_env(ipython_dir: Path) -> dict[str, str]:
    """The kernel's environment: ours, with a private IPython folder and no forced backend.

    pytest's variables are dropped too: with ``PYTEST_CURRENT_TEST`` set, ipykernel stops
    capturing what child processes write to the kernel's stderr, so a build run by the tests
    would show less than a build run by hand (or than JupyterLab).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("MPLBACKEND", None)
    env.update(
        IPYTHONDIR=str(ipython_dir), PYTHONUNBUFFERED="1", PYDEVD_DISABLE_FILE_VALIDATION="1"
    )
    return env


def error_problems(nb: NotebookNode, name: str) -> list[Problem]:
    """Error outputs in cells not tagged ``raises-exception`` (also inside Output widgets)."""
    out: list[Problem] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or EXPECTED_ERROR_TAG in cell.metadata.get("tags", []):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(Problem(name, index, f"{o.get('ename')}: {o.get('evalue')}"))
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model in state.get("state", {}).values():
        for o in model.get("state", {}).get("outputs", []) or []:
            if o.get("output_type") == "error":
                what = f"{o.get('ename')}: {o.get('evalue')} (inside a widget)"
                out.append(Problem(name, None, what))
    return out


async def execute_one(
    source: Path,
    workdir: Path,
    *,
    specs: KernelSpecManager,
    env: dict[str, str],
    log: Path,
    cell_timeout_s: float,
    notebook_timeout_s: float,
) -> Executed:
    """Run the notebook ``workdir / source.name`` top to bottom in a fresh kernel."""
    path = workdir / source.name
    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    client = NotebookClient(
        nb,
        km=km,
        timeout=max(1, round(cell_timeout_s)),
        startup_timeout=60,
        allow_errors=True,  # an error is recorded, the remaining cells still run
        store_widget_state=True,
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    problems: list[Problem] = []
    start = time.monotonic()
    with open(log, "wb") as logf:
        try:
            await asyncio.wait_for(
                client.async_execute(env=env, stdout=logf, stderr=logf),
                timeout=notebook_timeout_s,
            )
        except CellTimeoutError:
            cell = _running_cell(nb)
            problems.append(Problem(source.name, cell, f"timed out after {cell_timeout_s:.0f} s"))
        except asyncio.TimeoutError:
            problems.append(
                Problem(
                    source.name, _running_cell(nb), f"notebook exceeded {notebook_timeout_s:.0f} s"
                )
            )
        except DeadKernelError as exc:
            problems.append(Problem(source.name, _running_cell(nb), f"the kernel died: {exc}"))
        except Exception as exc:  # e.g. the kernel did not start: report it, build the rest
            what = f"could not run: {type(exc).__name__}: {exc}"
            problems.append(Problem(source.name, _running_cell(nb), what))
        finally:
            elapsed = time.monotonic() - start
            tree = _kernel_tree(km)
            await _stop_client(client)
            await _shutdown(km)
    if "widgets" not in nb.metadata:
        try:  # a timeout skipped nbclient's own call: keep what the widgets showed so far
            client.set_widgets_metadata()
        except Exception:  # best effort: the page already reports a problem
            pass
    problems += error_problems(nb, source.name)
    stray = await asyncio.to_thread(_kill_survivors, tree)  # waits: keep the other lesson going
    if stray:
        problems.append(Problem(source.name, None, f"left processes running (killed): {stray}"))
    return Executed(source, nb, elapsed, tuple(problems), log)


async def execute_all(
    sources: Sequence[Path],
    workdir: Path,
    *,
    scratch: Path,
    jobs: int,
    cell_timeout_s: float,
    notebook_timeout_s: float,
    report: Callable[[Executed], None] | None = None,
) -> list[Executed]:
    """Execute ``sources`` (copies in ``workdir``), ``jobs`` at a time, in the given order."""
    specs = write_kernel_spec(scratch / "kernels")
    env = kernel_env(scratch / "ipython")
    (scratch / "logs").mkdir(parents=True, exist_ok=True)
    gate = asyncio.Semaphore(jobs)

    async def run(source: Path) -> Executed:
        async with gate:
            done = await execute_one(
                source,
                workdir,
                specs=specs,
                env=env,
                log=scratch / "logs" / f"{source.stem}.log",
                cell_timeout_s=cell_timeout_s,
                notebook_timeout_s=notebook_timeout_s,
            )
            if report is not None:
                report(done)
            return done

    return list(await asyncio.gather(*(run(s) for s in sources)))


def _running_cell(nb: NotebookNode) -> int | None:
    """The last code cell that started (``execution_count`` set), i.e. the one that stopped."""
    started = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count")
    ]
    return started[-1] if started else None


async def _stop_client(client: NotebookClient) -> None:
    """Close the client's channels (nbclient leaves them open when it does not own the kernel)."""
    kc = client.kc
    if kc is None:
        return
    stopped = kc.stop_channels()
    if inspect.isawaitable(stopped):
        await stopped
    client.kc = None


async def _shutdown(km: AsyncKernelManager) -> None:
    try:
        if km.has_kernel:
            await asyncio.wait_for(km.shutdown_kernel(now=False), timeout=SHUTDOWN_TIMEOUT_S)
    except (asyncio.TimeoutError, RuntimeError):
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    finally:
        try:
            await km.cleanup_resources()  # connection file and ports (async for this manager)
        except (OSError, RuntimeError):
            pass


def _kernel_tree(km: AsyncKernelManager) -> list[psutil.Process]:
    """The kernel, everything it started, and anything else in its process group."""
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    if not isinstance(pid, int):
        return []
    try:
        kernel = psutil.Process(pid)
        tree = {p.pid: p for p in [kernel, *kernel.children(recursive=True)]}
    except psutil.Error:
        return []
    if hasattr(os, "getpgid"):  # orphans re-parented away from the kernel keep its group
        for p in psutil.process_iter():
            try:
                if p.pid not in tree and os.getpgid(p.pid) == pid:
                    tree[p.pid] = p
            except (psutil.Error, OSError):
                pass
    return list(tree.values())


def _kill_survivors(tree: list[psutil.Process], grace_s: float = 5.0) -> list[str]:
    """Kill the processes of ``tree`` still running after the kernel's shutdown; describe them."""
    _, alive = psutil.wait_procs(tree, timeout=grace_s)
    described = []
    for p in alive:
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            described.append(f"pid {p.pid} {' '.join(p.cmdline())[:80]}")
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5)
    return described
