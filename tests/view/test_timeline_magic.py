"""%%timeline: a cell runs unchanged under cl.watch(), and its timeline appears under its output.

Quick checks run in IPython's test shell; one test runs the magic in a real Jupyter kernel
(nbclient), where the figure must arrive as a PNG whose text is the watch's summary.
"""

from __future__ import annotations

import matplotlib
import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

matplotlib.use("Agg")

from concurrency_lab.view.timeline_magic import USER_NS_NAME

SETUP = (
    "import threading, asyncio\n"
    "N = 1_000_000  # a few tens of ms of countdown\n"
    "def countdown(n):\n"
    "    while n:\n"
    "        n -= 1\n"
)
TWO_THREADS = (
    "%%timeline\n"
    "ts = [threading.Thread(target=countdown, args=(N,), name=f'w{i}') for i in (1, 2)]\n"
    "for t in ts: t.start()\n"
    "for t in ts: t.join()\n"
)


@pytest.fixture(scope="module")
def shell():
    # One IPython shell per test process: reuse the one another test module may have made.
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "concurrency_lab")
    ip.run_cell(SETUP)
    return ip


def test_the_cell_runs_in_the_notebook_namespace_and_the_timeline_follows(shell):
    with capture_output() as cap:
        result = shell.run_cell(TWO_THREADS + "answer = 40\nanswer + 2\n")
    assert result.success
    assert shell.user_ns["answer"] == 40
    w = shell.user_ns[USER_NS_NAME]
    assert [x.name for x in w.workers] == ["w1", "w2"]
    texts = [o.data.get("text/plain", "") for o in cap.outputs]
    assert texts[0] == "42"  # the cell's own value first ...
    assert texts[1] == w.summary()  # ... then the figure, whose text is the summary
    assert cap.stdout.strip().endswith(w.summary())  # ... and the sentence printed under it


def test_an_error_shows_the_partial_timeline_then_the_usual_traceback(shell):
    with capture_output() as cap:
        result = shell.run_cell(TWO_THREADS + "1 / 0\n")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    w = shell.user_ns[USER_NS_NAME]
    assert w.raised == "ZeroDivisionError: division by zero"
    assert [o.data["text/plain"] for o in cap.outputs] == [w.summary()]
    assert w.summary() in cap.stdout
    assert "ZeroDivisionError" in cap.stdout + cap.stderr


def test_a_syntax_error_runs_nothing_and_leaves_no_stale_timeline(shell):
    shell.run_cell(TWO_THREADS)
    assert USER_NS_NAME in shell.user_ns
    with capture_output() as cap:
        result = shell.run_cell("%%timeline\ndef broken(:\n")
    assert isinstance(result.error_in_exec or result.error_before_exec, SyntaxError)
    assert USER_NS_NAME not in shell.user_ns
    assert cap.outputs == []


def test_top_level_await_runs_on_its_own_event_loop_thread(shell):
    cell = (
        "%%timeline\n"
        "async def nap(x):\n"
        "    await asyncio.sleep(0.02)\n"
        "    return x\n"
        "await asyncio.gather(nap(1), nap(2))\n"
    )
    with capture_output() as cap:
        result = shell.run_cell(cell)
    assert result.success, result.error_in_exec
    assert cap.outputs[0].data["text/plain"] == "[1, 2]"
    w = shell.user_ns[USER_NS_NAME]
    assert [x.name for x in w.workers] == ["asyncio event loop"]


@pytest.mark.parametrize("line", ["--bogus", "-x"])
def test_unknown_options_are_explained(shell, line):
    with capture_output() as cap:
        result = shell.run_cell(f"%%timeline {line}\n1\n")
    assert not result.success
    assert "%%timeline got unknown options" in cap.stdout + cap.stderr
    assert "Usage: %%timeline [--all]" in cap.stdout + cap.stderr


def test_all_also_draws_the_idle_main_thread(shell):
    shell.run_cell("%%timeline --all\nimport time; time.sleep(0.01)\n")
    assert "main" in [x.role for x in shell.user_ns[USER_NS_NAME].workers]


@pytest.mark.slow
def test_in_a_real_kernel_the_figure_is_a_png_with_the_summary_as_text():
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext concurrency_lab"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(TWO_THREADS),
        nbformat.v4.new_code_cell("print(_timeline.summary())"),
        nbformat.v4.new_code_cell(TWO_THREADS + "raise RuntimeError('stop here')\n"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    figure = [o for o in nb.cells[2].outputs if o.output_type == "display_data"]
    assert len(figure) == 1 and "image/png" in figure[0].data
    summary = nb.cells[3].outputs[0].text.strip()
    assert summary.startswith("2 threads used ")
    assert figure[0].data["text/plain"] == summary
    assert figure[0].metadata["image/png"]["alt"] == summary
    assert [o.text.strip() for o in nb.cells[2].outputs if o.output_type == "stream"] == [summary]
    kinds = [o.output_type for o in nb.cells[4].outputs]
    assert kinds == ["display_data", "stream", "error"]
    assert nb.cells[4].outputs[2].ename == "RuntimeError"


@pytest.mark.slow
def test_interrupting_the_kernel_draws_the_partial_timeline_and_restores_the_hooks():
    import queue
    import time

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive("%load_ext concurrency_lab\nimport threading, time", timeout=60)
        msg_id = kc.execute(
            "%%timeline\n"
            "t = threading.Thread(target=time.sleep, args=(0.2,), name='napper')\n"
            "t.start(); t.join()\n"
            "time.sleep(60)\n"
        )
        time.sleep(2.0)
        km.interrupt_kernel()
        kinds, deadline = [], time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] in ("display_data", "error"):
                kinds.append((msg["msg_type"], msg["content"].get("ename")))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        assert kinds == [("display_data", None), ("error", "KeyboardInterrupt")]
        check = (
            "print(_timeline.raised, [w.name for w in _timeline.workers], "
            "threading.Thread.start.__code__.co_filename.endswith('threading.py'))"
        )
        reply = []
        kc.execute_interactive(check, timeout=30, output_hook=reply.append)
        text = "".join(m["content"].get("text", "") for m in reply)
        assert text.strip() == "KeyboardInterrupt ['napper'] True"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
