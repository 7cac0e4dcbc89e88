"""The traceback page: on the model the capture step builds, and on the page sent."""

from __future__ import annotations

import json
import linecache
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from debugpages import ConfigurationError, Editor, ErrorPages, Policy
from debugpages.capture import collapse_repeats
from debugpages.editor import PRESETS, editor_from_env, parse_path_map
from debugpages.model import ErrorReport, ExceptionView, FrameView
from debugpages.policy import cut_middle
from debugpages.report import build_report
from debugpages.respond import read_failure

from . import apps

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}


def capture(exc: BaseException, environ: Any, policy: Policy, **kw: Any) -> ErrorReport:
    """The model of ``exc`` the page shows: the pipeline's steps, in order."""
    failure = read_failure(exc, environ or {}, policy)
    try:
        assert failure.capture is not None
        return build_report(
            failure.capture, failure.request, failure.secrets, failure.text, policy, **kw
        )
    finally:
        failure.release()


def report_of(fail: Callable[[], object], policy: Policy | None = None, **kw: Any) -> ErrorReport:
    """The model for what ``fail`` raises, with no request."""
    try:
        fail()
    except Exception as exc:
        return capture(exc, None, policy or Policy(), **kw)
    raise AssertionError("expected an exception")


def page_of(fail: Callable[[], object], headers: dict[str, str] = HTML, **kw: Any) -> str:
    """The page sent for what ``fail`` raises, in ``on`` mode, through a real WSGI call."""

    def app(environ: object, start_response: object) -> list[bytes]:
        fail()
        return []

    response = Client(ErrorPages(app, mode="on", **kw)).get("/", headers=headers)
    assert response.status_code == 500
    return response.get_data(as_text=True)


def frames_of(report: ErrorReport) -> list[FrameView]:
    return list(report.exception.frames)


# --- frames ---------------------------------------------------------------------------


class Basket:
    def total(self) -> float:
        return sum(float(price) for price in ["1", "two"])


def test_a_frame_shows_its_short_path_full_path_line_qualified_function_and_module() -> None:
    frame = frames_of(report_of(lambda: Basket().total()))[-2]
    assert frame.function == "Basket.total"
    assert frame.module == "tests.test_traceback_page"
    assert frame.display_path == "tests/test_traceback_page.py"
    assert frame.path.endswith("/tests/test_traceback_page.py")
    assert frame.path.startswith("/")
    assert not frame.is_library
    page = page_of(lambda: Basket().total())
    assert f'<code class="path" title="{frame.path}">tests/test_traceback_page.py</code>' in page
    assert "in <code>Basket.total</code>" in page
    assert '<span class="module muted">tests.test_traceback_page</span>' in page


def test_library_frames_are_marked_and_collapsed_and_application_frames_open() -> None:
    report = report_of(lambda: json.loads("{"))
    frames = frames_of(report)
    assert [f.is_library for f in frames] == [False, False, True, True, True]
    assert frames[2].display_path == "json/__init__.py"
    page = page_of(lambda: json.loads("{"))
    assert page.count('<details class="frame app" open>') == 2
    assert page.count('<details class="frame library">') == 3
    assert "2 library frames folded away" in page  # the innermost one is never folded
    assert '<input type="radio" name="trace" id="trace-app" class="view" checked>' in page


def test_debugpages_own_frames_count_as_library_code() -> None:
    from debugpages import switch

    frames = frames_of(report_of(lambda: switch.resolve_mode("sometimes")))
    assert frames[-1].display_path == "debugpages/switch.py"
    assert frames[-1].is_library


def test_with_only_library_frames_the_full_trace_is_shown_first() -> None:
    exc = report_of(lambda: json.loads("{")).exception
    library_only = ExceptionView("E", "m", "x", frames=exc.frames[2:])
    assert library_only.has_application_frames is False
    assert exc.has_application_frames is True


def test_frames_marked_with_traceback_hide_are_left_out_and_counted() -> None:
    def hidden_helper() -> None:
        __traceback_hide__ = True
        int("x")

    report = report_of(hidden_helper)
    assert "hidden_helper" not in [f.function.rsplit(".", 1)[-1] for f in frames_of(report)]
    assert report.exception.hidden_frames == 1
    # through ErrorPages, its own frame is hidden too, and not counted: it is no news
    page = page_of(hidden_helper)
    assert "1 frame hidden by <code>__traceback_hide__</code>." in page
    assert "hidden_helper" not in page_of(hidden_helper, TEXT)


def expand(keys: list[int], kept: list[tuple[int, int, int]]) -> list[int]:
    """The stack ``collapse_repeats`` stands for: each kept frame, each run repeated."""
    shown: list[int] = []
    for index, run, repeated in kept:
        shown.append(keys[index])
        if run:
            shown.extend(shown[-run:] * repeated)
    return shown


@given(st.lists(st.integers(0, 3), max_size=60), st.integers(1, 4))
def test_collapsed_repeats_stand_for_the_whole_stack(keys: list[int], cutoff: int) -> None:
    kept = collapse_repeats(keys, cutoff=cutoff)
    assert expand(keys, kept) == keys
    assert all(repeated >= cutoff for _, run, repeated in kept if run)  # only long runs fold


@given(st.text(alphabet="ab\n", max_size=12_000), st.integers(min_value=8, max_value=6_000))
def test_a_cut_text_keeps_a_start_and_an_end_and_counts_the_rest(text: str, limit: int) -> None:
    shown = cut_middle(text, limit, "text")
    if len(text) <= limit:
        assert shown == text
        return
    match = re.fullmatch(
        r"(.*)\n\[\.\.\. ([\d,]+) characters of text cut here[^\n]*\]\n(.*)", shown, re.S
    )
    assert match is not None
    head, cut, tail = match[1], int(match[2].replace(",", "")), match[3]
    assert text.startswith(head)
    assert text.endswith(tail)
    assert len(head) + cut + len(tail) == len(text)
    assert len(head) + len(tail) <= limit


def test_source_has_five_lines_each_side_and_context_is_configurable() -> None:
    default = frames_of(report_of(lambda: Basket().total()))[-2]
    assert len(default.source) == 11
    assert [line.current for line in default.source].index(True) == 5
    three = frames_of(report_of(lambda: Basket().total(), Policy(context_lines=1)))[-2]
    assert len(three.source) == 3
    assert three.source[1].current
    assert "return sum(" in three.source[1].text
    # On the page: the lines around the failing one are shown by default, and not at 0.
    around = ("def total(self) -&gt; float:", "def test_a_frame_shows_its_short_path")
    default_page = page_of(lambda: Basket().total())
    assert all(line in default_page for line in around)
    page = page_of(lambda: Basket().total(), policy=Policy(context_lines=0))
    assert not any(line in page for line in around)
    assert "return sum(float(price) for price in [&#34;1&#34;, &#34;two&#34;])" in page


def test_a_wsgi_environ_local_shows_the_apps_own_keys_and_counts_the_request() -> None:
    def app(environ: dict[str, Any], start_response: object) -> list[bytes]:
        environ["myapp.user"] = "alice"
        raise LookupError("no basket for alice")

    page = Client(ErrorPages(app, mode="on")).get("/", headers=JSON).get_json()
    (frame,) = [f for f in page["exception"]["frames"] if f["function"].endswith("app")]
    shown = next(v["text"] for v in frame["variables"] if v["name"] == "environ")
    assert shown.startswith("{")
    assert "'myapp.user': 'alice', … " in shown
    assert shown.endswith(" request keys, shown under Request}")
    assert "HTTP_ACCEPT" not in shown  # the Request section shows the headers


def test_an_edited_file_shows_its_new_source_on_the_next_failure(tmp_path: Path) -> None:
    module = tmp_path / "edited_app.py"
    module.write_text("def fail():\n    return int('first version')\n")
    code = compile(module.read_text(), str(module), "exec")
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    assert "int('first version')" in frames_of(report_of(namespace["fail"]))[-1].source[-1].text
    module.write_text("def fail():\n    return int('second version')\n")
    linecache.checkcache(str(module))  # what a reloader (and every logged traceback) does
    shown = frames_of(report_of(namespace["fail"]))[-1].current_line
    assert shown is not None
    assert "int('second version')" in shown.text


@pytest.mark.parametrize("secret", ["s3cret-on-one-line", "s3cret-first-half\ns3cret-second-half"])
def test_a_secret_in_the_source_is_masked_and_every_line_stays(secret: str, tmp_path: Path) -> None:
    module = tmp_path / "secret_in_source.py"
    quotes = '"' * 3
    module.write_text(
        f"def fail():\n    password = {quotes}{secret}{quotes}\n    return int(password)\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    frame = frames_of(report_of(namespace["fail"]))[-1]
    lines = module.read_text().splitlines()
    assert [line.number for line in frame.source] == list(range(1, len(lines) + 1))
    shown = "\n".join(line.text for line in frame.source)
    assert "s3cret-on-one-line" not in shown
    assert "********" in shown or "\n" in secret  # a secret across lines: line by line
    current = frame.current_line
    assert current is not None
    assert current.text == "    return int(password)"
    assert current.mark is not None  # a line with no secret keeps its marked expression


def test_the_failing_expression_is_marked_from_column_positions() -> None:
    frame = frames_of(report_of(lambda: Basket().total()))[-1]
    line = next(line for line in frame.source if line.current)
    assert line.mark is not None
    assert line.text[line.mark[0] : line.mark[1]] == "float(price)"
    assert "<mark>float(price)</mark>" in page_of(lambda: Basket().total())


def test_the_same_code_compiled_from_two_files_shows_each_its_own_file() -> None:
    # Code objects compare equal whatever their file: nothing may be remembered by code.
    source = "def fail():\n    raise ValueError('same code')\n"
    paths = []
    for name in ("first_copy.py", "second_copy.py"):
        namespace: dict[str, Any] = {}
        exec(compile(source, name, "exec"), namespace)
        paths.append(frames_of(report_of(namespace["fail"]))[-1].path)
    assert paths == ["first_copy.py", "second_copy.py"]


def test_a_frame_without_source_says_so() -> None:
    code = compile("def generated():\n    return 1 / 0\n", "<generated>", "exec")
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    frame = frames_of(report_of(namespace["generated"]))[-1]
    assert frame.source == ()
    assert frame.display_path == "<generated>"
    assert "No source code is available for this frame." in page_of(namespace["generated"])


def countdown(n: int) -> int:
    return countdown(n - 1) + 1


def ping(n: int) -> int:
    return pong(n)


def pong(n: int) -> int:
    return ping(n - 1)


def test_recursion_collapses_like_cpython_and_the_page_stays_small() -> None:
    frames = frames_of(report_of(lambda: countdown(10)))
    repeated = [f for f in frames if f.repeated]
    assert len(repeated) == 1
    assert repeated[0].repeat_run == 1
    assert repeated[0].repeated > 900
    assert len(frames) < 10
    html = page_of(lambda: countdown(10))
    assert re.search(r"\[Previous frame repeated [\d,]+ more times\]", html)
    assert len(html.encode()) < 100_000
    text = page_of(lambda: countdown(10), TEXT)  # Python's own words
    assert re.search(r"\n  \[Previous line repeated \d+ more times\]\n", text)


def test_a_run_of_two_frames_is_counted_as_such() -> None:
    frames = frames_of(report_of(lambda: ping(10)))
    run = next(f for f in frames if f.repeated)
    assert run.repeat_run == 2
    html = page_of(lambda: ping(10))
    assert re.search(r"\[Previous 2 frames repeated [\d,]+ more times\]", html)
    # Python's text repeats such a run in full: the copy-as-text block is cut, and says so.
    assert "characters of traceback cut here to keep the page small" in html
    assert len(html.encode()) < 100_000


def test_over_the_frame_cap_the_outermost_and_innermost_frames_stay_and_the_gap_is_counted() -> (
    None
):
    frames = frames_of(report_of(lambda: Basket().total(), Policy(max_frames=2)))
    # report_of, the lambda, total, <genexpr>: the outer two go
    assert [f.function.rsplit(".", 1)[-1] for f in frames] == ["total", "<genexpr>"]
    assert frames[0].left_out_before == 2
    page = page_of(lambda: Basket().total(), policy=Policy(max_frames=3))
    assert "… 2 frames cut here to keep the page small …" in page


def test_only_the_innermost_frames_show_source_context_outer_ones_their_line() -> None:
    frames = frames_of(report_of(lambda: Basket().total(), Policy(max_frames_with_context=1)))
    assert [len(f.source) for f in frames[:-1]] == [1] * (len(frames) - 1)
    assert all(line.current for f in frames[:-1] for line in f.source)
    assert len(frames[-1].source) > 1  # the innermost keeps its context


# --- values ---------------------------------------------------------------------------


def fails_with(**local_values: Any) -> Callable[[], None]:
    def holder() -> None:
        values = local_values  # noqa: F841 -- shown on the page
        raise RuntimeError("with locals")

    return holder


def locals_of(report: ErrorReport) -> dict[str, str]:
    return {v.name: v.text for v in frames_of(report)[-1].variables or ()}


def test_huge_locals_are_cut_with_their_size_and_the_page_stays_small() -> None:
    big = "x" * 5_000_000
    many = list(range(1_000_000))

    def huge() -> None:
        text, numbers = big, many  # noqa: F841
        raise RuntimeError("huge locals")

    shown = locals_of(report_of(huge))
    assert shown["text"].endswith("… (5,000,000 characters in all)")
    assert "more items]" in shown["numbers"]
    assert re.search(r"… 999,\d{3} more items", shown["numbers"])
    page = page_of(huge)
    assert len(page.encode()) < 256_000
    assert "5,000,000 characters in all" in page


class Evil:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        if self.kind == "raises":
            raise RuntimeError("no repr for you")
        if self.kind == "huge":
            return "E" * 3_000_000
        return "fine"


class AttributeBomb:
    def __getattribute__(self, name: str) -> Any:
        raise RuntimeError(f"no attribute {name}")


class BadStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str exploded")


def test_evil_values_never_break_the_page() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    cyclic: dict[str, Any] = {}
    cyclic["me"] = cyclic

    def evil() -> None:
        raising, huge, bomb = Evil("raises"), Evil("huge"), AttributeBomb()  # noqa: F841
        me, mine = loop, cyclic  # noqa: F841
        raise ValueError("evil locals")

    shown = locals_of(report_of(evil))
    assert shown["raising"] == "<repr failed: RuntimeError: no repr for you>"
    assert shown["huge"].endswith("(3,000,000 characters in all)")
    assert len(shown["huge"]) < 3000
    assert shown["me"].startswith("[1, [1, ")  # cut at the depth limit, never endless
    assert shown["mine"].startswith("{'me': {'me': ")
    assert "bomb" in shown
    page = page_of(evil)
    assert "&lt;repr failed: RuntimeError: no repr for you&gt;" in page


def test_an_exception_whose_str_raises_still_gets_a_page_naming_its_type() -> None:
    def fail() -> None:
        raise BadStr()

    assert report_of(fail).exception.message == "<exception str() failed>"  # Python's words
    page = page_of(fail)
    assert '<h1 class="type">BadStr</h1>' in page


class Counted:
    calls = 0

    def __repr__(self) -> str:
        Counted.calls += 1
        return "<Counted>"


def first(value: object) -> None:
    second(value)


def second(value: object) -> None:
    third(value)


def third(value: object) -> None:
    raise RuntimeError("at the bottom")


def test_each_object_is_represented_once_however_many_frames_hold_it() -> None:
    Counted.calls = 0
    shared = Counted()
    report = report_of(lambda: first(shared))
    shown = [v for f in frames_of(report) for v in f.variables or () if v.name == "value"]
    assert len(shown) == 3
    assert Counted.calls == 1


def test_an_object_held_by_several_containers_is_represented_once() -> None:
    Counted.calls = 0
    shared = Counted()

    def fail() -> None:
        pair, triple, mapping = [shared, 1], (shared, shared, 2), {"k": shared}  # noqa: F841
        first([shared])

    report = report_of(fail)
    texts = [v.text for f in frames_of(report) for v in f.variables or ()]
    assert sum(text.count("<Counted>") for text in texts) >= 7
    assert Counted.calls == 1


def holds_a_value() -> None:
    kept = Counted()  # noqa: F841 -- in a frame past the innermost three
    first(None)


def test_values_of_frames_whose_locals_are_not_shown_are_never_represented() -> None:
    Counted.calls = 0
    report = report_of(holds_a_value, Policy(max_frames_with_locals=3))
    assert Counted.calls == 0
    # holds_a_value; report_of's frame caught the exception: its locals are never read
    assert report.exception.frames_without_locals == 1
    assert frames_of(report)[1].variables is None


class Slow:
    def __repr__(self) -> str:
        time.sleep(0.05)
        return "<Slow>"


def test_values_still_waiting_when_the_repr_budget_runs_out_say_so() -> None:
    def slow() -> None:
        a, b, c = Slow(), Slow(), Slow()  # noqa: F841
        raise RuntimeError("slow reprs")

    report = report_of(slow, Policy(repr_budget=0.01))
    shown = locals_of(report)
    assert shown["a"] == "<repr timed out: still running when the 0.01 s for values ran out>"
    assert shown["b"] == shown["c"] == "<not shown: the time budget for values ran out>"
    assert any("time budget" in notice for notice in report.notices)


def test_lone_surrogates_nul_and_controls_are_shown_escaped() -> None:
    def fail() -> None:
        name = "bad\udcff\x00name"  # noqa: F841
        raise ValueError("surrogate \ud800 and NUL \x00 and bell \x07")

    report = report_of(fail)
    assert report.exception.message == "surrogate \\ud800 and NUL \\x00 and bell \\x07"
    page = page_of(fail)
    assert "surrogate \\ud800 and NUL \\x00" in page
    page.encode("utf-8")  # nothing unencodable reached the page


@settings(max_examples=40, deadline=None)
@given(message=st.text(), value=st.text())
def test_any_message_and_value_give_a_page(message: str, value: str) -> None:
    def fail() -> None:
        local = value  # noqa: F841
        raise ValueError(message)

    report = report_of(fail)
    assert locals_of(report)["local"]
    page = page_of(fail)
    page.encode("utf-8")
    assert "ValueError" in page


# --- size -----------------------------------------------------------------------------


def test_a_one_megabyte_message_is_cut_and_says_its_length() -> None:
    def fail() -> None:
        raise ValueError("m" * 1_048_576)

    exc = report_of(fail).exception
    assert exc.message_cut
    assert exc.message.endswith("… (1,048,576 characters in all)")
    page = page_of(fail)
    assert len(page.encode()) < 100_000
    assert "1,048,576 characters in all" in page
    text = page_of(fail, TEXT)  # the traceback on one line too long: cut inside it
    assert len(text) < Policy().max_page_bytes // 16 + 1_000
    assert "\nValueError: mmmm" in text
    assert re.search(r"m\n\[\.\.\. [\d,]+ characters of traceback cut here[^\n]*\nmmm", text)


_HEAVY = "\n".join(
    ["def heavy(n, fail):"]
    + [f"    v{i} = '\"' * 2000 + str(n)" for i in range(100)]
    + ["    return fail(n)"]
)


def heavy_chain(n: int) -> None:
    """60 chained exceptions, each raised under a frame with 100 long values to escape."""
    namespace: dict[str, Any] = {}
    exec(compile(_HEAVY, "<heavy>", "exec"), namespace)

    def fail(k: int) -> None:
        if k == 0:
            raise ValueError('"' * 8000)
        try:
            namespace["heavy"](k - 1, fail)
        except ValueError as exc:
            raise ValueError(f"level {k} " + '"' * 8000) from exc

    namespace["heavy"](n, fail)


@pytest.mark.parametrize("headers", [HTML, JSON])
def test_no_page_exceeds_one_megabyte_and_the_cuts_say_so(headers: dict[str, str]) -> None:
    policy = Policy(max_frames_with_locals=200, max_chain=100)
    page = page_of(lambda: heavy_chain(60), headers, policy=policy)
    assert len(page.encode()) <= 1_000_000
    assert "size limit" in page
    unlimited = Policy(max_frames_with_locals=200, max_chain=100, max_page_bytes=10**9)
    assert len(page_of(lambda: heavy_chain(60), headers, policy=unlimited).encode()) > 1_000_000


def test_a_long_plain_text_traceback_keeps_its_start_and_end_and_says_what_was_cut() -> None:
    text = page_of(lambda: heavy_chain(60), TEXT)
    assert len(text) < Policy().max_page_bytes // 16 + 1_000
    # The chain is cut where the page's is (Policy.max_chain), and the text says so first.
    assert text.startswith("[... 40 older chained exceptions not shown")
    assert "\n\nTraceback (most recent call last):\n" in text
    assert re.search(
        r"\n\[\.\.\. [\d,]+ characters of traceback cut here to keep the page small", text
    )
    assert "\nValueError: level 60 " in text  # the exception the request failed with


def test_the_page_size_limit_is_the_policys() -> None:
    page = page_of(lambda: heavy_chain(3), policy=Policy(max_page_bytes=60_000))
    assert len(page.encode()) <= 60_000
    assert "size limit" in page


def test_many_group_members_are_capped_and_counted() -> None:
    def fail() -> None:
        raise ExceptionGroup("many", [ValueError(str(i)) for i in range(40)])

    exc = report_of(fail).exception
    assert len(exc.members) == 15
    assert exc.members_left_out == 25
    assert "… and 25 more sub-exceptions, not shown." in page_of(fail)


# --- exceptions -----------------------------------------------------------------------


def test_chain_groups_and_notes_are_in_the_model() -> None:
    try:
        apps.group({}, lambda *a: None)
    except ExceptionGroup as group:
        exc = capture(group, None, Policy()).exception
    assert exc.type_name == "ExceptionGroup"
    assert [m.type_name for m in exc.members] == ["ValueError", "ExceptionGroup"]
    assert exc.members[0].notes == ("a note on the first member",)
    assert exc.members[1].members[0].message == "deep member"
    try:
        apps.chained({}, lambda *a: None)
    except RuntimeError as error:
        chained = capture(error, None, Policy()).exception
    assert [(e.type_name, how) for e, how in chained.chain] == [
        ("KeyError", "context"),
        ("ValueError", "cause"),
        ("RuntimeError", None),
    ]


def test_the_plain_text_of_a_group_is_pythons_tree() -> None:
    def fail() -> None:
        raise ExceptionGroup("outer", [ValueError("first"), KeyError("second")])

    lines = page_of(fail, TEXT).splitlines()
    assert lines[0] == "  + Exception Group Traceback (most recent call last):"
    assert "  | ExceptionGroup: outer (2 sub-exceptions)" in lines
    separators = [line.strip() for line in lines if "----------------" in line]
    assert separators == [
        "+-+---------------- 1 ----------------",
        "+---------------- 2 ----------------",
        "+------------------------------------",
    ]
    assert "    | ValueError: first" in lines
    assert "    | KeyError: 'second'" in lines


def nested_group_also_a_context() -> None:
    """A member that is also the context of another member: Python prints it once, as a
    member (the context was seen already)."""
    try:
        raise ExceptionGroup("inner", [TypeError("deep")])
    except ExceptionGroup as inner:
        try:
            raise ValueError("while handling inner")
        except ValueError as handling:
            raise ExceptionGroup("outer", [handling, inner]) from None


def test_an_exception_that_is_member_and_context_is_shown_where_python_shows_it() -> None:
    page = page_of(nested_group_also_a_context).split("<textarea")[0]
    assert page.count('<span class="type">TypeError</span>') == 1
    assert "while handling inner" in page
    assert "(shown in full above)" not in page


def test_an_exception_met_twice_is_shown_in_full_once_then_named() -> None:
    def fail() -> None:
        twice = ValueError("the same member")
        raise ExceptionGroup("twice", [twice, twice])

    page = page_of(fail).split("<textarea")[0]
    assert page.count('<span class="message">the same member</span>') == 2
    assert page.count('<span class="muted">(shown in full above)</span>') == 1
    text = page_of(fail, TEXT)
    assert text.count("ValueError: the same member") == 2  # as Python prints it


def chain_through_one_call() -> None:
    """Three exceptions, all raised from this one call: its frame is in each traceback."""
    basket = {"pears": 3}
    try:
        try:
            basket["apples"]
        except KeyError as missing:
            raise LookupError("no apples") from missing
    except LookupError:
        basket.clear()
        raise RuntimeError("checkout failed")  # noqa: B904 - the context is the point


def test_a_call_met_again_in_a_chain_shows_its_locals_once() -> None:
    page = page_of(chain_through_one_call).split("<textarea")[0]
    assert page.count("<code>chain_through_one_call</code>") == 3
    assert page.count("<code>basket</code>") == 1  # its locals, once
    assert page.count("Locals: shown above, where this call first appears") == 2


def test_frames_met_once_keep_their_locals() -> None:
    frames = frames_of(report_of(lambda: Basket().total()))
    assert frames[0].function == "report_of"  # still running: its locals are never read
    assert all(frame.variables is not None for frame in frames[1:])  # nothing shared
    assert not any(frame.locals_shown_above for frame in frames)


def test_notes_are_shown_under_their_exception() -> None:
    def fail() -> None:
        error = KeyError("basket")
        error.add_note("while pricing <the basket>")
        raise error

    page = page_of(fail)
    raised = page.index('<h3 class="raised">')
    assert page.index('<ul class="notes"><li><pre>while pricing &lt;the basket&gt;') > raised


# --- the header -----------------------------------------------------------------------


def test_the_header_shows_type_message_reference_mode_time_and_versions() -> None:
    response = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=HTML)
    page = response.get_data(as_text=True)
    header = page[page.index('<header class="page">') : page.index("</header>")]
    assert '<h1 class="type">ValueError</h1>' in header
    assert "could not convert string to float" in header
    assert re.search(r'Reference <code class="reference">[\w-]{16}</code>', header)
    assert "Mode on" in header
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', header)
    assert f"Python {sys.version.split()[0]}" in header
    for package in ("werkzeug", "debugpages"):
        assert re.search(rf"<li>{package} \d+\.\d+", header)


def test_the_page_has_landmarks_and_loads_nothing_from_elsewhere() -> None:
    page = page_of(lambda: Basket().total())
    for landmark in (
        '<header class="page">',
        "<main>",
        "<footer>",
        '<nav aria-label="On this page">',
    ):
        assert landmark in page
    assert "prefers-color-scheme:dark" in page
    assert "@media print" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "url(" not in page


# --- editor links and path maps -------------------------------------------------------


def test_editor_presets_make_links_to_the_file_and_line() -> None:
    frame = frames_of(report_of(lambda: Basket().total(), editor=Editor("vscode")))[-2]
    assert frame.editor_url == f"vscode://file{frame.path}:{frame.line}"
    assert 'href="vscode://file' in page_of(lambda: Basket().total(), editor=Editor("vscode"))
    for name, pattern in PRESETS.items():
        link = Editor(name).link("/srv/app/views.py", 12)
        assert link == pattern.format(path="/srv/app/views.py", line=12)


def test_an_editor_url_pattern_and_a_path_map_rewrite_container_paths() -> None:
    editor = Editor(
        "https://editor.example/open?f={path}&l={line}",
        path_map=parse_path_map("/app=/home/me/project, /app/vendor=/home/me/vendor"),
    )
    assert editor.link("/app/shop/views.py", 7) == (
        "https://editor.example/open?f=/home/me/project/shop/views.py&l=7"
    )
    assert editor.link("/app/vendor/lib.py", 1) == (
        "https://editor.example/open?f=/home/me/vendor/lib.py&l=1"
    )
    assert (
        editor.link("/application/x.py", 1) == "https://editor.example/open?f=/application/x.py&l=1"
    )
    assert editor.link("<string>", 1) is None
    assert (
        editor.link("/app/a b.py", 3)
        == "https://editor.example/open?f=/home/me/project/a%20b.py&l=3"
    )


def test_editor_links_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    root = apps.__file__.rsplit("/tests/", 1)[0]
    monkeypatch.setenv("DEBUGPAGES_EDITOR", "vscode")
    monkeypatch.setenv("DEBUGPAGES_PATH_MAP", f"{root}=/home/me/shop")
    page = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    assert 'href="vscode://file/home/me/shop/tests/apps.py:20"' in page
    assert ">open in editor</a>" in page
    monkeypatch.delenv("DEBUGPAGES_EDITOR")
    assert editor_from_env() is None
    page = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    assert "open in editor" not in page


@pytest.mark.parametrize(
    "pattern",
    [
        "javascript:alert(1)//{path}{line}",
        "JavaScript:alert('{path}')",
        "java\tscript:alert({line})//{path}",
        " javascript:{path}",
        "data:text/html,{path}",
        "{path}:{line}",
        "//evil.example/{path}",
        "file://{path}",
        "vbscript:{path}",
        "https://x/{path}/{0}",
        "https://x/{line}",
        "sometext",
    ],
)
def test_editor_patterns_other_than_http_and_the_presets_schemes_are_refused(
    pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match=r"^Editor="):
        Editor(pattern)
    with pytest.raises(ConfigurationError, match=r"^editor="):
        ErrorPages(apps.plain, mode="on", editor=pattern)
    monkeypatch.setenv("DEBUGPAGES_EDITOR", pattern)
    with pytest.raises(ConfigurationError, match=r"^DEBUGPAGES_EDITOR="):
        ErrorPages(apps.plain, mode="on")


def test_a_malformed_path_map_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUGPAGES_EDITOR", "vscode")
    monkeypatch.setenv("DEBUGPAGES_PATH_MAP", "/app:/home/me")
    with pytest.raises(ConfigurationError, match="DEBUGPAGES_PATH_MAP"):
        ErrorPages(apps.plain, mode="on")


def _recurse(n: int) -> int:
    return _recurse(n + 1)


def _misspelled() -> None:
    values = [1, 2]  # noqa: F841 - the name Python suggests
    print(valuse)  # type: ignore[name-defined]  # noqa: F821 - the suggestion is the point


@pytest.mark.parametrize(
    "fail",
    [
        lambda: apps.plain({}, None),
        lambda: apps.chained({}, None),
        lambda: apps.group({}, None),
        lambda: _recurse(0),
        _misspelled,
    ],
    ids=["plain", "chained", "group", "recursion", "suggestion"],
)
def test_where_no_limit_applies_the_text_is_the_running_pythons_own(
    fail: Callable[[], object],
) -> None:
    try:
        fail()
    except BaseException as exc:
        expected = "".join(traceback.format_exception(exc)).removesuffix("\n")
        if sys.version_info < (3, 12) and isinstance(exc, NameError):
            expected += ". Did you mean: 'values'?"  # 3.11's printer adds it; traceback does not
        report = capture(exc, None, Policy())
    assert report.traceback == expected


@settings(max_examples=60, deadline=None)
@given(
    links=st.lists(
        st.sampled_from(["cause", "context", "from None", "unraised cause"]), max_size=5
    ),
    notes=st.lists(
        st.text(st.characters(categories=("L", "N", "P", "S")), max_size=20), max_size=2
    ),
)
def test_every_chain_is_told_as_the_running_python_tells_it(
    links: list[str], notes: list[str]
) -> None:
    def fail(depth: int) -> None:
        if depth == len(links):
            error = ValueError(f"innermost {depth}")
            for note in notes:
                error.add_note(note)
            raise error
        try:
            fail(depth + 1)
        except ValueError as inner:
            outer = ValueError(f"outer {depth}")
            kind = links[depth]
            if kind == "cause":
                raise outer from inner
            if kind == "from None":
                raise outer from None
            if kind == "unraised cause":
                raise outer from KeyError("never raised: no traceback")
            raise outer  # noqa: B904 - the implicit context is the point

    try:
        fail(0)
    except ValueError as exc:
        expected = "".join(traceback.format_exception(exc)).removesuffix("\n")
        report = capture(exc, None, Policy())
    assert report.traceback == expected


def test_a_limit_holds_for_the_page_and_the_text_alike() -> None:
    def fail() -> None:
        raise ExceptionGroup("many", [ValueError(f"member {i}") for i in range(12)])

    policy = Policy(max_group_members=3)
    report = report_of(fail, policy)
    assert len(report.exception.members) == 3
    assert report.traceback.count("ValueError: member") == 3
    assert "and 9 more exceptions" in report.traceback


# --- the JSON page's model ------------------------------------------------------------


def _group() -> None:
    try:
        raise KeyError("cause")
    except KeyError as cause:
        error = ValueError("chained")
        error.add_note("a note")
        raise ExceptionGroup("two", [error, TypeError("other")]) from cause


def _template() -> None:
    import jinja2

    jinja2.Environment().from_string("{% for x in items %}{{ x.missing() }}{% endfor %}").render(
        items=[1]
    )


def _syntax() -> None:
    compile("def broken(:\n    pass\n", "broken.py", "exec")


@pytest.mark.parametrize("fail", [_group, _template, _syntax, lambda: Basket().total()])
def test_the_json_page_holds_what_asdict_would_give(fail: Callable[[], object]) -> None:
    import dataclasses

    from debugpages.render import plain

    report = report_of(fail)
    assert json.dumps(plain(report)) == json.dumps(dataclasses.asdict(report))
    assert json.dumps(plain(report.exception)) == json.dumps(dataclasses.asdict(report.exception))


def test_the_json_page_holds_what_asdict_would_give_for_a_request_too() -> None:
    import dataclasses

    from werkzeug.test import EnvironBuilder

    from debugpages.render import plain

    environ = EnvironBuilder(
        "/orders/7?page=2", method="POST", data={"qty": "3", "password": "hunter2-secret"},
        headers={"Cookie": "sid=abcdef123456; theme=dark", "X-Trace": "t"},
    ).get_environ()  # fmt: skip
    try:
        Basket().total()
    except ValueError as exc:
        report = capture(exc, environ, Policy())
    assert report.request is not None
    assert json.dumps(plain(report)) == json.dumps(dataclasses.asdict(report))
