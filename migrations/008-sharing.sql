-- Sharing resources: things members lend (equipment, IT, labour hours, space slots), the loans of them,
-- the waiting lists, and each member's give-and-take tallies. Portable SQL (SQLite and PostgreSQL).
--
-- `available` is how many units are free right now: a request holds its units from the moment it is made
-- (so the last unit goes to exactly one of two racing borrowers), and gives them back when it ends without
-- a loan, or when the loan is closed. It only ever changes by a conditional UPDATE, and the CHECK keeps it
-- between 0 and quantity whatever the code does.
CREATE TABLE shared_items (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    owner_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('equipment', 'it', 'labour', 'space')),
    name        TEXT    NOT NULL,
    name_folded TEXT    NOT NULL,
    details     TEXT,
    max_days    INTEGER NOT NULL CHECK (max_days BETWEEN 1 AND 90),
    quantity    INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    available   INTEGER NOT NULL,
    removed_at  TEXT,
    removed_by  INTEGER,
    created_at  TEXT    NOT NULL,
    CHECK (available BETWEEN 0 AND quantity)
);
CREATE UNIQUE INDEX shared_items_name ON shared_items (guild_id, owner_id, name_folded) WHERE removed_at IS NULL;
CREATE INDEX shared_items_by_name ON shared_items (guild_id, name_folded) WHERE removed_at IS NULL;
CREATE INDEX shared_items_by_owner ON shared_items (guild_id, owner_id);

-- One request and, if approved, its loan. start_on/due_on are dates in the guild's time zone.
-- closed_how says how a loan ended: 'returned' (owner got it back), 'unconfirmed' (owner silent 48 h
-- after the borrower returned it), 'moderator' (its item was removed), 'erased' (a party erased their data).
CREATE TABLE loans (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    item_id        INTEGER NOT NULL REFERENCES shared_items (id),
    owner_id       INTEGER NOT NULL,
    borrower_id    INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity >= 1),
    start_on       TEXT    NOT NULL,
    due_on         TEXT    NOT NULL,
    note           TEXT,
    state          TEXT    NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'approved', 'on_loan',
                   'overdue', 'returned', 'closed', 'declined', 'withdrawn', 'expired', 'cancelled',
                   'disputed')),
    closed_how     TEXT,
    condition_note TEXT,
    renewed        INTEGER NOT NULL DEFAULT 0,
    escalated      INTEGER NOT NULL DEFAULT 0,
    channel_id     INTEGER,
    message_id     INTEGER,
    thread_id      INTEGER,
    created_at     TEXT    NOT NULL,
    approved_at    TEXT,
    started_at     TEXT,
    returned_at    TEXT,
    closed_at      TEXT,
    version        INTEGER NOT NULL DEFAULT 1,
    CHECK (borrower_id <> owner_id OR borrower_id < 0)
);
CREATE INDEX loans_by_borrower ON loans (guild_id, borrower_id, state);
CREATE INDEX loans_by_owner ON loans (guild_id, owner_id, kind, start_on);
CREATE INDEX loans_by_item ON loans (item_id, state, due_on);
CREATE INDEX loans_overdue ON loans (guild_id, due_on) WHERE state = 'overdue';

-- Waiting lists, first come first served (by id). 'held': the units came back and are kept for this
-- member until hold_until; their next /borrow of the item takes them.
CREATE TABLE loan_waits (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    item_id    INTEGER NOT NULL REFERENCES shared_items (id),
    user_id    INTEGER NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity >= 1),
    state      TEXT    NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'held', 'used', 'lapsed', 'left')),
    hold_until TEXT,
    created_at TEXT    NOT NULL
);
CREATE UNIQUE INDEX loan_waits_once ON loan_waits (item_id, user_id) WHERE state IN ('waiting', 'held');
CREATE INDEX loan_waits_line ON loan_waits (item_id, state, id);
CREATE INDEX loan_waits_by_member ON loan_waits (guild_id, user_id);

-- Give and take per member: units lent and borrowed (items, hours, slots), counted when a loan starts.
CREATE TABLE share_tallies (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    role     TEXT    NOT NULL CHECK (role IN ('lent', 'borrowed')),
    unit     TEXT    NOT NULL CHECK (unit IN ('items', 'hours', 'slots')),
    value    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id, role, unit)
);
