-- One scheduler for all due work (expiry, nudges, reminders, loan and group-buy deadlines), and the
-- settings the lifecycle, sharing and group-buy features read. Portable SQL: runs on SQLite and PostgreSQL.
--
-- A job is (guild, kind, ref_id, tag): scheduling the same one again moves its due time while it is still
-- 'due' and never revives one that ran. A worker claims due jobs with a conditional UPDATE … WHERE
-- state = 'due' (so a job runs once across processes), runs the job's domain step in the same transaction,
-- stores what must be said in `result`, then marks it 'done' once Discord has it. A worker that dies in
-- between leaves a 'claimed' job with a lease; after the lease, another worker re-sends the stored result
-- with the same message nonce (Discord drops the duplicate) without running the domain step again.

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    ref_id      INTEGER NOT NULL,
    tag         TEXT    NOT NULL DEFAULT '',
    due_at      TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'due'
                CHECK (state IN ('due', 'claimed', 'done', 'dropped', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,
    claimed_by  TEXT,
    result      TEXT,
    created_at  TEXT    NOT NULL,
    done_at     TEXT,
    UNIQUE (guild_id, kind, ref_id, tag)
);
CREATE INDEX jobs_due ON jobs (due_at) WHERE state = 'due';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'claimed';
CREATE INDEX jobs_finished ON jobs (done_at) WHERE state IN ('done', 'dropped', 'failed');

ALTER TABLE guild_config ADD COLUMN currency TEXT NOT NULL DEFAULT 'GBP';
ALTER TABLE guild_config ADD COLUMN pitch_window_minutes INTEGER NOT NULL DEFAULT 30
    CHECK (pitch_window_minutes BETWEEN 0 AND 240);
ALTER TABLE guild_config ADD COLUMN nudge_after_hours INTEGER NOT NULL DEFAULT 24
    CHECK (nudge_after_hours BETWEEN 1 AND 336);
ALTER TABLE guild_config ADD COLUMN sharing_channel_id INTEGER;
ALTER TABLE guild_config ADD COLUMN mod_channel_id INTEGER;
ALTER TABLE guild_config ADD COLUMN labour_hours_per_week INTEGER NOT NULL DEFAULT 20
    CHECK (labour_hours_per_week BETWEEN 1 AND 168);
ALTER TABLE guild_config ADD COLUMN groupbuy_channel_id INTEGER;
ALTER TABLE guild_config ADD COLUMN pledge_cap_percent INTEGER NOT NULL DEFAULT 40
    CHECK (pledge_cap_percent BETWEEN 1 AND 100);
ALTER TABLE guild_config ADD COLUMN locale TEXT;
