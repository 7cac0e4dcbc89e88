"""Who may see a traceback: ``DEBUGPAGES_ALLOW``, a list of client networks.

When a list is set, a client whose ``REMOTE_ADDR`` is outside it gets the ``off``
page. Only ``REMOTE_ADDR`` counts: headers such as ``X-Forwarded-For`` are the
client's to invent. Behind a proxy, put werkzeug's ``ProxyFix`` in front, which
sets ``REMOTE_ADDR`` from the proxy's header for the hops you trust.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .switch import ConfigurationError

ALLOW_VAR = "DEBUGPAGES_ALLOW"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str], setting: str) -> tuple[Network, ...]:
    """Networks in CIDR form (``10.0.0.0/8``, ``::1``); a bare address is a network of one."""
    networks = []
    for entry in entries:
        if not isinstance(entry, str):
            raise ConfigurationError(f"{setting}: {entry!r} is not a network in CIDR form")
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{setting}: {entry!r} is not a network in CIDR form "
                "(for example 127.0.0.1/32, 10.0.0.0/8, ::1/128)"
            ) from None
    return tuple(networks)


def resolve_allow(
    argument: Iterable[str] | str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Network, ...] | None:
    """The networks allowed to see tracebacks, or ``None`` for every client.

    The argument wins over ``DEBUGPAGES_ALLOW`` (comma- or blank-separated); an
    empty argument list allows nobody, an unset or empty variable everybody.
    """
    if argument is not None:
        if not isinstance(argument, str | Iterable) or isinstance(argument, bytes):
            raise ConfigurationError(
                f"allow={argument!r}: expected networks in CIDR form, as a list or as "
                f"comma-separated text, not a {type(argument).__name__}"
            )
        entries = argument.replace(",", " ").split() if isinstance(argument, str) else argument
        return parse_networks(entries, "allow")
    value = (os.environ if environ is None else environ).get(ALLOW_VAR, "")
    if not value.strip():
        return None
    return parse_networks(value.replace(",", " ").split(), ALLOW_VAR)


def client_allowed(networks: tuple[Network, ...] | None, environ: Mapping[str, Any]) -> bool:
    """Whether the request's ``REMOTE_ADDR`` is inside one of ``networks``."""
    if networks is None:
        return True
    remote = environ.get("REMOTE_ADDR")
    if not isinstance(remote, str):
        return False
    try:
        address = ipaddress.ip_address(remote.strip().partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
