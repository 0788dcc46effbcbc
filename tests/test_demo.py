"""`buddybot demo` plays the whole story through the real handlers and shows what Discord received."""

from __future__ import annotations

import io
import json
import sqlite3

from buddybot.demo import run_demo


async def test_demo_plays_the_full_scenario(tmp_path) -> None:
    out = io.StringIO()
    db_path = tmp_path / "demo.sqlite3"
    transcript = await run_demo(str(db_path), out=out)
    text = out.getvalue()
    assert text == "\n".join(transcript.lines) + "\n"
    assert "pings: @bob, @carol" in text  # the need pinged exactly the two fitting members
    assert "Only the member who asked can pick a volunteer." in text
    assert "Status: Filled: @alice picked @bob." in text
    assert "pings: @alice, @bob" in text
    assert "Status: 🤝 Agreed by everyone: terms locked" in text
    assert "pings: @dev, @carol, @erin, @bob" in text
    assert "PNG image" in text
    assert "#general: Hello! I'm BuddyBot" in text and "Three first steps:" in text  # the join note
    assert "▶ alice: /help\n" in text and "Finding and asking for help:" in text
    assert "Moderators:" not in text  # alice is not a moderator
    assert "▶ maya: /config check" in text and "✅ #referrals (referrals channel)" in text
    assert "fully booked until Mon 30 Nov" in text  # /busy until:end of the month
    # the flour buy reaches the miller's case price; only its pledgers are pinged with their share
    assert "succeeded: 5 cases (20 × 16 kg sack) at £16.00 each (the 20+ tier)" in text
    assert "@bob: 6 at £16.00 = £96.00 (1 from your tolerance)" in text
    assert "pings: @alice, @bob, @carol, @dev" in text
    assert "TOTAL: 5 cases of 4,,19,3,20,16 kg sack,16.00,320.00,GBP" in text
    assert "Traceback" not in text
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM referrals").fetchone()[0] == 1
        assert conn.execute("SELECT state FROM agreements").fetchall() == [("completed",)]
        assert conn.execute("SELECT count(*) FROM agreement_feedback").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM shoutouts").fetchone()[0] == 1
        assert conn.execute("SELECT state FROM group_buys").fetchall() == [("succeeded",)]
        assert conn.execute("SELECT kind, quantity, state, closed_how FROM loans ORDER BY id").fetchall() == [
            ("equipment", 1, "closed", "returned"),
            ("labour", 4, "closed", "returned"),
        ]
    assert "Lent: 1 item" in text and "4 labour hours shared" in text
    assert json.dumps(transcript.lines)  # printable, no stray objects
