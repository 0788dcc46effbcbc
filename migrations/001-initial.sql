-- Foundation: guild settings, member profiles, the skills registry and capacity windows.
-- Dates are ISO strings (YYYY-MM-DD, inclusive windows); instants are ISO-8601 UTC strings.
BEGIN;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE guild_config (
    guild_id             INTEGER PRIMARY KEY,
    referrals_channel_id INTEGER,
    shoutouts_channel_id INTEGER,
    moderator_role_id    INTEGER,
    max_pings            INTEGER NOT NULL DEFAULT 5 CHECK (max_pings BETWEEN 1 AND 10),
    daily_need_limit     INTEGER NOT NULL DEFAULT 10 CHECK (daily_need_limit BETWEEN 1 AND 1000),
    timezone             TEXT    NOT NULL DEFAULT 'Europe/London'
);

CREATE TABLE members (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    business     TEXT,
    area         TEXT,
    website      TEXT,
    about        TEXT,
    pings        INTEGER NOT NULL DEFAULT 1 CHECK (pings IN (0, 1)),
    hidden       INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    busy_until   TEXT,
    profile_at   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_profile_at ON members (guild_id, profile_at) WHERE profile_at IS NOT NULL;

-- Canonical skill names a guild knows. guild_id 0 holds the shipped starter list.
CREATE TABLE skills (
    guild_id INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    PRIMARY KEY (guild_id, name)
) WITHOUT ROWID;

-- "web dev" -> "web development". guild_id 0 holds the shipped aliases; a guild's own win.
CREATE TABLE skill_aliases (
    guild_id INTEGER NOT NULL,
    alias    TEXT    NOT NULL,
    skill    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, alias)
) WITHOUT ROWID;

CREATE TABLE offers (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    skill      TEXT    NOT NULL,
    details    TEXT,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id, skill),
    FOREIGN KEY (guild_id, user_id) REFERENCES members (guild_id, user_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX offers_by_skill ON offers (guild_id, skill, user_id);

CREATE TABLE availability (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    start_date TEXT    NOT NULL,
    end_date   TEXT    NOT NULL CHECK (end_date >= start_date),
    slots      INTEGER CHECK (slots IS NULL OR slots BETWEEN 1 AND 100),
    created_at TEXT    NOT NULL,
    FOREIGN KEY (guild_id, user_id) REFERENCES members (guild_id, user_id) ON DELETE CASCADE
);
CREATE INDEX availability_by_member ON availability (guild_id, user_id, end_date);

INSERT INTO skills (guild_id, name) VALUES
    (0, 'accounting'), (0, 'bookkeeping'), (0, 'payroll'), (0, 'tax returns'),
    (0, 'hairdressing'), (0, 'barbering'), (0, 'beauty therapy'), (0, 'nail technician'),
    (0, 'massage therapy'), (0, 'makeup artistry'),
    (0, 'web development'), (0, 'web design'), (0, 'graphic design'), (0, 'logo design'),
    (0, 'copywriting'), (0, 'social media management'), (0, 'seo'), (0, 'photography'),
    (0, 'videography'), (0, 'video editing'), (0, 'it support'), (0, 'app development'),
    (0, 'marketing'), (0, 'virtual assistant'), (0, 'translation'), (0, 'printing'),
    (0, 'plumbing'), (0, 'electrical work'), (0, 'carpentry'), (0, 'painting and decorating'),
    (0, 'gardening'), (0, 'landscaping'), (0, 'cleaning'), (0, 'removals'), (0, 'handyman'),
    (0, 'catering'), (0, 'baking'), (0, 'event planning'), (0, 'florist'), (0, 'tutoring'),
    (0, 'personal training'), (0, 'yoga instruction'), (0, 'dog walking'), (0, 'pet grooming'),
    (0, 'tailoring'), (0, 'legal advice'), (0, 'business coaching'), (0, 'interior design'),
    (0, 'childcare'), (0, 'car repair');

INSERT INTO skill_aliases (guild_id, alias, skill) VALUES
    (0, 'web dev', 'web development'), (0, 'webdev', 'web development'),
    (0, 'website development', 'web development'), (0, 'web developer', 'web development'),
    (0, 'websites', 'web development'), (0, 'graphic designer', 'graphic design'),
    (0, 'graphics', 'graphic design'), (0, 'design', 'graphic design'),
    (0, 'logos', 'logo design'), (0, 'bookkeeper', 'bookkeeping'), (0, 'books', 'bookkeeping'),
    (0, 'accountant', 'accounting'), (0, 'accounts', 'accounting'), (0, 'tax', 'tax returns'),
    (0, 'hair', 'hairdressing'), (0, 'hairdresser', 'hairdressing'), (0, 'haircut', 'hairdressing'),
    (0, 'barber', 'barbering'), (0, 'nails', 'nail technician'), (0, 'massage', 'massage therapy'),
    (0, 'makeup', 'makeup artistry'), (0, 'photographer', 'photography'), (0, 'photos', 'photography'),
    (0, 'video', 'videography'), (0, 'videographer', 'videography'), (0, 'social media', 'social media management'),
    (0, 'search engine optimisation', 'seo'), (0, 'search engine optimization', 'seo'),
    (0, 'copywriter', 'copywriting'), (0, 'plumber', 'plumbing'), (0, 'electrician', 'electrical work'),
    (0, 'carpenter', 'carpentry'), (0, 'decorator', 'painting and decorating'), (0, 'painter', 'painting and decorating'),
    (0, 'gardener', 'gardening'), (0, 'cleaner', 'cleaning'), (0, 'va', 'virtual assistant'),
    (0, 'it', 'it support'), (0, 'apps', 'app development'), (0, 'app dev', 'app development'),
    (0, 'pt', 'personal training'), (0, 'personal trainer', 'personal training'), (0, 'yoga', 'yoga instruction'),
    (0, 'caterer', 'catering'), (0, 'baker', 'baking'), (0, 'tutor', 'tutoring'), (0, 'flowers', 'florist'),
    (0, 'mechanic', 'car repair'), (0, 'tailor', 'tailoring'), (0, 'lawyer', 'legal advice'),
    (0, 'solicitor', 'legal advice'), (0, 'coach', 'business coaching'), (0, 'events', 'event planning');

COMMIT;
