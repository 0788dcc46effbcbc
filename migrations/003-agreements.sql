-- One-off job agreements: versioned terms bound by a SHA-256 hash, the members (lead and parties),
-- each party's acceptance of one exact version, and the "would you work together again?" answers.
-- States: draft -> proposed -> agreed -> completed; proposed -> declined; draft/proposed/agreed -> cancelled.
BEGIN;

CREATE TABLE agreements (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    lead_id     INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'draft'
                CHECK (state IN ('draft', 'proposed', 'agreed', 'declined', 'cancelled', 'completed')),
    version     INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    message_id  INTEGER,
    created_at  TEXT    NOT NULL,
    proposed_at TEXT,
    agreed_at   TEXT,
    closed_at   TEXT,
    closed_by   INTEGER,
    reason      TEXT
);
CREATE INDEX agreements_by_guild_state ON agreements (guild_id, state);

-- Every version of the terms ever proposed; agreements.version names the current one.
CREATE TABLE agreement_versions (
    agreement_id INTEGER NOT NULL REFERENCES agreements (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    terms        TEXT    NOT NULL,
    fee          TEXT    NOT NULL,
    start_date   TEXT    NOT NULL,
    end_date     TEXT    NOT NULL CHECK (end_date >= start_date),
    terms_hash   TEXT    NOT NULL CHECK (length(terms_hash) = 64),
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (agreement_id, version)
) WITHOUT ROWID;

-- The lead and the parties (buddies), in the order picked (rowid). `name`: display name then (for exports).
CREATE TABLE agreement_members (
    agreement_id INTEGER NOT NULL REFERENCES agreements (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('lead', 'party')),
    name         TEXT,
    PRIMARY KEY (agreement_id, user_id)
);
CREATE INDEX agreement_members_by_user ON agreement_members (user_id, agreement_id);
CREATE UNIQUE INDEX agreement_one_lead ON agreement_members (agreement_id) WHERE role = 'lead';

-- An acceptance counts only for the version (and hash) it names: editing the terms resets them all.
CREATE TABLE agreement_acceptances (
    agreement_id INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    terms_hash   TEXT    NOT NULL,
    accepted_at  TEXT    NOT NULL,
    PRIMARY KEY (agreement_id, version, user_id),
    FOREIGN KEY (agreement_id, version) REFERENCES agreement_versions (agreement_id, version) ON DELETE CASCADE,
    FOREIGN KEY (agreement_id, user_id) REFERENCES agreement_members (agreement_id, user_id)
        ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;

-- "Would you work together again?": one answer per member, visible to moderators and the members only.
CREATE TABLE agreement_feedback (
    agreement_id INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    again        INTEGER NOT NULL CHECK (again IN (0, 1)),
    note         TEXT,
    answered_at  TEXT    NOT NULL,
    PRIMARY KEY (agreement_id, user_id),
    FOREIGN KEY (agreement_id, user_id) REFERENCES agreement_members (agreement_id, user_id)
        ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;

COMMIT;
