-- Overflow referrals (/need): requests, who was pinged, who volunteered, and who was picked.
-- Fairness counters live on each offer row, so matching walks one index already in ranking order.
BEGIN;

CREATE TABLE needs (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    requester_id INTEGER NOT NULL,
    skill        TEXT    NOT NULL,
    start_date   TEXT    NOT NULL,
    end_date     TEXT    NOT NULL CHECK (end_date >= start_date),
    details      TEXT,
    area         TEXT,
    state        TEXT    NOT NULL DEFAULT 'open'
                         CHECK (state IN ('open', 'filled', 'closed', 'expired', 'removed')),
    -- Bumped by every change the post shows, so a late edit never overwrites a newer one.
    version      INTEGER NOT NULL DEFAULT 0,
    channel_id   INTEGER,
    message_id   INTEGER,
    thread_id    INTEGER,
    created_day  TEXT    NOT NULL,  -- the guild-local date it was asked (daily limit)
    created_at   TEXT    NOT NULL,
    ended_at     TEXT,              -- when it was filled, closed, expired or removed
    ended_by     INTEGER,
    picked_id    INTEGER
);
CREATE INDEX needs_open_by_requester ON needs (guild_id, requester_id) WHERE state = 'open';
CREATE INDEX needs_by_requester_day ON needs (guild_id, requester_id, created_day);
CREATE INDEX needs_open_by_end ON needs (end_date) WHERE state = 'open';
CREATE INDEX needs_by_guild_time ON needs (guild_id, created_at);

-- One row per member pinged for a need. `counted` = still inside the 30-day fairness window
-- (cleared by age_pings, which also takes it off the offers counters).
CREATE TABLE need_pings (
    need_id     INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    guild_id    INTEGER NOT NULL,
    rank        INTEGER NOT NULL,
    pinged_at   TEXT    NOT NULL,
    counted     INTEGER NOT NULL DEFAULT 1 CHECK (counted IN (0, 1)),
    declined_at TEXT,
    PRIMARY KEY (need_id, user_id)
) WITHOUT ROWID;
CREATE INDEX need_pings_by_member ON need_pings (guild_id, user_id, pinged_at);
CREATE INDEX need_pings_to_age ON need_pings (pinged_at) WHERE counted = 1;

CREATE TABLE need_volunteers (
    need_id    INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    guild_id   INTEGER NOT NULL,
    name       TEXT    NOT NULL,  -- display name when they volunteered (the select's label)
    created_at TEXT    NOT NULL,
    PRIMARY KEY (need_id, user_id)
) WITHOUT ROWID;

-- A pick: requester (from_id) referred the work to the volunteer (to_id). One per need.
CREATE TABLE referrals (
    id         INTEGER PRIMARY KEY,
    need_id    INTEGER NOT NULL UNIQUE REFERENCES needs (id) ON DELETE CASCADE,
    guild_id   INTEGER NOT NULL,
    from_id    INTEGER NOT NULL,
    to_id      INTEGER NOT NULL,
    skill      TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX referrals_by_guild_time ON referrals (guild_id, created_at);

-- Per-member ping counters copied onto every offer of the member (at most 15 rows), so the index
-- below lists a skill's offerers in fairness order: fewest pings in 30 days, least recently
-- pinged (never pinged sorts first: NULL is smallest), then user id.
ALTER TABLE offers ADD COLUMN pings_30d INTEGER NOT NULL DEFAULT 0;
ALTER TABLE offers ADD COLUMN last_pinged_at TEXT;
CREATE INDEX offers_by_rank ON offers (guild_id, skill, pings_30d, last_pinged_at, user_id);

-- A new offer of an already-pinged member starts with that member's counters.
CREATE TRIGGER offers_take_ping_stats AFTER INSERT ON offers
WHEN EXISTS (SELECT 1 FROM need_pings p WHERE p.guild_id = NEW.guild_id AND p.user_id = NEW.user_id)
BEGIN
    UPDATE offers
       SET pings_30d = (SELECT count(*) FROM need_pings p
                         WHERE p.guild_id = NEW.guild_id AND p.user_id = NEW.user_id AND p.counted = 1),
           last_pinged_at = (SELECT max(p.pinged_at) FROM need_pings p
                              WHERE p.guild_id = NEW.guild_id AND p.user_id = NEW.user_id)
     WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id AND skill = NEW.skill;
END;

COMMIT;
