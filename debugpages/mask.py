"""Masking by value: every form a secret can take on a page, and credentials in URLs.

A secret shows on a page as itself, or escaped the way the text around it was made:
inside a ``repr`` (backslashes, an escaped quote), in JSON text (``\\u00e4``), in a URL
(percent-encoded, either case), in base64 (an ``Authorization: Basic`` header), HTML-escaped,
or, for a key file, line by line and with its lines joined. ``forms`` lists them;
``Masker`` replaces each of them, longest first.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable

from .policy import safe_text

MASK = "********"
"""What a masked value shows: fixed length, so the secret's length is not shown either."""

_PERCENT = re.compile(r"%[0-9A-F]{2}")
_URL_CREDENTIALS = re.compile(
    r"(\b[A-Za-z][A-Za-z0-9+.\-]*://)"  # the scheme
    r"([^\s/?#@:]*:(?!\d+[/?#])\S*?|[^\s/?#@:]+)"  # user:password (the password of any
    # characters, but a port and a path: http://host:8000/?email=ada@example.org); a token
    r"@(?=[^\s@/?#]*(?:[/?#\s'\"<>)\]},;]|$))"  # then a host, up to where the host ends
)
_URL_REACH = 2048
"""How far past a cut a URL's ``user:password@`` is looked for."""


_IRI_QUERY = re.compile("[\x00-\x20%\x7f&=+#\ud800-\udfff]")
_IRI_PATH = re.compile("[\x00-\x20%\x7f/?#\ud800-\udfff]")
"""What ``werkzeug.urls.uri_to_iri`` keeps percent-encoded in a query, in a path."""
_PLAIN = re.compile(r"[A-Za-z0-9._~-]*")
"""Characters that no escaping changes (URL's unreserved ones): most tokens are made of them."""
_RESERVED = re.compile(r"[^A-Za-z0-9._~-]")
_UNESCAPED = re.compile(r"[ !#-%(-;=?-\[\]-~]*")
"""Printable ASCII but ``" & ' < > \\``: what ``repr``, JSON and HTML leave as it is."""


def forms(secret: str) -> set[str]:
    """The texts that show ``secret`` on a page, itself among them.

    Each escaping is applied only where it can change something: most secrets are
    tokens, and the escapings of text leave them as they are."""
    if _PLAIN.fullmatch(secret):  # no escaping changes it: itself and its base64
        return {secret, *_base64(secret)}
    found = {secret}
    for encoded in percent_encoded(secret):
        found |= {encoded, _PERCENT.sub(lambda m: m.group().lower(), encoded)}
    for iri in iri_encoded(secret):  # in a <Request '...'> repr
        found |= {iri, *_in_reprs(iri)[:2]}
    if not _UNESCAPED.fullmatch(secret):
        found |= _escaped(secret)
    found |= _base64(secret)
    lines = [line.strip() for line in secret.splitlines() if line.strip()]
    if len(lines) > 1:  # a key file: each line shows on its own, or all of them joined
        found |= {line for line in lines if len(line) >= 8}
        found.add("".join(lines))
    return found


def _escaped(text: str) -> set[str]:
    """``text`` escaped as a page's texts are made: in JSON text, HTML-escaped (by ``html``
    and Django, and by markupsafe and Jinja), and inside a ``repr`` of a ``str`` or of
    ``bytes``, itself, in JSON (a request's raw JSON body) and in a repr (an exception's
    message that holds a repr, shown in a local)."""
    in_json = {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    in_repr = {form for base in (text, *in_json) for form in _in_reprs(base)}
    escaped = html.escape(text)
    return {
        text,
        safe_text(text),  # with its controls and lone surrogates escaped, as pages show it
        *in_json,
        *in_repr,
        *(again for form in _in_reprs(text)[:2] for again in _in_reprs(form)[:2]),
        escaped,
        escaped.replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
    }


def _in_reprs(text: str) -> tuple[str, str, str, str]:
    """``text`` inside the repr of a ``str`` and of its UTF-8 ``bytes``, each as Python
    quotes it alone and with both quotes around it (``'`` escaped)."""
    raw = text.encode("utf-8", "surrogatepass")
    return (
        repr(text)[1:-1],
        repr(text + "'\"")[1:-4],
        repr(raw)[2:-1],
        repr(raw + b"'\"")[2:-4],
    )


def percent_encoded(secret: str) -> tuple[str, str]:
    """``secret`` URL-encoded as ``urllib.parse.quote`` and ``quote_plus`` do it (nothing
    kept but the unreserved characters), without their per-byte Python loop."""
    raw = secret.encode("utf-8", "surrogatepass").decode("latin-1")  # a character a byte
    quoted = _RESERVED.sub(lambda m: f"%{ord(m.group()):02X}", raw)
    return quoted, quoted.replace("%20", "+")


def iri_encoded(secret: str) -> set[str]:
    """``secret`` in a query or a path as werkzeug's ``request.url`` shows it (an IRI, as
    ``werkzeug.urls.uri_to_iri`` makes it): decoded but for controls, blanks (``%20`` or
    ``+``), ``%`` and what the part reserves."""
    found = set()
    for kept in (_IRI_QUERY, _IRI_PATH):
        encoded = kept.sub(_percent, secret)
        found |= {encoded, encoded.replace("%20", "+")}
    return found


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


def _base64(secret: str) -> set[str]:
    """``secret`` in base64, standard and URL-safe, with and without its padding."""
    raw = secret.encode("utf-8", "surrogatepass")
    found = set()
    for coded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = coded.decode("ascii")
        found |= {text, text.rstrip("=")}
    return found


def url_credentials(text: str) -> list[str]:
    """The ``user:password`` (or token) of every URL in ``text``: what an ``Authorization:
    Basic`` header carries in base64, so its forms are secrets too."""
    if "://" not in text:
        return []
    return [match.group(2) for match in _URL_CREDENTIALS.finditer(text)]


_WHOLE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://([^\s/?#@:]*:(?!\d+[/?#]).+)@[^@\s]*")


def whole_url_credentials(text: str) -> list[str]:
    """The ``user:password`` of a text that is one URL (an OS variable's value): the
    password up to the URL's last ``@``, whatever it holds, blanks too."""
    found = _WHOLE_URL.fullmatch(text.strip())
    return [] if found is None else [found.group(1)]


class Masker:
    """Masks, in any text, the forms of one page's secrets and every URL's credentials.

    The forms are looked for one by one, longest first, with ``str``'s own search: a
    request's secrets are new with every request (a session cookie), and compiling them
    into one regular expression cost more than all the searches of a page.
    """

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._forms = tuple(sorted(set(texts), key=len, reverse=True))
        self.reach = (len(self._forms[0]) if self._forms else 0) + _URL_REACH
        """How far past a cut a secret that starts before the cut can reach."""

    def text(self, text: str) -> str:
        """``text`` with every secret and every URL's ``user:password@`` masked."""
        if "://" in text:
            text = _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def head(self, text: str, limit: int) -> str:
        """The first ``limit`` characters of ``text`` masked as if the whole were: only the
        part a secret that starts before the cut can reach is scanned."""
        return self.text(text[: limit + self.reach])[:limit]

    def finds(self, text: str) -> bool:
        """Whether ``text`` holds anything ``text()`` masks: searches only, no copy."""
        if "://" in text and _URL_CREDENTIALS.search(text):
            return True
        for form in self._forms:  # noqa: SIM110 - a generator costs more than the searches
            if form in text:
                return True
        return False


NO_MASKER = Masker()
"""Masks credentials in URLs only."""
