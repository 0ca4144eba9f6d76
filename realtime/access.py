"""Who may use the server, and how often: signed session tokens, allowed origins, per-client rates.

A page served to the public must not hold the master token (anyone could read it from the page), so
the operator's backend, holding the master token, mints short-lived session tokens (`POST /token`)
and hands one to each page: an HMAC-SHA256 over its expiry, keyed by the master token, checked in
constant time, useless after it expires. Browsers send an `Origin` header, so a page on another
site can be refused even with a valid token. Rate limits are token buckets per client address,
kept for a bounded number of clients.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from realtime.config import Settings

_TOKEN_PREFIX = "st1"


class SessionTokens:
    """Mints and checks `st1.<expiry>.<nonce>.<signature>` tokens keyed by the master token."""

    def __init__(self, master_token: str, clock: Callable[[], float] = time.time) -> None:
        # A key of its own, so a session token's signature never reveals anything about the master token.
        self._key = hashlib.sha256(b"coach session tokens\0" + master_token.encode()).digest()
        self._clock = clock

    def mint(self, ttl_s: float) -> tuple[str, int]:
        """A token valid for `ttl_s` seconds; returns it and its expiry (unix seconds)."""
        expires = int(self._clock() + ttl_s)
        body = f"{_TOKEN_PREFIX}.{expires}.{secrets.token_urlsafe(9)}"
        return f"{body}.{self._sign(body)}", expires

    def verify(self, token: str) -> bool:
        """True for a token this server signed that has not expired."""
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != _TOKEN_PREFIX or not parts[1].isdigit():
            return False
        body, signature = ".".join(parts[:3]), parts[3]
        return hmac.compare_digest(signature.encode(), self._sign(body).encode()) and int(parts[1]) > self._clock()

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def origin_allowed(origin: str | None, allowed: list[str], host: str | None) -> bool:
    """A request may go on: no Origin header (not a browser), the page's own origin, or one listed.
    An empty list allows every origin, as before the setting existed."""
    if origin is None or not allowed or "*" in allowed:
        return True
    if host is not None and urlsplit(origin).netloc == host:
        return True  # the demo page served by this server
    return origin.rstrip("/") in {a.rstrip("/") for a in allowed}


class RateLimiter:
    """A token bucket per key: `burst` requests at once, refilled at `per_minute`."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0.0 if the request may go on (one token taken); else the seconds until it may."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate if self.rate > 0 else float("inf")
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_keys:  # the least recently seen clients go first
            self._buckets.popitem(last=False)
        return wait


@dataclass
class Access:
    """The server's access state: its session tokens (None without a master token) and rate limits."""

    tokens: SessionTokens | None
    offers: RateLimiter
    websockets: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        limits = settings.limits
        return cls(
            tokens=SessionTokens(settings.token) if settings.token else None,
            offers=RateLimiter(limits.offers_per_minute, limits.offer_burst),
            websockets=RateLimiter(limits.websockets_per_minute, limits.websocket_burst),
        )
