"""plot_timeline: title, labels, a computed summary, and pids told apart beyond colour."""

from __future__ import annotations

import concurrency_lab as cl
from concurrency_lab.core.tracing import Span, together_s
from concurrency_lab.view import style
from tests.view.cvd import assert_distinguishable


def _spans(n_pids: int, overlap: bool = True) -> list[Span]:
    out = []
    for i in range(n_pids):
        start = 0 if overlap else i * 1_000_000
        out.append(Span(f"worker-{i + 1}", 1000 + i, 0, "run", start, start + 900_000))
    return out


def test_a_run_timeline_has_title_labels_and_the_runs_sentence():
    run = cl.start_join(cl.sleep_then_return, 2, args=("x", 0.05))
    fig = cl.plot_timeline(run)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == run.summary()
    assert "two or more were working at the same time" in run.summary()


def test_span_lists_get_a_sentence_about_overlap():
    fig = cl.plot_timeline(_spans(2))
    assert "at the same time for 0.9 ms" in style.summary_of(fig)
    fig = cl.plot_timeline(_spans(2, overlap=False))
    assert "no two of them ran at the same time" in style.summary_of(fig)
    assert together_s(_spans(3, overlap=False)) == 0


def test_many_processes_stay_apart_by_hatch_and_legend():
    fig = cl.plot_timeline(_spans(12))
    hatched = {c.get_hatch() for c in fig.axes[0].collections}
    assert hatched - {None}, "processes 9-12 need a hatch besides their colour"
    assert len(fig.axes[0].get_legend().get_texts()) == 12
    eight = cl.plot_timeline(_spans(8))
    assert style.figure_problems(eight) == ()
    assert_distinguishable(style.colors_used(eight).data)
