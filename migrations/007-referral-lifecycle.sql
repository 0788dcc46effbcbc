-- After the handshake: referral outcomes, the fair first-answer window, nudges, and what /stats and
-- /profile show about them. Portable SQL (SQLite and PostgreSQL); reminders live in the jobs table (006).

-- First-answer window: volunteers until picks_open_at are all "first" and listed in an order fixed by
-- pick_seed; NULL = the menu is open from the start (requests older than this migration).
ALTER TABLE needs ADD COLUMN picks_open_at TEXT;
ALTER TABLE needs ADD COLUMN pick_seed INTEGER NOT NULL DEFAULT 0;
-- Stale-request nudges: how many were sent (at most 2) and when the first went out.
ALTER TABLE needs ADD COLUMN nudges INTEGER NOT NULL DEFAULT 0;
ALTER TABLE needs ADD COLUMN nudged_at TEXT;

-- Referral outcomes, reported once by the receiver. The value (minor units of `currency`) is private:
-- only the giver, the receiver and moderators' aggregates see it.
ALTER TABLE referrals ADD COLUMN outcome TEXT CHECK (outcome IN ('won', 'no_deal'));
ALTER TABLE referrals ADD COLUMN outcome_at TEXT;
ALTER TABLE referrals ADD COLUMN value_minor INTEGER CHECK (value_minor >= 0);
ALTER TABLE referrals ADD COLUMN currency TEXT;
CREATE INDEX referrals_by_giver ON referrals (guild_id, from_id, created_at);  -- by receiver: migration 004
CREATE INDEX referrals_by_outcome_time ON referrals (guild_id, outcome_at);

-- How fast each member answers requests (first volunteer click after the post), kept up to date in the
-- unit that records the volunteer, so /stats can name the fastest decile without reading history.
CREATE TABLE responder_speed (
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    answers       INTEGER NOT NULL DEFAULT 0,
    seconds_total INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id)
);

-- Open requests from before this migration get their expiry job (the job finds the exact moment in the
-- guild's time zone when it first runs).
INSERT INTO jobs (guild_id, kind, ref_id, tag, due_at, created_at)
SELECT guild_id, 'need.expire', id, '', end_date || 'T00:00:00+00:00', created_at FROM needs WHERE state = 'open'
ON CONFLICT (guild_id, kind, ref_id, tag) DO NOTHING;
