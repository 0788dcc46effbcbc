-- Overflow referrals (/need): requests, who was pinged, who volunteered, and who was picked.
-- Matching reads indexes already in ranking order (see the end of this file and storage/referrals.py).
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

-- Matching reads only indexes already in ranking order, so its cost does not grow with the number of
-- members offering a skill. What it ranks by is copied where those indexes can see it, by triggers (so
-- every writer, whatever module, keeps the copies right):
--   offers.pings_30d / last_pinged_at  the member's ping counters, on each of their offers (at most 15);
--   offers.area_key                    the member's area, trimmed, inner spaces collapsed, ASCII case-folded;
--   available_offers                   one row per (availability window x offer) of the member.
-- Fairness order: fewest pings in 30 days, least recently pinged (never pinged sorts first: NULL is
-- smallest), then user id.
ALTER TABLE offers ADD COLUMN pings_30d INTEGER NOT NULL DEFAULT 0;
ALTER TABLE offers ADD COLUMN last_pinged_at TEXT;
ALTER TABLE offers ADD COLUMN area_key TEXT;
CREATE INDEX offers_by_rank ON offers (guild_id, skill, pings_30d, last_pinged_at, user_id, area_key);
CREATE INDEX offers_by_area_rank ON offers (guild_id, skill, area_key, pings_30d, last_pinged_at, user_id)
    WHERE area_key IS NOT NULL;

CREATE TABLE available_offers (
    guild_id       INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    skill          TEXT    NOT NULL,
    window_id      INTEGER NOT NULL,  -- availability.id
    start_date     TEXT    NOT NULL,
    end_date       TEXT    NOT NULL,
    pings_30d      INTEGER NOT NULL DEFAULT 0,
    last_pinged_at TEXT,
    PRIMARY KEY (guild_id, user_id, skill, window_id)
) WITHOUT ROWID;
CREATE INDEX available_offers_by_rank
    ON available_offers (guild_id, skill, pings_30d, last_pinged_at, user_id, end_date, start_date);
CREATE INDEX available_offers_by_window ON available_offers (window_id);
CREATE INDEX available_offers_by_start ON available_offers (guild_id, skill, start_date, end_date);
CREATE INDEX available_offers_by_end ON available_offers (end_date);

-- A new offer takes the member's counters, area and availability windows.
CREATE TRIGGER offers_match_insert AFTER INSERT ON offers
BEGIN
    UPDATE offers
       SET area_key = (SELECT nullif(lower(trim(replace(replace(replace(m.area, '  ', ' '), '  ', ' '), '  ', ' '))), '') FROM members m
                        WHERE m.guild_id = NEW.guild_id AND m.user_id = NEW.user_id),
           pings_30d = (SELECT count(*) FROM need_pings p
                         WHERE p.guild_id = NEW.guild_id AND p.user_id = NEW.user_id AND p.counted = 1),
           last_pinged_at = (SELECT max(p.pinged_at) FROM need_pings p
                              WHERE p.guild_id = NEW.guild_id AND p.user_id = NEW.user_id)
     WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id AND skill = NEW.skill;
    INSERT INTO available_offers (guild_id, user_id, skill, window_id, start_date, end_date, pings_30d, last_pinged_at)
    SELECT a.guild_id, a.user_id, o.skill, a.id, a.start_date, a.end_date, o.pings_30d, o.last_pinged_at
      FROM availability a
      JOIN offers o ON o.guild_id = a.guild_id AND o.user_id = a.user_id AND o.skill = NEW.skill
     WHERE a.guild_id = NEW.guild_id AND a.user_id = NEW.user_id;
END;

CREATE TRIGGER offers_match_delete AFTER DELETE ON offers
BEGIN
    DELETE FROM available_offers WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND skill = OLD.skill;
END;

CREATE TRIGGER members_match_area AFTER UPDATE OF area ON members
WHEN NEW.area IS NOT OLD.area
BEGIN
    UPDATE offers SET area_key = nullif(lower(trim(replace(replace(replace(NEW.area, '  ', ' '), '  ', ' '), '  ', ' '))), '')
     WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
END;

CREATE TRIGGER availability_match_insert AFTER INSERT ON availability
BEGIN
    INSERT INTO available_offers (guild_id, user_id, skill, window_id, start_date, end_date, pings_30d, last_pinged_at)
    SELECT o.guild_id, o.user_id, o.skill, NEW.id, NEW.start_date, NEW.end_date, o.pings_30d, o.last_pinged_at
      FROM offers o
     WHERE o.guild_id = NEW.guild_id AND o.user_id = NEW.user_id;
END;

CREATE TRIGGER availability_match_update AFTER UPDATE OF start_date, end_date ON availability
BEGIN
    UPDATE available_offers SET start_date = NEW.start_date, end_date = NEW.end_date WHERE window_id = NEW.id;
END;

CREATE TRIGGER availability_match_delete AFTER DELETE ON availability
BEGIN
    DELETE FROM available_offers WHERE window_id = OLD.id;
END;

-- Rows that existed before this migration.
UPDATE offers
   SET area_key = (SELECT nullif(lower(trim(replace(replace(replace(m.area, '  ', ' '), '  ', ' '), '  ', ' '))), '') FROM members m
                    WHERE m.guild_id = offers.guild_id AND m.user_id = offers.user_id);
INSERT INTO available_offers (guild_id, user_id, skill, window_id, start_date, end_date)
SELECT a.guild_id, a.user_id, o.skill, a.id, a.start_date, a.end_date
  FROM availability a JOIN offers o ON o.guild_id = a.guild_id AND o.user_id = a.user_id;

COMMIT;
