"""Discord's rate limits, offline: per-route buckets with X-RateLimit-* headers, a 429 when one is
exceeded, and the 50 requests per second global limit.

Sources (figures Discord documents, or that its response headers show):
- https://discord.com/developers/docs/topics/rate-limits: per-route buckets keyed by the route and its
  major parameter (channel_id, guild_id, webhook_id + token); the headers X-RateLimit-Limit, -Remaining,
  -Reset, -Reset-After, -Bucket and, on a 429, -Scope and -Global; a 429 body with `retry_after` (seconds)
  and `global`; "All bots can make up to 50 requests per second to our API"; "Interaction endpoints are
  not bound to the bot's Global Rate Limit" (callbacks and the interaction webhook: follow-ups,
  @original edits).
- Message create and edit in one channel: X-RateLimit-Limit 5, Reset-After 5 (one bucket per channel
  shared by POST and PATCH .../messages, as the headers of both show; the issue's "about 5 per 5 s").
- Message delete: 5 per 1 s per channel (headers). Thread creation: 10 per 10 s per channel (headers;
  Discord documents no figure). Webhook / interaction follow-ups: 5 per 2 s per token (headers).
- Anything else: 10 per 10 s per route, a conservative stand-in.

The clock is the harness's own (`clock()` in seconds), so tests can let discord.py's rate-limit sleeps
pass instantly while the buckets still see the time go by (see FakeDiscord's virtual time).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

GLOBAL_LIMIT = 50  # requests per second, per bot
GLOBAL_WINDOW = 1.0


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    per: float


MESSAGES = Rule("channel messages (create/edit)", 5, 5.0)
DELETES = Rule("channel message delete", 5, 1.0)
THREADS = Rule("thread create", 10, 10.0)
WEBHOOK = Rule("interaction webhook (follow-ups, @original)", 5, 2.0)
OTHER = Rule("other", 10, 10.0)

_ROUTES: list[tuple[re.Pattern[str], str, Rule]] = [
    (re.compile(r"^/channels/(\d+)/messages$"), "POST", MESSAGES),
    (re.compile(r"^/channels/(\d+)/messages/\d+$"), "PATCH", MESSAGES),
    (re.compile(r"^/channels/(\d+)/messages/\d+$"), "DELETE", DELETES),
    (re.compile(r"^/channels/(\d+)/messages/\d+/threads$"), "POST", THREADS),
    (re.compile(r"^/webhooks/\d+/([^/]+)(/.*)?$"), "*", WEBHOOK),
]
_CALLBACK = re.compile(r"^/interactions/\d+/[^/]+/callback$")
_INTERACTION_WEBHOOK = re.compile(r"^/webhooks/\d+/[^/]+")
# Not limited by the harness: the gateway's and login's calls, and command sync at start.
_UNLIMITED = re.compile(r"^/(users/@me|oauth2/applications/@me|gateway(/bot)?|applications/\d+/.*commands)$")


def bucket_of(method: str, path: str) -> tuple[str, Rule] | None:
    """(bucket key, rule) for a request, or None when it is not rate limited (interaction callbacks)."""
    if _CALLBACK.match(path) or _UNLIMITED.match(path):
        return None
    for pattern, verb, rule in _ROUTES:
        match = pattern.match(path)
        if match and verb in ("*", method):
            return f"{rule.name}:{match.group(1)}", rule
    return f"{OTHER.name}:{method} {path}", OTHER


@dataclass
class _Window:
    reset_at: float
    used: int = 0


@dataclass
class Verdict:
    """What Discord answers about one request's rate limits."""

    allowed: bool
    bucket: str | None  # the rule's name (which kind of bucket), None when not limited
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float = 0.0
    is_global: bool = False


class RateLimits:
    """Fixed windows per bucket, opened by a bucket's first request, plus the global per-second window."""

    def __init__(self, clock: Callable[[], float], *, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self._windows: dict[str, _Window] = {}
        self._global = _Window(reset_at=0.0)
        self.throttled: Counter[str] = Counter()  # 429s sent, per kind of bucket

    def _window(self, key: str, per: float, now: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now >= window.reset_at:
            window = self._windows[key] = _Window(reset_at=now + per)
        return window

    def check(self, method: str, path: str) -> Verdict:
        found = bucket_of(method, path)
        if found is None or not self.enabled:
            return Verdict(True, found[1].name if found else None)
        key, rule = found
        now = self.clock()
        if not _INTERACTION_WEBHOOK.match(path):
            if now >= self._global.reset_at:
                self._global = _Window(reset_at=now + GLOBAL_WINDOW)
            if self._global.used >= GLOBAL_LIMIT:
                retry = _ceil_ms(self._global.reset_at - now)
                self.throttled["global"] += 1
                return Verdict(False, rule.name, _throttled_headers(retry, "global"), retry, is_global=True)
            self._global.used += 1
        window = self._window(key, rule.per, now)
        reset_after = _ceil_ms(window.reset_at - now)
        headers = {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Bucket": hashlib.sha1(key.encode()).hexdigest()[:16],
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }
        if window.used >= rule.limit:
            self.throttled[rule.name] += 1
            headers.update(_throttled_headers(reset_after, "user"), **{"X-RateLimit-Remaining": "0"})
            return Verdict(False, rule.name, headers, reset_after)
        window.used += 1
        headers["X-RateLimit-Remaining"] = str(rule.limit - window.used)
        return Verdict(True, rule.name, headers)


def _ceil_ms(seconds: float) -> float:
    """Whole milliseconds, rounded up: a client that waits exactly this long finds the bucket reset."""
    return max(math.ceil(seconds * 1000) / 1000, 0.0)


def _throttled_headers(retry_after: float, scope: str) -> dict[str, str]:
    headers = {"Retry-After": f"{retry_after:.3f}", "X-RateLimit-Scope": scope, "Via": "1.1 google"}
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    return headers


def too_many_requests(verdict: Verdict) -> dict[str, object]:
    return {
        "message": "You are being rate limited.",
        "retry_after": verdict.retry_after,
        "global": verdict.is_global,
        "code": 0,
    }
