"""The ``%%timeline`` cell magic: run a cell under ``cl.watch()`` and draw what it did.

::

    %load_ext concurrency_lab

    %%timeline
    t1 = threading.Thread(target=countdown, args=(N,))
    t2 = threading.Thread(target=countdown, args=(N,))
    t1.start(); t2.start(); t1.join(); t2.join()

The cell runs as it would without the magic (same namespace; the value of a last
expression is shown), then the timeline appears under the cell's own output: one lane per
thread and process, solid where it was on a CPU. Afterwards the watch is in the notebook as
``_timeline`` (``_timeline.summary()``, ``_timeline.workers``, ``_timeline.plot()``).

* An error in the cell shows its usual traceback; the timeline of what ran until then is
  drawn first.
* Top-level ``await`` works: the cell's coroutine runs in a fresh event loop on a thread of
  its own (the notebook's own loop is busy running this cell), which appears as a lane
  named ``asyncio event loop``.
* ``%%timeline --all`` also draws what is normally hidden (idle main thread, the standard
  library's helper threads and processes).

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import threading
from typing import Any

__all__ = ["LOOP_THREAD_NAME", "USER_NS_NAME", "register", "run_cell_watched"]

#: The name under which the last watch is stored in the notebook.
USER_NS_NAME = "_timeline"
#: The thread a cell with top-level ``await`` runs its event loop on.
LOOP_THREAD_NAME = "asyncio event loop"
_USAGE = "Usage: %%timeline [--all]   (then the cell's code; --all also draws idle helpers)"
_CANCEL_GRACE_S = 5.0


def _compile(ipython: Any, cell: str) -> tuple[Any, Any]:
    """Compile the cell as IPython would: ``(body, last expression or None)`` code objects."""
    text = ipython.transform_cell(cell)
    tree = ipython.compile.ast_parse(text)
    tree = ipython.transform_ast(tree)
    ast.increment_lineno(tree, 1)  # line 1 of the cell is the %%timeline line
    try:
        filename = ipython.compile.cache(
            "%%timeline\n" + text, ipython.execution_count, raw_code="%%timeline\n" + cell
        )
    except TypeError:  # older IPython: no raw_code
        filename = ipython.compile.cache("%%timeline\n" + text, ipython.execution_count)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    body = compile(tree, filename, "exec", flags=flags, dont_inherit=True)
    last_code = compile(last, filename, "eval", flags=flags, dont_inherit=True) if last else None
    return body, last_code


def _is_async(code: Any) -> bool:
    return code is not None and bool(code.co_flags & inspect.CO_COROUTINE)


def _run_in_loop_thread(run: Any) -> Any:
    """Run coroutine function ``run`` in a new event loop on its own thread; return its value.

    Waits in short steps so Ctrl-C (the notebook's interrupt) reaches this thread; then the
    coroutine is cancelled and the loop thread given a few seconds to finish.
    """
    __tracebackhide__ = True
    box: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    task_box: list[asyncio.Task[Any]] = []

    async def main() -> Any:
        task_box.append(asyncio.current_task())  # type: ignore[arg-type]
        return await run()

    def target() -> None:
        try:
            box["value"] = loop.run_until_complete(main())
        except BaseException as exc:  # handed to the notebook's thread below
            box["error"] = exc
        finally:
            loop.close()

    thread = threading.Thread(target=target, name=LOOP_THREAD_NAME, daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except BaseException:
        if task_box:
            try:
                loop.call_soon_threadsafe(task_box[0].cancel)
            except RuntimeError:  # the loop has just finished and closed
                pass
        thread.join(_CANCEL_GRACE_S)
        raise
    if "error" in box:
        raise box["error"]
    return box.get("value")


def run_cell_watched(ipython: Any, cell: str, *, show_all: bool = False) -> tuple[Any, Any]:
    """Run ``cell`` in ``ipython``'s namespace under ``watch()``.

    Returns:
        ``(watch, value of the last expression or None)``. The watch is also stored in the
        user namespace as ``_timeline`` (even when the cell raises).

    Raises:
        Whatever the cell raises (after the watch has stopped and been stored).

    Introduced in ``02-the-gil.ipynb``.
    """
    __tracebackhide__ = True
    from ..core.watch import watch

    ns = ipython.user_ns
    ns.pop(USER_NS_NAME, None)  # a failure below must not leave the last cell's watch
    body, last = _compile(ipython, cell)
    w = watch(show_all=show_all)
    try:
        with w:
            if _is_async(body) or _is_async(last):

                async def run() -> Any:
                    out = eval(body, ns)
                    if inspect.iscoroutine(out):
                        await out
                    value = eval(last, ns) if last is not None else None
                    return await value if inspect.iscoroutine(value) else value

                value = _run_in_loop_thread(run)
            else:
                exec(body, ns)
                value = eval(last, ns) if last is not None else None
    finally:
        if w._result is not None:
            ns[USER_NS_NAME] = w
    return w, value


def _show(w: Any, failed: bool) -> None:
    from IPython.display import display

    result = w._result
    if result is None or (failed and not result.workers):
        return
    try:
        display(w.plot())  # type: ignore[no-untyped-call]
    except Exception as exc:  # drawing must never hide the cell's own outcome
        print(f"(%%timeline could not draw the timeline: {type(exc).__name__}: {exc})")
    # JupyterLab shows the image, not its text: print the computed sentence under it.
    print(w.summary())


def register(ipython: Any) -> None:
    """Register ``%%timeline`` with an IPython shell (``%load_ext concurrency_lab``).

    Introduced in ``02-the-gil.ipynb``.
    """
    from IPython.core.error import UsageError
    from IPython.display import display

    def timeline(line: str, cell: str) -> None:
        __tracebackhide__ = True  # IPython leaves this frame out of tracebacks
        options = line.split()
        if any(o not in ("--all", "-a") for o in options):
            raise UsageError(f"%%timeline got unknown options {line.strip()!r}. {_USAGE}")
        if not cell.strip():
            raise UsageError(f"%%timeline needs code in the cell below it. {_USAGE}")
        try:
            w, value = run_cell_watched(ipython, cell, show_all=bool(options))
        except BaseException:
            w = ipython.user_ns.get(USER_NS_NAME)
            if w is not None and getattr(w, "_result", None) is not None:
                _show(w, failed=True)
            raise
        if value is not None:
            display(value)  # type: ignore[no-untyped-call]
        _show(w, failed=False)

    ipython.register_magic_function(timeline, magic_kind="cell", magic_name="timeline")
