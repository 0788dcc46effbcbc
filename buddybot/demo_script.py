"""The demo's story, step by step. Each step is one member's real interaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buddybot.testing.harness import FakeDiscord, FakeGuild, FakeUser

if TYPE_CHECKING:
    from buddybot.demo import Transcript
    from buddybot.testing.world import FakeClock


async def play(discord: FakeDiscord, guild: FakeGuild, m: dict[str, FakeUser], t: Transcript,
               clock: FakeClock) -> None:
    async def slash(who: str, command: str, **options: object) -> object:
        shown = " ".join(f"{k}:{v.name if isinstance(v, FakeUser) else v}" for k, v in options.items())
        t.action(m[who], f"/{command} {shown}".rstrip())
        result = await discord.slash(command, m[who], **options)
        t.result(m[who], result)
        return result

    t.heading("Members set up their profiles and skills")
    await slash("alice", "profile set", business="Alice's Salon", area="Riverside", about="Cuts and colour, by appointment")
    await slash("alice", "offer add", skill="hairdressing")
    await slash("bob", "profile set", business="Bob's Barbers", area="Riverside")
    await slash("bob", "offer add", skill="hair", details="Walk-ins welcome")
    await slash("bob", "available", when="this week", slots=3)
    await slash("carol", "profile set", business="Carol Creative", area="Old Town")
    await slash("carol", "offer add", skill="Graphic designer")
    await slash("carol", "offer add", skill="hairdressing", details="Weddings and events")
    await slash("dev", "profile set", business="Dev Builds Websites", area="Riverside")
    await slash("dev", "offer add", skill="web dev")
    await slash("erin", "profile set", business="Erin Copy", area="Old Town")
    await slash("erin", "offer add", skill="copywriting")
    await slash("erin", "busy", until="friday")

    t.heading("Browsing the directory")
    await slash("dev", "find", skill="hairdressing", when="this week")
    await slash("alice", "profile view", member=m["bob"])
