-- Group buys: pooled orders that reach a supplier's bulk price. Portable SQL (SQLite and PostgreSQL).
--
-- Prices are integer minor units (pence), never floats. `terms_hash` is the SHA-256 of the canonical
-- JSON of the terms; `frozen_at` is set by the first pledge, after which the terms never change.
-- The deadline and the 24-hour reminder are jobs in the scheduler's `jobs` table.

CREATE TABLE group_buys (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    organiser_id INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'succeeded', 'failed', 'cancelled')),
    product      TEXT    NOT NULL,
    supplier     TEXT    NOT NULL,
    unit         TEXT    NOT NULL,
    case_size    INTEGER NOT NULL CHECK (case_size >= 1),
    target_units INTEGER NOT NULL CHECK (target_units >= 1),
    tiers        TEXT    NOT NULL,  -- JSON [[from_units, price_minor], ...], ascending
    currency     TEXT    NOT NULL,
    terms_hash   TEXT    NOT NULL,
    frozen_at    TEXT,
    deadline_at  TEXT    NOT NULL,
    extended     INTEGER NOT NULL DEFAULT 0 CHECK (extended IN (0, 1)),
    milestone    INTEGER NOT NULL DEFAULT 0,  -- highest of 50, 80, 100 (% of target) reached
    pledge_seq   INTEGER NOT NULL DEFAULT 0,  -- queue numbers handed to pledges (oldest first)
    version      INTEGER NOT NULL DEFAULT 0,  -- bumped by every change the post shows
    channel_id   INTEGER,
    message_id   INTEGER,
    thread_id    INTEGER,
    created_at   TEXT    NOT NULL,
    closed_at    TEXT,
    closed_by    INTEGER,
    reason       TEXT
);
CREATE INDEX group_buys_open ON group_buys (guild_id, state, deadline_at);
CREATE INDEX group_buys_organiser ON group_buys (guild_id, organiser_id, state);

CREATE TABLE group_buy_pledges (
    group_buy_id INTEGER NOT NULL REFERENCES group_buys (id),
    user_id      INTEGER NOT NULL,
    guild_id     INTEGER NOT NULL,
    name         TEXT,
    quantity     INTEGER NOT NULL CHECK (quantity >= 1),
    tolerance    INTEGER NOT NULL DEFAULT 0 CHECK (tolerance >= 0),
    seq          INTEGER NOT NULL,  -- place in the queue; a raised pledge goes to the back
    terms_hash   TEXT    NOT NULL,
    pledged_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    allocated    INTEGER,           -- units allocated when the buy succeeded
    PRIMARY KEY (group_buy_id, user_id)
);
CREATE INDEX group_buy_pledges_member ON group_buy_pledges (guild_id, user_id);
