"""The harness's own clock: discord.py's rate-limit and retry sleeps pass at once, yet count.

discord.py sleeps (in `discord.http` and `discord.webhook.async_`) for a spent bucket, a 429's
`retry_after` and 5xx back-off. In tests those sleeps would cost seconds each; here they return at
once while two clocks move on: the sleeping causal chain's own (transport.ORIGIN's third field, which
the 3 s acknowledgement deadline reads) and the buckets' clock (to when the sleeper wakes), so a bucket
has reset by the time discord.py believes it has.
"""

from __future__ import annotations

import asyncio
import time
import types
from typing import Any
from unittest import mock

from buddybot.testing.transport import ORIGIN


class VirtualTime:
    def __init__(self) -> None:
        self.offset = 0.0  # seconds of discord.py sleeps that passed in the harness's clock
        self._patches: list[Any] = []

    def clock(self) -> float:
        """The buckets' clock (seconds): real monotonic time plus the sleeps skipped."""
        return time.monotonic() + self.offset

    @staticmethod
    def chain_age(started: float) -> float:
        """Seconds since `started` (time.monotonic) as the current causal chain lived them."""
        return time.monotonic() - started + ORIGIN.get()[2]

    def _asyncio(self) -> types.ModuleType:
        """`asyncio` as discord.py's REST and webhook code see it: sleep moves the clocks instead."""
        fake = types.ModuleType("asyncio_in_harness_time")
        fake.__dict__.update(asyncio.__dict__)
        real_sleep = asyncio.sleep

        async def sleep(delay: float, result: Any = None) -> Any:
            delay = max(delay, 0.0)
            origin, depth, waited = ORIGIN.get()
            ORIGIN.set((origin, depth, waited + delay))
            wake = self.clock() + delay  # sleepers that start together wake together
            await real_sleep(0)
            self.offset = max(self.offset, wake - time.monotonic())
            return result

        fake.sleep = sleep  # type: ignore[attr-defined]
        return fake

    def install(self) -> None:
        if self._patches:
            return
        import discord.http
        import discord.webhook.async_

        fake = self._asyncio()
        self._patches = [
            mock.patch.object(discord.http, "asyncio", fake),
            mock.patch.object(discord.webhook.async_, "asyncio", fake),
        ]
        for patch in self._patches:
            patch.start()

    def uninstall(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        self._patches = []
