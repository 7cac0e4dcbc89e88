"""Every Python and shell block of README.md runs, as written, in a project folder of its own.

The blocks are read from the README itself, so the two cannot drift. A block that cannot
run here says so in the README, on the line before it, for every reader to see:
``<!-- not run: the reason -->`` (it starts a server, needs the network...). Each other
block runs in a fresh folder holding what the README's reader has: ``myapp.py`` with a
WSGI ``app`` and ``create_app()``, the folders ``my_templates`` (with the README's Jinja
blocks that name their file, ``{# my_templates/500.html #}``) and ``error_pages``. A Python
block starts with ``app``, the reader's application, already defined; a block that sets
``MIDDLEWARE`` and ``DEBUGPAGES`` is loaded as Django settings and the middleware is built.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from .frameworks import ROOT

README = ROOT / "README.md"
RUN = {"python", "sh", "bash", "shell", "console"}
_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
_NOT_RUN = re.compile(r"^\s*<!-- not run: (?P<reason>.+?) -->\s*$")
_JINJA_FILE = re.compile(r"^\{#\s*(?P<path>[\w./-]+)\s*#\}\s*$")


@dataclass(frozen=True)
class Block:
    line: int
    """The line of the opening fence, counted from 1."""
    lang: str
    text: str
    section: str
    """The heading the block sits under."""
    not_run: str | None = None

    @property
    def id(self) -> str:
        return f"README.md:{self.line} ({self.lang}, {self.section})"


def blocks(text: str | None = None) -> list[Block]:
    """The fenced code blocks of the README, in order."""
    lines = (README.read_text("utf-8") if text is None else text).splitlines()
    found: list[Block] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        fence = _FENCE.match(line)
        if fence is None:
            i += 1
            continue
        indent = fence["indent"]
        end = next(
            j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"
        )  # an unclosed fence is a README error: StopIteration fails the test
        body = textwrap.dedent("\n".join(lines[i + 1 : end]))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = _NOT_RUN.match(before)
        found.append(
            Block(i + 1, fence["lang"], body + "\n", section, marker["reason"] if marker else None)
        )
        assert indent is not None
        i = end + 1
    return found


MYAPP = """
def app(environ, start_response):
    raise ValueError("a failure of the reader's application")


def create_app():
    return app
"""

PRELUDE = "from myapp import app  # the reader's application\n"

DJANGO = """
import django
from django.conf import settings

from debugpages.django import ErrorPagesMiddleware

settings.configure(
    SECRET_KEY="readme", ROOT_URLCONF=[], MIDDLEWARE=MIDDLEWARE, DEBUGPAGES=DEBUGPAGES
)
django.setup()
ErrorPagesMiddleware(lambda request: None)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The reader's project: ``myapp.py``, ``my_templates`` and ``error_pages``."""
    (tmp_path / "myapp.py").write_text(MYAPP)
    for folder in ("my_templates", "error_pages"):
        (tmp_path / folder).mkdir()
    for block in blocks():
        first = block.text.split("\n", 1)[0]
        named = _JINJA_FILE.match(first) if block.lang == "jinja" else None
        if named is not None:
            (tmp_path / named["path"]).write_text(block.text)
    return tmp_path


def _run(argv: list[str], project: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DEBUGPAGES")},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(project),
    }
    return subprocess.run(
        argv, cwd=project, env=env, capture_output=True, text=True, timeout=120,
        start_new_session=True,
    )  # fmt: skip


RUNNABLE = [block for block in blocks() if block.lang in RUN]


def test_the_readme_has_blocks_to_run_and_each_skip_gives_its_reason() -> None:
    ran = [block for block in RUNNABLE if block.not_run is None]
    assert len(ran) >= 15, [block.id for block in ran]
    for block in RUNNABLE:
        assert block.not_run is None or len(block.not_run) > 10, block.id


def test_the_block_reader_sees_markers_indents_and_sections() -> None:
    text = (
        "# Title\n\n## Part\n\n<!-- not run: starts a server -->\n```sh\nserve\n```\n\n"
        "- item\n\n  ```python\n  x = 1\n  ```\n"
    )
    first, second = blocks(text)
    assert (first.line, first.lang, first.text, first.not_run) == (
        6,
        "sh",
        "serve\n",
        "starts a server",
    )
    assert (second.line, second.text, second.section, second.not_run) == (
        12,
        "x = 1\n",
        "Part",
        None,
    )


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.id for block in RUNNABLE])
def test_the_readme_block_runs_as_written(block: Block, project: Path) -> None:
    if block.not_run is not None:
        pytest.skip(f"the README marks it: not run: {block.not_run}")
    if block.lang == "python":
        code = PRELUDE + block.text
        if re.search(r"^MIDDLEWARE\s*=", block.text, re.M) and "DEBUGPAGES" in block.text:
            code = "from pathlib import Path\nBASE_DIR = Path.cwd()\n" + code + DJANGO
        done = _run([sys.executable, "-c", code], project)
    else:
        done = _run(["bash", "-euo", "pipefail", "-c", block.text], project)
    assert done.returncode == 0, f"{block.id} failed:\n{block.text}\n{done.stdout}{done.stderr}"
    assert "--- Logging error ---" not in done.stderr, done.stderr
