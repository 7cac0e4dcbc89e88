"""Masking by value: every form a secret can take on a page, and credentials in URLs.

A secret shows on a page as itself, or escaped the way the text around it was made:
inside a ``repr`` (backslashes, an escaped quote), in JSON text (``\\u00e4``), in a URL
(percent-encoded, either case), in base64 (an ``Authorization: Basic`` header), HTML-escaped,
or, for a key file, line by line and with its lines joined. ``forms`` lists them;
``Masker`` replaces any of them, longest first, in one regular expression.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from .policy import safe_text

MASK = "********"
"""What a masked value shows: fixed length, so the secret's length is not shown either."""

_PERCENT = re.compile(r"%[0-9A-F]{2}")
_URL_CREDENTIALS = re.compile(
    r"(\b[A-Za-z][A-Za-z0-9+.\-]*://)"  # the scheme
    r"(?:[^\s/?#@:]*:\S*?|[^\s/?#@:]+)"  # user:password, the password of any characters; a token
    r"@(?=[^\s@/?#]*(?:[/?#\s'\"<>)\]},;]|$))"  # then a host, up to where the host ends
)
_URL_REACH = 2048
"""How far past a cut a URL's ``user:password@`` is looked for."""


def forms(secret: str) -> set[str]:
    """The texts that show ``secret`` on a page, itself first among them."""
    found = {
        secret,
        safe_text(secret),  # with its controls and lone surrogates escaped, as pages show it
        repr(secret)[1:-1],
        repr(secret + "'\"")[1:-4],  # inside single quotes: ' escaped, as repr does with both
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
    }
    url = (
        quote(secret, safe="", errors="surrogatepass"),
        quote_plus(secret, "", errors="surrogatepass"),
    )
    for encoded in url:
        found |= {encoded, _PERCENT.sub(lambda m: m.group().lower(), encoded)}
    raw = secret.encode("utf-8", "surrogatepass")
    for coded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = coded.decode("ascii")
        found |= {text, text.rstrip("=")}
    lines = [line.strip() for line in secret.splitlines() if line.strip()]
    if len(lines) > 1:  # a key file: each line shows on its own, or all of them joined
        found |= {line for line in lines if len(line) >= 8}
        found.add("".join(lines))
    return found


class Masker:
    """Masks, in any text, the forms of one page's secrets and every URL's credentials."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        ordered = sorted(set(texts), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self.reach = (len(ordered[0]) if ordered else 0) + _URL_REACH
        """How far past a cut a secret that starts before the cut can reach."""

    def text(self, text: str) -> str:
        """``text`` with every secret and every URL's ``user:password@`` masked."""
        if "://" in text:
            text = _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return text

    def head(self, text: str, limit: int) -> str:
        """The first ``limit`` characters of ``text`` masked as if the whole were: only the
        part a secret that starts before the cut can reach is scanned."""
        return self.text(text[: limit + self.reach])[:limit]

    def finds(self, text: str) -> bool:
        """Whether ``text`` holds anything ``text()`` masks: one search, no copy."""
        if "://" in text and _URL_CREDENTIALS.search(text):
            return True
        return self._pattern is not None and self._pattern.search(text) is not None


NO_MASKER = Masker()
"""Masks credentials in URLs only."""
