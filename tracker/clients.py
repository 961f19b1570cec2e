"""Who is asking: the one client address that rate limits (tracker/ratelimit.py) and login
lock-outs (django-axes, AXES_CLIENT_IP_CALLABLE) both key on.

Behind TRUSTED_PROXY_COUNT reverse proxies of ours, every request's REMOTE_ADDR is the nearest
proxy, so keying on it would put every reader (and every editor) behind one counter: five bad
passwords from anywhere would lock a real editor out. Each proxy appends the address it received
the request from to X-Forwarded-For, so the client is that many entries from the right; entries
further left are whatever the client sent and are never believed.

The header is believed only when REMOTE_ADDR is inside TRUSTED_PROXY_NETWORKS (by default
loopback and the private ranges a container network or load balancer uses): a client reaching an
app server directly, from outside them, is keyed on its own address however it fills the header.
"""

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _trusted_networks(networks: tuple[str, ...]):
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def _ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _from_trusted_proxy(remote) -> bool:
    return remote is not None and any(
        remote in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXY_NETWORKS))
    )


def client_address(request) -> str | None:
    """The client's IP address, as text (None when the server was given none)."""
    remote_addr = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies or remote_addr is None or not _from_trusted_proxy(_ip(remote_addr)):
        return remote_addr
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")
    if len(forwarded) < proxies:
        return remote_addr  # not through all our proxies: misconfigured, or a direct request
    client = _ip(forwarded[-proxies])
    return str(client) if client is not None else remote_addr
