"""The demo's transcript: what each member would see in Discord, as plain text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from buddybot.testing.harness import FakeDiscord, FakeUser, Result, Sent

_MENTION = re.compile(r"<@!?(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")


def _when(m: re.Match[str], now: datetime | None) -> str:
    """A Discord timestamp as a reader sees it (UTC here; Discord shows each reader's own time zone)."""
    moment = datetime.fromtimestamp(int(m.group(1)), UTC)
    if m.group(2) != "R" or now is None:
        return f"{moment:%a %d %b %Y %H:%M} UTC"
    hours = round(abs((moment - now).total_seconds()) / 3600)
    span = f"{hours // 24} days" if hours >= 48 else f"{hours} hours"
    return f"in {span}" if moment >= now else f"{span} ago"


class Transcript:
    """Prints what Discord would show, with <@id> turned back into @names."""

    def __init__(self, discord: FakeDiscord, out: Any = None, clock: Any = None) -> None:
        self.discord = discord
        self.clock = clock  # for relative Discord timestamps ("in 3 days")
        self.lines: list[str] = []
        self._seen: dict[str, str] = {}
        self._out = out

    def names(self, text: str) -> str:
        def user(m: re.Match[str]) -> str:
            found = self.discord.users.get(int(m.group(1)))
            return f"@{found.name}" if found else "@someone"

        def channel(m: re.Match[str]) -> str:
            for guild in self.discord.guilds.values():
                for name, cid in guild.channels.items():
                    if cid == int(m.group(1)):
                        return f"#{name}"
            return "#channel"

        now = self.clock() if self.clock is not None else None
        return _TIMESTAMP.sub(lambda m: _when(m, now), _CHANNEL.sub(channel, _MENTION.sub(user, text)))

    def say(self, text: str = "") -> None:
        self.lines.append(text)
        print(text, file=self._out)

    def heading(self, text: str) -> None:
        self.say()
        self.say(f"── {text} " + "─" * max(0, 66 - len(text)))

    def action(self, who: FakeUser, what: str) -> None:
        self.say(f"▶ {who.name}: {what}")

    def _block(self, prefix: str, text: str) -> None:
        for i, line in enumerate(self.names(text).splitlines() or [""]):
            self.say(f"{prefix if i == 0 else ' ' * len(prefix)}{line}")

    def result(self, who: FakeUser, r: Result, *, before: str | None = None) -> None:
        """Print what `who` and the channel saw; for an edited post, only the lines that changed."""
        kind = r.response["type"] if r.callbacks else None
        if kind == 9:
            self.say(f"  ↳ a form opens for {who.name}: {r.data.get('title', '')}")
        elif kind == 7 and before is not None:
            self._changed(before, r.text())
            self._components(r.data.get("components") or [])
        elif kind in (4, 7):
            private = r.ephemeral if kind == 4 else r.message.ephemeral
            where = f"only {who.name} sees" if private else "in the channel"
            self._block(f"  ↳ ({where}) ", r.text() or "(updated)")
            self._components(r.data.get("components") or [])
        for call in r.calls:
            if not call.json or not 200 <= call.status < 300:
                continue
            if (
                call.method == "POST"
                and call.path.startswith("/channels/")
                and call.path.endswith("/messages")
            ):
                sent = Sent(0, int(call.path.split("/")[2]), call.json)
                self.post(sent)
                self._seen[str(call.response["id"])] = sent.text()
            elif call.method == "POST" and call.path.startswith("/webhooks/"):
                private = call.json.get("flags", 0) & 64
                self._block(
                    f"  ↳ ({'only ' + who.name + ' sees' if private else 'follow-up'}) ",
                    Sent(0, 0, call.json).text(),
                )
            elif call.method == "PATCH" and "/messages/" in call.path:
                message_id = call.path.rsplit("/", 1)[1]
                text = Sent(0, 0, call.json).text()
                self._changed(self._seen.get(message_id), text)
                self._seen[message_id] = text

    def _changed(self, before: str | None, after: str) -> None:
        old = set((before or "").splitlines())
        changed = [line for line in after.splitlines() if line not in old] if before is not None else [after]
        self._block("  ↳ (post updated) ", "\n".join(changed) or "(buttons updated)")

    def post(self, sent: Sent) -> None:
        channel = self.names(f"<#{sent.channel_id}>")
        self._block(f"  ↳ {channel}: ", sent.text())
        pinged = (sent.data.get("allowed_mentions") or {}).get("users") or []
        if pinged:
            self.say("     pings: " + ", ".join(self.names(f"<@{u}>") for u in pinged))
        self._components(sent.components)

    def _components(self, rows: list[dict[str, Any]]) -> None:
        labels = [c.get("label") or c.get("placeholder") for row in rows for c in row.get("components", [])]
        if labels:
            self.say("     [" + "] [".join(str(label) for label in labels if label) + "]")
