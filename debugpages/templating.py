"""Jinja, set up for debugpages: the environments, the code generator of the fast
escape (``render.escape_output``), the bytecode cache.

Imported when a ``Renderer`` is built, never by ``import debugpages`` and never on a
failure's path. The built-in templates are compiled once per machine and loaded once
per process: one environment over them is shared by every ``Renderer``, and Jinja's
bytecode cache keeps their compiled code in memory for the other environments of the
process (a user's folders fall back on the built-in templates) and on disk, in
Jinja's own per-user cache folder, for the next process. A cached template is used
only while its source is the same (Jinja's checksum) and under the same debugpages,
Jinja and Python (part of the key), so a new install is never served stale code. A
user's templates are compiled as Jinja always does, and re-read when they change.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from types import CodeType
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.compiler
import jinja2.nodes

from . import __version__
from .render import escape_output, plain


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Compiles an autoescaped ``{{ value }}`` to ``escape_output(value)``.

    Only the function called changes. Should Jinja stop calling this hook, its own
    ``escape`` runs again: the same page, a little slower.
    """

    def _output_child_pre(
        self, node: jinja2.nodes.Expr, frame: jinja2.compiler.Frame, finalize: Any
    ) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


class _Environment(jinja2.Environment):
    code_generator_class = _CodeGenerator
    escape_output = staticmethod(escape_output)


def _fingerprint() -> str:
    """What the compiled code depends on besides the template: this module (the code
    generator and the environment's settings), debugpages and Jinja."""
    try:
        with open(__file__, "rb") as own:
            source = hashlib.sha1(own.read()).hexdigest()
    except OSError:  # no source file (a frozen or byte-code-only install): the versions
        source = ""
    return f"debugpages {__version__} jinja2 {jinja2.__version__} {source}"


class _BuiltinCodeCache(jinja2.BytecodeCache):
    """Jinja's bytecode cache, for the templates of one built-in folder only.

    The code compiled from a built-in template is kept for the process and, where
    Jinja's default cache folder can be used (a folder of the user's own, in the temp
    folder, that Jinja checks is private), written there for the next process. Jinja
    checks each entry's Python version and source checksum on loading; the key adds
    the folder, the template's name and ``_fingerprint()``. Any failure to read or
    write the folder leaves the template to be compiled, as without a cache.
    """

    def __init__(self, folder: str) -> None:
        self.folder = os.path.normpath(folder)  # as the loader's file names have it
        self.salt = _fingerprint()
        self.memory: dict[str, tuple[str, CodeType]] = {}
        self.disk: jinja2.FileSystemBytecodeCache | None
        try:
            self.disk = jinja2.FileSystemBytecodeCache(pattern="__debugpages_%s.cache")
        except (OSError, RuntimeError):  # no temp folder, or not a private one
            self.disk = None

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> jinja2.bccache.Bucket:
        if filename is None or os.path.dirname(filename) != self.folder:
            return jinja2.bccache.Bucket(environment, "", "")  # a user's: not cached
        return super().get_bucket(environment, name, filename, source)

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{self.salt}|{name}", filename)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        checksum, code = self.memory.get(bucket.key, ("", None))
        if code is not None and checksum == bucket.checksum:
            bucket.code = code
            return
        if self.disk is not None:
            try:
                self.disk.load_bytecode(bucket)
            except Exception:  # unreadable or corrupt: compiled again, and written anew
                bucket.reset()
        if bucket.code is not None:
            self.memory[bucket.key] = (bucket.checksum, bucket.code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if not bucket.key or bucket.code is None:
            return
        self.memory[bucket.key] = (bucket.checksum, bucket.code)
        if self.disk is not None:
            with contextlib.suppress(OSError):  # a read-only or full disk: kept in memory
                self.disk.dump_bytecode(bucket)


def environment(
    loader: jinja2.BaseLoader, auto_reload: bool, cache: jinja2.BytecodeCache
) -> jinja2.Environment:
    """An environment with debugpages' settings, filters and escape."""
    env = _Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        auto_reload=auto_reload,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=cache,
    )
    env.filters["plain"] = plain
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": True}
    return env


@functools.cache
def builtin_cache(folder: str) -> _BuiltinCodeCache:
    """The one bytecode cache of the process for the built-in templates in ``folder``."""
    return _BuiltinCodeCache(folder)


@functools.cache
def builtin_environment(folder: str) -> jinja2.Environment:
    """The one environment of the process over the built-in templates in ``folder``.

    They never change under a running process, so they are never re-read.
    """
    loader = jinja2.FileSystemLoader(folder)
    return environment(loader, auto_reload=False, cache=builtin_cache(folder))


def load_all(env: jinja2.Environment, names: list[str]) -> None:
    """Load (from the cache, else compile) each template that loads; leave the others.

    A partial (``_exception.html``) is also made into the module that ``{% import %}``
    gives, which Jinja keeps with the template. A template that fails to load here fails
    again when a page asks for it, and is reported then, by the fallback chain.
    """
    for name in names:
        try:
            template = env.get_template(name)
            if name.startswith("_") and name.endswith(".html"):
                template.module  # noqa: B018 -- Jinja makes and keeps it on first access
        except Exception:
            continue
