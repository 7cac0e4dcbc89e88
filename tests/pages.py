"""Pages compared across requests and processes: what differs by design blanked out."""

from __future__ import annotations

import re

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
_NONCE = re.compile(r'nonce="[^"]*"')
_ADDRESS = re.compile(r"\b0x[0-9a-f]{6,}\b")


def comparable(body: str, *references: str) -> str:
    """``body`` with its references, time, nonce and the addresses in reprs blanked out."""
    for reference in references:
        body = body.replace(reference, "REFERENCE")
    body = _ADDRESS.sub("0xADDRESS", _TIME.sub("TIME", body))
    return _NONCE.sub('nonce=""', body)
