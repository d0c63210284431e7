"""Connections to outside services over HTTP(S): a push service, a webhook's receiver, a mail
provider's API. One place decides how TLS is checked and how a proxy is crossed."""

from __future__ import annotations

import http.client
import ssl
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import certifi

TIMEOUT_SECONDS = 10  # to connect, and again to read the answer


def connector_for(audience: str) -> Callable[[], http.client.HTTPConnection]:
    """How to open a connection to one outside service (a push service, a webhook receiver, a
    mail provider): TLS checked against certifi's bundle
    (as pywebpush's requests did), through HTTPS_PROXY unless NO_PROXY names the host."""
    origin = urlsplit(audience)
    if origin.scheme == "http":  # a push service on this machine (the tests' and the bench's)
        return lambda: http.client.HTTPConnection(
            origin.hostname, origin.port, timeout=TIMEOUT_SECONDS
        )
    context = ssl.create_default_context(cafile=certifi.where())
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(origin.hostname or ""):
        return lambda: http.client.HTTPSConnection(
            origin.hostname, origin.port, timeout=TIMEOUT_SECONDS, context=context
        )
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    tunnel_headers = {}
    if via.username:
        credentials = f"{unquote(via.username)}:{unquote(via.password or '')}"
        tunnel_headers["Proxy-Authorization"] = "Basic " + b64encode(credentials.encode()).decode()

    def through_proxy() -> http.client.HTTPSConnection:
        connection = http.client.HTTPSConnection(
            via.hostname, via.port or 8080, timeout=TIMEOUT_SECONDS, context=context
        )
        connection.set_tunnel(origin.hostname, origin.port or 443, headers=tunnel_headers)
        return connection

    return through_proxy
