"""The secrets step: every secret of a failure, found before any text is made.

A secret is a value that sits under a secret name (``debugpages.names``, the policy's
own patterns, ``sensitive_variables`` marks): a local of any frame of the exception, its
chain and its groups, and anything inside one down to the depth the page shows (a
mapping's entries, an object's fields, a pair ``("Authorization", ...)``); a request
field (query, the form as the framework parsed it, headers, every cookie value, environ
keys); a sensitive-named OS environment variable. Everything under a secret name is
secret, so ``tokens = {"github": ...}`` gives up its values too.

The result is immutable: the texts found, and the ``Masker`` that masks every form of
them in whatever the later steps make.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from types import FrameType
from urllib.parse import unquote_plus

from werkzeug.http import parse_cookie

from .capture import Captured
from .mask import MASK, Masker, forms, url_credentials, whole_url_credentials
from .places import is_library
from .policy import MIN_ENVIRON_SECRET, Policy
from .request import RequestFields
from .sensitive import marked_names
from .structure import SEQUENCES, entries, fields, instance_dict, name_of

_MAX_VISITS = 20_000
"""Values looked into per failure, at most: the search stays cheap on a huge graph."""
_MAX_NAMES = 1_000
"""Entries of one container whose names are read (the page shows ``max_items``)."""
_LEAVES = frozenset({str, bytes, bytearray, int, float, bool, type(None)})
_MAX_SECRET_CHARS = 64 * 1024
"""Characters of secrets per failure, at most: masking every text stays cheap."""
_URL_TEXT = 64 * 1024
"""Characters of a text searched for URLs with credentials."""
_LONGEST_SECRET = 4096
"""Longer secrets (a key file) are masked line by line."""
_JWT = re.compile(r"eyJ[\w-]+\.([\w-]+)\.([\w-]*)")
"""A JSON Web Token: header, payload and signature, each in URL-safe base64."""
_QUERY = re.compile(r"[?&;#]([^\s=&#;?'\"<>]+)=([^\s&#;'\"<>]+)")
"""A query argument in a URL (or in its fragment, as OAuth's ``#access_token=``): its
name and its value, as written."""
_ARGS = BaseException.__dict__["args"]
_LEXER_TOKENS = frozenset({("django.template.base", "Token"), ("jinja2.lexer", "Token")})
_TEMPLATE_ENGINES = ("django.template.", "jinja2.")
"""Modules where a ``token`` is a piece of a template's source, not a credential."""


@dataclass(frozen=True, slots=True)
class Secrets:
    """The secrets of one failure, and the masker of every form they can take."""

    masker: Masker
    left_out: int = 0
    """Secrets found beyond ``Policy.max_secrets``: masked by name only."""
    unsearched: int = 0
    """Values not searched once the search reached its bound."""


NO_SECRETS = Secrets(Masker())


Place = tuple[FrameType | BaseException, bool]
"""A frame, with whether it still runs; or an exception (``False``)."""


def find_secrets(
    frames: Iterable[Place],
    request: RequestFields | None,
    policy: Policy,
    environ: Mapping[str, str] | None = None,
    *,
    read: object = None,
) -> Secrets:
    """The secrets of the frames (each with whether it still runs: its locals are then
    not read) and exceptions (``frames_of``), the request and the OS environment
    (``environ``: ``os.environ``); ``read``: the WSGI environ ``request`` was read from
    (its strings are searched)."""
    search = _Search(policy, read)
    least = max(MIN_ENVIRON_SECRET, policy.min_secret_chars)
    environment = os.environ if environ is None else environ
    for value in _sensitive_variables(environment, policy):
        search.add(value, least)
    for value in _urls(environment):  # DATABASE_URL: its password shows in a split URL too
        search.credentials_in(value, least, whole=True)
    if request is not None:
        search.request(request)
    for place, running in frames:
        if not running:
            try:
                if isinstance(place, BaseException):
                    search.value(place, False, 0)
                else:
                    search.frame(place)
            except BaseException:  # a frame too odd to read: the secrets found so far stand
                search.unsearched += 1
    return search.result()


def _sensitive_variables(environment: Mapping[str, str], policy: Policy) -> Iterator[str]:
    """The values of the OS variables with sensitive names. ``os.environ`` is read from its
    own storage, its names judged once for each set of names, its values read every time."""
    data = getattr(environment, "_data", None)
    decode_key = getattr(environment, "decodekey", None)
    decode_value = getattr(environment, "decodevalue", None)
    if not (isinstance(data, dict) and callable(decode_key) and callable(decode_value)):
        for name in list(environment):  # a plain mapping
            if policy.is_sensitive(name):
                value = environment.get(name)
                if value is not None:
                    yield value
        return
    for key in policy.sensitive_among(frozenset(data), decode_key):
        raw = data.get(key)
        if raw is not None:
            yield decode_value(raw)


def _urls(environment: Mapping[str, str]) -> Iterator[str]:
    """The values of the OS variables that hold a URL, whatever their names."""
    data = getattr(environment, "_data", None)
    decode_value = getattr(environment, "decodevalue", None)
    if isinstance(data, dict) and callable(decode_value):  # os.environ: its own storage
        values = list(data.values())
        try:
            found = b"://" in b"\n".join(values)  # one search for the common case: no URL
        except TypeError:  # not bytes (Windows): read as a plain mapping is
            found = True
        if found:
            yield from (text for text in map(decode_value, values) if "://" in text)
        return
    for value in list(environment.values()):
        if isinstance(value, str) and "://" in value:
            yield value


class _Search:
    def __init__(self, policy: Policy, read: object = None) -> None:
        self.policy = policy
        self.read = read
        self.found: set[str] = set()
        self.pieces: set[str] = set()
        """Parts of a JWT: base64 already, masked as they are."""
        self.chars = 0
        self.left_out = 0
        self.visits = 0
        self.unsearched = 0
        self.seen: set[tuple[int, bool]] = set()
        self.cookies: dict[str, list[str]] = {}
        """The values of each ``Cookie`` header met, by its text: parsed once."""
        self.held: list[object] = []  # keeps the ids in ``seen`` unique during the search

    def result(self) -> Secrets:
        shown = set()
        for text in self.found:
            shown |= {form for form in forms(text) if len(form) >= self.policy.min_secret_chars}
        shown |= self.pieces
        shown -= {MASK}
        self.held.clear()
        return Secrets(Masker(shown), self.left_out, self.unsearched)

    def add(self, value: object, least: int | None = None) -> None:
        """Keep a value that sat under a secret name: a string, bytes or a number."""
        least = self.policy.min_secret_chars if least is None else least
        if isinstance(value, str):
            texts = [str.__str__(value)]
        elif isinstance(value, bytes | bytearray):
            raw = bytes(value)
            texts = [raw.decode("utf-8", "replace"), repr(raw)[2:-1]]
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 128:
            texts = [int.__repr__(value)]  # a PIN, a one-time code
        else:
            return
        if len(texts[0]) > _LONGEST_SECRET:  # a bundle of keys: its lines are what shows
            texts = [line.strip() for line in islice(texts[0].splitlines(), 1000)]
            least = max(least, 8)
        for text in texts:
            if len(text) < max(least, 1) or text in self.found:
                continue
            if len(self.found) >= self.policy.max_secrets or (
                self.chars + len(text) > _MAX_SECRET_CHARS
            ):
                self.left_out += 1
                continue
            self.found.add(text)
            self.chars += len(text)
            jwt = _JWT.fullmatch(text)
            if jwt is not None:  # split, a JWT shows its payload and signature apart
                self.pieces |= {part for part in jwt.groups() if len(part) >= max(least, 8)}

    def frame(self, frame: FrameType) -> None:
        marked = marked_names(frame.f_code)
        every = "*" in marked
        engine = str(frame.f_globals.get("__name__", "")).startswith(_TEMPLATE_ENGINES)
        is_sensitive = self.policy.is_sensitive
        for name, value in list(frame.f_locals.items()):
            sensitive = is_sensitive(name) and not (engine and name == "token")
            secret = every or sensitive or name in marked
            if secret or type(value) not in _LEAVES:  # an ordinary number or text: nothing
                self.value(value, secret, 0)
            elif type(value) is str and value.find("://", 0, _URL_TEXT) >= 0:  # a URL's
                self.credentials_in(value)  # credentials are, though
        if not is_library(frame.f_code.co_filename):
            self.used_globals(frame)

    def used_globals(self, frame: FrameType) -> None:
        """The module's globals an application's code uses, when their name is a secret's
        (``API_KEY = "..."``) or they are a plain dict (``SETTINGS = {"db_password": ...}``):
        a secret written in the source shows in the lines around a failing one."""
        names = frame.f_globals
        for name in frame.f_code.co_names:
            value = names.get(name)
            if value is None:
                continue
            try:
                if self.policy.is_sensitive(name):
                    self.value(value, True, 0)
                elif type(value) is dict:
                    self.value(value, False, 0)
            except BaseException:  # a global too odd to read: the search goes on
                continue

    def value(self, value: object, secret: bool, depth: int) -> None:
        """Search ``value``; ``secret``: it sits under a secret name, and so does all it holds."""
        if isinstance(value, (str, bytes, bytearray, int)):
            if secret:
                self.add(value)
            return
        if value is None or isinstance(value, (float, complex)) or depth >= self.policy.max_depth:
            return
        if self.visits >= _MAX_VISITS:
            self.unsearched += 1
            return
        if secret and (type(value).__module__, type(value).__qualname__) in _LEXER_TOKENS:
            secret = False  # a template's token is a piece of its source, not a credential
        key = (id(value), secret)
        if key in self.seen:
            return
        self.seen.add(key)
        self.held.append(value)
        self.visits += 1
        is_sensitive = self.policy.is_sensitive
        try:
            for name, item, index in self.parts(value):
                if name is not None and is_sensitive(name):
                    if isinstance(item, str):
                        self.named(name, item)
                    else:
                        self.value(item, True, depth + 1)
                elif type(item) in _LEAVES:  # the common case, decided here
                    # A secret container's texts are secret, and so are the numbers of a
                    # secret list; a number beside them under a name of its own is not
                    # (``token = {"value": ..., "expires_in": 3600}``: 3600 shows).
                    if secret and (name is None or type(item) is not int):
                        self.add(item)
                    elif type(item) is str and item.find("://", 0, _URL_TEXT) >= 0:
                        self.credentials_in(item)
                elif secret or index < self.policy.max_items:
                    self.value(item, secret, depth + 1)
        except BaseException:  # a mapping whose items() raises: what was read stays read
            return

    def parts(self, value: object) -> Iterator[tuple[str | None, object, int]]:
        """What ``value`` holds, each with the name it sits under and its position."""
        if isinstance(value, SEQUENCES):
            items = value if not isinstance(value, tuple) else tuple.__iter__(value)
            for index, item in enumerate(islice(items, _MAX_NAMES)):
                if isinstance(item, tuple) and tuple.__len__(item) == 2:
                    name = name_of(tuple.__getitem__(item, 0))
                    if name is not None and self.policy.is_sensitive(name):  # a header pair
                        yield name, tuple.__getitem__(item, 1), index
                        continue
                yield None, item, index
            return
        if isinstance(value, BaseException):  # its arguments, then its attributes and notes
            args = _ARGS.__get__(value)
            for index, item in enumerate(islice(args if type(args) is tuple else (), _MAX_NAMES)):
                yield None, item, index
            own = instance_dict(value) or {}
            for index, (attribute, item) in enumerate(islice(dict.items(own), _MAX_NAMES)):
                yield name_of(attribute), item, index
            return
        if isinstance(value, dict) and value is self.read:  # the request's environ: its
            for key, item in dict.items(value):  # text was searched as request fields
                if type(item) is not str:
                    yield name_of(key), item, 0
            return
        mapping = entries(value, _MAX_NAMES)
        if mapping is not None:
            for index, (key, item) in enumerate(mapping[0]):
                yield name_of(key), item, index
        found = fields(value, _MAX_NAMES)
        if found is not None:
            engine = type(value).__module__.startswith(_TEMPLATE_ENGINES)
            for index, (name, item) in enumerate(found[0]):
                yield None if engine and name == "token" else name, item, index

    def request(self, request: RequestFields) -> None:
        policy = self.policy
        for name, value in request.headers:  # the header's cookies, as the request read them
            if name == "Cookie":
                self.cookies[value] = [cookie for _, cookie in request.cookies]
        for pairs in (request.query, request.form, request.headers, request.environ):
            for name, value in pairs:
                if policy.is_sensitive(name):
                    self.named(name, value)
        for _, value in request.cookies:
            self.add(value)
        for name, value in request.headers:
            if name.lower() in ("authorization", "proxy-authorization"):
                self.credentials(value)

    def named(self, name: str, text: str) -> None:
        """A text under a secret name; a ``Cookie`` header's is kept value by value (so its
        cookies' names still show), or whole where a value is too short to mask."""
        if name.lower() in ("cookie", "http_cookie"):
            values = self.cookies.get(text)
            if values is None:
                try:
                    values = [value for _, value in parse_cookie(text).items(multi=True)]
                except Exception:
                    values = []
                self.cookies[text] = values
            if values and all(len(value) >= self.policy.min_secret_chars for value in values):
                for value in values:
                    self.add(value)
                return
        self.add(text)

    def credentials_in(self, text: str, least: int | None = None, *, whole: bool = False) -> None:
        """The credentials of the URLs in ``text``: ``user:password`` and the password (a
        URL's user alone, ``git@``, is only masked where the URL shows), and the values of
        query arguments with secret names; ``whole``: the text is one URL, whose password
        may hold anything, blanks too."""
        found = url_credentials(text[:_URL_TEXT])
        if "?" in text or "#" in text:  # https://api.example.com/v1?api_key=...
            for name, value in _QUERY.findall(text, 0, _URL_TEXT):
                if self.policy.is_sensitive(unquote_plus(name)):
                    self.add(value, least)
                    self.add(unquote_plus(value), least)
        if whole:
            found += whole_url_credentials(text[:_URL_TEXT])
        for credentials in found:
            _, colon, password = credentials.partition(":")
            if colon and password:
                self.add(credentials, least)
                self.add(password, least)

    def credentials(self, header: str) -> None:
        """An ``Authorization`` value: the whole, the credentials, and Basic's password."""
        scheme, _, credentials = header.strip().partition(" ")
        self.add(credentials.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True)
            except (binascii.Error, ValueError):
                return
            text = decoded.decode("utf-8", "replace")
            self.add(text)
            self.add(text.partition(":")[2])


def frames_of(exceptions: Iterable[Captured]) -> Iterator[Place]:
    """Where the secrets of the captured exceptions are: the exceptions themselves (their
    arguments, attributes and notes), then every frame, once each: first the frames the
    page shows (innermost first), then those it does not (cut, hidden, collapsed)."""
    exceptions = list(exceptions)
    for captured in exceptions:
        if captured.exc is not None:
            yield captured.exc, False
    seen: set[int] = set()
    shown = [(s.frame, s.running) for c in exceptions for s in reversed(c.steps) if s.frame]
    for frame, running in [*shown, *(pair for c in exceptions for pair in c.others)]:
        if id(frame) not in seen:
            seen.add(id(frame))
            yield frame, running
