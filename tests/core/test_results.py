"""The result protocol (concurrency_lab/core/results.py): one sentence, shown everywhere."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.lib.pretty import pretty

from concurrency_lab.core.results import Result, summary_of


@dataclass(frozen=True)
class Tosses(Result):
    heads: int
    tosses: int

    def summary(self) -> str:
        share = self.heads / self.tosses
        return f"{self.heads} of {self.tosses} tosses came up heads ({share:.0%})."


def test_str_and_print_give_the_summary_computed_from_the_fields(capsys):
    r = Tosses(heads=7, tosses=10)
    assert str(r) == "7 of 10 tosses came up heads (70%)."
    print(Tosses(heads=1, tosses=4))
    assert capsys.readouterr().out == "1 of 4 tosses came up heads (25%).\n"


def test_repr_is_one_short_line_even_under_dataclass():
    r = Tosses(heads=7, tosses=10)
    assert repr(r) == "<Tosses: 7 of 10 tosses came up heads (70%).>"
    # everything else a dataclass gives is still there
    assert r == Tosses(7, 10) and hash(r) == hash(Tosses(7, 10))
    assert dataclasses.asdict(r) == {"heads": 7, "tosses": 10}
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.heads = 3  # type: ignore[misc]


def test_a_long_summary_is_cut_in_the_repr_but_not_in_str():
    @dataclass(frozen=True)
    class Long(Result):
        n: int

        def summary(self) -> str:
            return "word " * self.n

    r = Long(60)
    assert len(repr(r)) == len("<Long: >") + 100
    assert repr(r).endswith("…>")
    assert str(r) == "word " * 60


def test_repr_never_fails_even_when_the_summary_does():
    @dataclass(frozen=True)
    class Broken(Result):
        n: int

        def summary(self) -> str:
            return str(1 / self.n)

    assert repr(Broken(0)) == "<Broken: (summary failed: ZeroDivisionError)>"
    with pytest.raises(ZeroDivisionError):
        str(Broken(0))


def test_slots_dataclasses_and_subclasses_keep_the_short_repr():
    @dataclass(frozen=True, slots=True)
    class Slotted(Result):
        n: int

        def summary(self) -> str:
            return f"n is {self.n}."

    @dataclass(frozen=True)
    class MoreTosses(Tosses):
        streak: int = 0

    assert repr(Slotted(3)) == "<Slotted: n is 3.>"
    assert not hasattr(Slotted(3), "__dict__")
    assert repr(MoreTosses(1, 2, 1)) == "<MoreTosses: 1 of 2 tosses came up heads (50%).>"


def test_a_repr_the_class_writes_itself_is_kept_and_inherited():
    @dataclass(frozen=True)
    class Custom(Result):
        n: int

        def __repr__(self) -> str:
            return f"Custom({self.n})"

        def summary(self) -> str:
            return "custom."

    @dataclass(frozen=True)
    class Child(Custom):
        m: int = 0

    assert repr(Custom(1)) == "Custom(1)"
    assert repr(Child(2, 3)) == "Custom(2)"
    assert pretty(Child(2, 3)) == "custom."  # Jupyter's plain text is still the sentence


def test_in_jupyter_a_result_reads_as_prose():
    data, _ = DisplayFormatter().format(Tosses(heads=7, tosses=10))
    assert data["text/plain"] == "7 of 10 tosses came up heads (70%)."
    # no backslash before "(": JupyterLab would typeset "\(70%\)" as math
    assert data["text/markdown"] == "7 of 10 tosses came up heads (70%)."
    assert pretty(Tosses(heads=7, tosses=10)) == "7 of 10 tosses came up heads (70%)."


def test_markdown_escapes_what_markdown_would_eat_and_keeps_line_breaks():
    @dataclass(frozen=True)
    class Code(Result):
        def summary(self) -> str:
            return "n_workers * 2 ran [fast]\n\n<b>not bold</b>"

    assert Code()._repr_markdown_() == (
        "n&#95;workers &#42; 2 ran &#91;fast&#93;  \n&#60;b&#62;not bold&#60;/b&#62;"
    )


def test_a_result_without_summary_says_what_to_write():
    @dataclass(frozen=True)
    class Forgot(Result):
        n: int

    with pytest.raises(NotImplementedError, match=r"Forgot must define summary\(\): the sentence"):
        str(Forgot(1))
    assert repr(Forgot(1)) == "<Forgot: (summary failed: NotImplementedError)>"


def test_summary_of_checks_the_sentence():
    assert summary_of(Tosses(1, 2)) == "1 of 2 tosses came up heads (50%)."

    class NoSummary:
        pass

    class Blank:
        def summary(self) -> str:
            return " "

    class NotText:
        def summary(self) -> int:
            return 3

    with pytest.raises(
        TypeError, match=r"the result \(NoSummary\) cannot say what it shows: it has no summary\(\)"
    ):
        summary_of(NoSummary())
    with pytest.raises(ValueError, match=r"Blank.summary\(\) returned a blank string"):
        summary_of(Blank())
    with pytest.raises(TypeError, match=r"NotText.summary\(\) must return a str \(got int\)"):
        summary_of(NotText())
