-- Shoutouts, the moderation audit log, privacy erasures, and the roll-ups /stats reads.
-- Stats are kept as counters per calendar period (UTC): week (Monday), month, quarter, year and all time,
-- maintained by triggers on the tables they count, so /stats reads a handful of index rows, never a scan.
BEGIN;

CREATE TABLE shoutouts (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    giver_id    INTEGER NOT NULL,
    receiver_id INTEGER NOT NULL CHECK (receiver_id <> giver_id),
    message     TEXT,
    day         TEXT    NOT NULL,
    channel_id  INTEGER,
    message_id  INTEGER,
    created_at  TEXT    NOT NULL,
    UNIQUE (guild_id, giver_id, receiver_id, day)
);
CREATE INDEX shoutouts_by_receiver ON shoutouts (guild_id, receiver_id);

-- Every moderator action: who did what to which target, why, and when.
CREATE TABLE mod_audit (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL CHECK (target_type IN ('need', 'member', 'config')),
    target_id   INTEGER,
    reason      TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX mod_audit_by_guild ON mod_audit (guild_id, created_at);
CREATE INDEX mod_audit_by_target ON mod_audit (guild_id, target_type, target_id);
CREATE INDEX mod_audit_by_actor ON mod_audit (guild_id, actor_id);

-- One row per /privacy delete; the erased member's place in shared history becomes user id -id.
CREATE TABLE erasures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id  INTEGER NOT NULL,
    erased_at TEXT    NOT NULL
);

-- Roll-up counters. kind: w(eek) m(onth) q(uarter) y(ear) a(ll); start: first day of the period ('' for all).
-- key: '' for plain counts (kept for every period: the weekly chart reads them); a skill or a user id for
-- the top-five lists, or a zero-padded duration bucket in seconds for the time-to-volunteer / time-to-pick
-- histograms. /stats only ever shows the current period, so for keyed counters just the latest period of
-- each kind is kept (older ones are dropped as new ones start): their number is bounded by the keys, not time.
CREATE TABLE stat_counts (
    guild_id INTEGER NOT NULL,
    metric   TEXT    NOT NULL,
    key      TEXT    NOT NULL DEFAULT '',
    kind     TEXT    NOT NULL,
    start    TEXT    NOT NULL,
    value    INTEGER NOT NULL,
    PRIMARY KEY (guild_id, metric, key, kind, start)
) WITHOUT ROWID;
CREATE INDEX stat_counts_top ON stat_counts (guild_id, kind, start, metric, value DESC, key) WHERE key <> '';

CREATE TABLE stat_periods (kind TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO stat_periods (kind) VALUES ('w'), ('m'), ('q'), ('y'), ('a');

-- How often two members worked together (a < b); kind 'r' referral, 'a' completed agreement.
CREATE TABLE stat_pairs (
    guild_id INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    a        INTEGER NOT NULL,
    b        INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (guild_id, kind, a, b)
) WITHOUT ROWID;
CREATE INDEX stat_pairs_by_b ON stat_pairs (guild_id, b);

-- /privacy finds a member's rows in the referral tables through these.
CREATE INDEX referrals_by_receiver ON referrals (guild_id, to_id);
CREATE INDEX need_volunteers_by_member ON need_volunteers (guild_id, user_id);

-- INSERT INTO stat_bump (guild_id, at, metric, key, delta) adds delta to the five periods containing `at`.
-- dialect: sqlite
CREATE VIEW stat_bump (guild_id, at, metric, key, delta) AS SELECT 0, '', '', '', 0 WHERE 0;
CREATE TRIGGER stat_bump_apply INSTEAD OF INSERT ON stat_bump
WHEN NEW.at IS NOT NULL
BEGIN
    INSERT INTO stat_counts (guild_id, kind, start, metric, key, value)
    SELECT NEW.guild_id, p.kind,
           CASE p.kind
               WHEN 'w' THEN date(NEW.at, 'weekday 0', '-6 days')
               WHEN 'm' THEN date(NEW.at, 'start of month')
               WHEN 'q' THEN date(NEW.at, 'start of month',
                                  '-' || ((CAST(strftime('%m', NEW.at) AS INTEGER) - 1) % 3) || ' months')
               WHEN 'y' THEN date(NEW.at, 'start of year')
               ELSE ''
           END,
           NEW.metric, COALESCE(NEW.key, ''), NEW.delta
      FROM stat_periods p
     WHERE true
    ON CONFLICT (guild_id, metric, key, kind, start) DO UPDATE SET value = value + excluded.value;
    DELETE FROM stat_counts
     WHERE NEW.key <> '' AND guild_id = NEW.guild_id AND metric = NEW.metric AND key = NEW.key AND kind <> 'a'
       AND start < (SELECT max(c.start) FROM stat_counts c
                     WHERE c.guild_id = NEW.guild_id AND c.metric = NEW.metric AND c.key = NEW.key
                       AND c.kind = stat_counts.kind);
END;
-- dialect: postgresql
CREATE VIEW stat_bump (guild_id, at, metric, key, delta) AS
    SELECT CAST(0 AS BIGINT), CAST('' AS TEXT), CAST('' AS TEXT), CAST('' AS TEXT), CAST(0 AS BIGINT) WHERE false;
-- The first day (YYYY-MM-DD) of the period of `kind` containing the instant `at` (UTC); '' for all time.
-- date_trunc's week starts on Monday, as SQLite's date(at, 'weekday 0', '-6 days') does.
CREATE FUNCTION stat_period_start(kind TEXT, at TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE kind WHEN 'a' THEN ''
           ELSE to_char(date_trunc(CASE kind WHEN 'w' THEN 'week' WHEN 'm' THEN 'month'
                                             WHEN 'q' THEN 'quarter' ELSE 'year' END,
                                   CAST(at AS timestamptz) AT TIME ZONE 'UTC'), 'YYYY-MM-DD') END
$$;
CREATE FUNCTION stat_bump_apply_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.at IS NULL THEN
        RETURN NEW;
    END IF;
    INSERT INTO stat_counts (guild_id, kind, start, metric, key, value)
    SELECT NEW.guild_id, p.kind, stat_period_start(p.kind, NEW.at), NEW.metric, COALESCE(NEW.key, ''), NEW.delta
      FROM stat_periods p
    ON CONFLICT (guild_id, metric, key, kind, start) DO UPDATE SET value = stat_counts.value + excluded.value;
    DELETE FROM stat_counts
     WHERE NEW.key <> '' AND guild_id = NEW.guild_id AND metric = NEW.metric AND key = NEW.key AND kind <> 'a'
       AND start < (SELECT max(c.start) FROM stat_counts c
                     WHERE c.guild_id = NEW.guild_id AND c.metric = NEW.metric AND c.key = NEW.key
                       AND c.kind = stat_counts.kind);
    RETURN NEW;
END
$fn$;
CREATE TRIGGER stat_bump_apply INSTEAD OF INSERT ON stat_bump FOR EACH ROW EXECUTE FUNCTION stat_bump_apply_fn();
-- dialect: end

-- INSERT INTO stat_bump_duration (guild_id, at, metric, seconds, delta): one histogram count for a duration,
-- bucketed to the minute under 3 h, 5 min under a day, the hour under a week, then the day.
-- dialect: sqlite
CREATE VIEW stat_bump_duration (guild_id, at, metric, seconds, delta) AS SELECT 0, '', '', 0, 0 WHERE 0;
CREATE TRIGGER stat_bump_duration_apply INSTEAD OF INSERT ON stat_bump_duration
BEGIN
    INSERT INTO stat_bump
    SELECT NEW.guild_id, NEW.at, NEW.metric,
           printf('%09d', CASE WHEN s < 10800 THEN s / 60 * 60 WHEN s < 86400 THEN s / 300 * 300
                               WHEN s < 604800 THEN s / 3600 * 3600 ELSE s / 86400 * 86400 END),
           NEW.delta
      FROM (SELECT max(0, CAST(round(NEW.seconds) AS INTEGER)) AS s);
END;
-- dialect: postgresql
CREATE VIEW stat_bump_duration (guild_id, at, metric, seconds, delta) AS
    SELECT CAST(0 AS BIGINT), CAST('' AS TEXT), CAST('' AS TEXT), CAST(0 AS DOUBLE PRECISION), CAST(0 AS BIGINT)
     WHERE false;
CREATE FUNCTION stat_bump_duration_apply_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO stat_bump
    SELECT NEW.guild_id, NEW.at, NEW.metric,
           lpad(CAST(CASE WHEN s < 10800 THEN s / 60 * 60 WHEN s < 86400 THEN s / 300 * 300
                          WHEN s < 604800 THEN s / 3600 * 3600 ELSE s / 86400 * 86400 END AS TEXT), 9, '0'),
           NEW.delta
      FROM (SELECT GREATEST(0, CAST(round(NEW.seconds) AS BIGINT)) AS s) AS d;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER stat_bump_duration_apply INSTEAD OF INSERT ON stat_bump_duration
    FOR EACH ROW EXECUTE FUNCTION stat_bump_duration_apply_fn();
-- dialect: end

-- Requests (needs) count in the period they were posted, whatever happened to them later, so fill rate
-- is "of the requests posted in the period, how many were filled". A need contributes:
--   posted + demand[skill] unless removed by a moderator; filled + time-to-pick when filled;
--   expired + unmet[skill] when it expired unfilled. A change takes the old contribution off and adds the new.
-- `outcome_only` = 1 leaves posted/demand alone: a state change between open, filled, closed and expired
-- (the common case) only moves the outcome counters.
-- dialect: sqlite
CREATE VIEW stat_need_bump (guild_id, created_at, ended_at, state, skill, delta, outcome_only) AS
    SELECT 0, '', '', '', '', 0, 0 WHERE 0;
CREATE TRIGGER stat_need_bump_apply INSTEAD OF INSERT ON stat_need_bump
BEGIN
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'needs_posted', '', NEW.delta
     WHERE NEW.state <> 'removed' AND NOT NEW.outcome_only;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'skill_demand', NEW.skill, NEW.delta
     WHERE NEW.state <> 'removed' AND NOT NEW.outcome_only;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'needs_filled', '', NEW.delta WHERE NEW.state = 'filled';
    INSERT INTO stat_bump_duration
    SELECT NEW.guild_id, NEW.created_at, 'ttp', (julianday(NEW.ended_at) - julianday(NEW.created_at)) * 86400, NEW.delta
     WHERE NEW.state = 'filled' AND NEW.ended_at IS NOT NULL;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'needs_expired', '', NEW.delta WHERE NEW.state = 'expired';
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'skill_unmet', NEW.skill, NEW.delta
     WHERE NEW.state = 'expired';
END;
CREATE TRIGGER stat_need_insert AFTER INSERT ON needs
BEGIN
    INSERT INTO stat_need_bump VALUES (NEW.guild_id, NEW.created_at, NEW.ended_at, NEW.state, NEW.skill, 1, 0);
END;
CREATE TRIGGER stat_need_update AFTER UPDATE OF state, ended_at, skill, created_at ON needs
WHEN OLD.state IS NOT NEW.state OR OLD.ended_at IS NOT NEW.ended_at OR OLD.skill IS NOT NEW.skill
  OR OLD.created_at IS NOT NEW.created_at
BEGIN
    INSERT INTO stat_need_bump
    SELECT OLD.guild_id, OLD.created_at, OLD.ended_at, OLD.state, OLD.skill, -1, same
      FROM (SELECT OLD.skill IS NEW.skill AND OLD.created_at IS NEW.created_at
                   AND (OLD.state = 'removed') = (NEW.state = 'removed') AS same)
     WHERE NOT same OR OLD.state IN ('filled', 'expired');
    INSERT INTO stat_need_bump
    SELECT NEW.guild_id, NEW.created_at, NEW.ended_at, NEW.state, NEW.skill, 1, same
      FROM (SELECT OLD.skill IS NEW.skill AND OLD.created_at IS NEW.created_at
                   AND (OLD.state = 'removed') = (NEW.state = 'removed') AS same)
     WHERE NOT same OR NEW.state IN ('filled', 'expired');
END;
CREATE TRIGGER stat_need_delete AFTER DELETE ON needs
BEGIN
    INSERT INTO stat_need_bump VALUES (OLD.guild_id, OLD.created_at, OLD.ended_at, OLD.state, OLD.skill, -1, 0);
END;
-- dialect: postgresql
CREATE VIEW stat_need_bump (guild_id, created_at, ended_at, state, skill, delta, outcome_only) AS
    SELECT CAST(0 AS BIGINT), CAST('' AS TEXT), CAST('' AS TEXT), CAST('' AS TEXT), CAST('' AS TEXT),
           CAST(0 AS BIGINT), CAST(0 AS BIGINT) WHERE false;
CREATE FUNCTION stat_need_bump_apply_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'needs_posted', '', NEW.delta
     WHERE NEW.state <> 'removed' AND NEW.outcome_only = 0;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'skill_demand', NEW.skill, NEW.delta
     WHERE NEW.state <> 'removed' AND NEW.outcome_only = 0;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'needs_filled', '', NEW.delta WHERE NEW.state = 'filled';
    INSERT INTO stat_bump_duration
    SELECT NEW.guild_id, NEW.created_at, 'ttp',
           extract(epoch FROM CAST(NEW.ended_at AS timestamptz) - CAST(NEW.created_at AS timestamptz)), NEW.delta
     WHERE NEW.state = 'filled' AND NEW.ended_at IS NOT NULL;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'needs_expired', '', NEW.delta WHERE NEW.state = 'expired';
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.created_at, 'skill_unmet', NEW.skill, NEW.delta
     WHERE NEW.state = 'expired';
    RETURN NEW;
END
$fn$;
CREATE TRIGGER stat_need_bump_apply INSTEAD OF INSERT ON stat_need_bump
    FOR EACH ROW EXECUTE FUNCTION stat_need_bump_apply_fn();
CREATE FUNCTION stat_need_insert_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO stat_need_bump VALUES (NEW.guild_id, NEW.created_at, NEW.ended_at, NEW.state, NEW.skill, 1, 0);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER stat_need_insert AFTER INSERT ON needs FOR EACH ROW EXECUTE FUNCTION stat_need_insert_fn();
CREATE FUNCTION stat_need_update_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    same BOOLEAN := OLD.skill IS NOT DISTINCT FROM NEW.skill AND OLD.created_at IS NOT DISTINCT FROM NEW.created_at
                    AND (OLD.state = 'removed') = (NEW.state = 'removed');
BEGIN
    IF NOT (OLD.state IS DISTINCT FROM NEW.state OR OLD.ended_at IS DISTINCT FROM NEW.ended_at
            OR OLD.skill IS DISTINCT FROM NEW.skill OR OLD.created_at IS DISTINCT FROM NEW.created_at) THEN
        RETURN NULL;
    END IF;
    IF NOT same OR OLD.state IN ('filled', 'expired') THEN
        INSERT INTO stat_need_bump VALUES (OLD.guild_id, OLD.created_at, OLD.ended_at, OLD.state, OLD.skill, -1, CAST(same AS INTEGER));
    END IF;
    IF NOT same OR NEW.state IN ('filled', 'expired') THEN
        INSERT INTO stat_need_bump VALUES (NEW.guild_id, NEW.created_at, NEW.ended_at, NEW.state, NEW.skill, 1, CAST(same AS INTEGER));
    END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER stat_need_update AFTER UPDATE OF state, ended_at, skill, created_at ON needs
    FOR EACH ROW EXECUTE FUNCTION stat_need_update_fn();
CREATE FUNCTION stat_need_delete_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO stat_need_bump VALUES (OLD.guild_id, OLD.created_at, OLD.ended_at, OLD.state, OLD.skill, -1, 0);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER stat_need_delete AFTER DELETE ON needs FOR EACH ROW EXECUTE FUNCTION stat_need_delete_fn();
-- dialect: end

-- Time to first volunteer: recorded once per need (a volunteer who withdraws does not reset it).
CREATE TABLE stat_first_volunteer (
    need_id   INTEGER PRIMARY KEY REFERENCES needs (id) ON DELETE CASCADE,
    guild_id  INTEGER NOT NULL,
    posted_at TEXT    NOT NULL,
    seconds   INTEGER NOT NULL
);
CREATE TRIGGER stat_volunteer_insert AFTER INSERT ON need_volunteers
BEGIN
    INSERT OR IGNORE INTO stat_first_volunteer (need_id, guild_id, posted_at, seconds)
    SELECT n.id, n.guild_id, n.created_at,
           max(0, CAST(round((julianday(NEW.created_at) - julianday(n.created_at)) * 86400) AS INTEGER))
      FROM needs n WHERE n.id = NEW.need_id;
END;
CREATE TRIGGER stat_first_volunteer_insert AFTER INSERT ON stat_first_volunteer
BEGIN
    INSERT INTO stat_bump_duration VALUES (NEW.guild_id, NEW.posted_at, 'ttv', NEW.seconds, 1);
END;
CREATE TRIGGER stat_first_volunteer_delete AFTER DELETE ON stat_first_volunteer
BEGIN
    INSERT INTO stat_bump_duration VALUES (OLD.guild_id, OLD.posted_at, 'ttv', OLD.seconds, -1);
END;

-- Referrals (picks) count when made: given by the requester, received by the volunteer; the pair's
-- second referral (either way round) makes it a repeat pair.
CREATE TRIGGER stat_referral_insert AFTER INSERT ON referrals
BEGIN
    INSERT INTO stat_bump VALUES (NEW.guild_id, NEW.created_at, 'referrals', '', 1);
    INSERT INTO stat_bump VALUES (NEW.guild_id, NEW.created_at, 'ref_given', CAST(NEW.from_id AS TEXT), 1);
    INSERT INTO stat_bump VALUES (NEW.guild_id, NEW.created_at, 'ref_received', CAST(NEW.to_id AS TEXT), 1);
    INSERT INTO stat_pairs (guild_id, kind, a, b, n)
    VALUES (NEW.guild_id, 'r', min(NEW.from_id, NEW.to_id), max(NEW.from_id, NEW.to_id), 1)
    ON CONFLICT (guild_id, kind, a, b) DO UPDATE SET n = n + 1;
    INSERT INTO stat_bump
    SELECT NEW.guild_id, NEW.created_at, 'repeat_ref_pairs', '', 1
      FROM stat_pairs p
     WHERE p.guild_id = NEW.guild_id AND p.kind = 'r' AND p.a = min(NEW.from_id, NEW.to_id)
       AND p.b = max(NEW.from_id, NEW.to_id) AND p.n = 2;
END;
CREATE TRIGGER stat_referral_delete AFTER DELETE ON referrals
BEGIN
    INSERT INTO stat_bump VALUES (OLD.guild_id, OLD.created_at, 'referrals', '', -1);
    INSERT INTO stat_bump VALUES (OLD.guild_id, OLD.created_at, 'ref_given', CAST(OLD.from_id AS TEXT), -1);
    INSERT INTO stat_bump VALUES (OLD.guild_id, OLD.created_at, 'ref_received', CAST(OLD.to_id AS TEXT), -1);
    UPDATE stat_pairs SET n = n - 1
     WHERE guild_id = OLD.guild_id AND kind = 'r' AND a = min(OLD.from_id, OLD.to_id) AND b = max(OLD.from_id, OLD.to_id);
END;

-- Members: a profile counts in the period it was created (so the all-time count is today's total);
-- "offering" and "skills" are running totals of members with at least one offer and of skills offered.
CREATE TRIGGER stat_member_insert AFTER INSERT ON members
WHEN NEW.profile_at IS NOT NULL
BEGIN
    INSERT INTO stat_bump VALUES (NEW.guild_id, NEW.profile_at, 'profiles', '', 1);
END;
CREATE TRIGGER stat_member_update AFTER UPDATE OF profile_at ON members
WHEN OLD.profile_at IS NOT NEW.profile_at
BEGIN
    INSERT INTO stat_bump SELECT OLD.guild_id, OLD.profile_at, 'profiles', '', -1 WHERE OLD.profile_at IS NOT NULL;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.profile_at, 'profiles', '', 1 WHERE NEW.profile_at IS NOT NULL;
END;
CREATE TRIGGER stat_member_delete AFTER DELETE ON members
WHEN OLD.profile_at IS NOT NULL
BEGIN
    INSERT INTO stat_bump VALUES (OLD.guild_id, OLD.profile_at, 'profiles', '', -1);
END;

CREATE TABLE stat_totals (
    guild_id INTEGER NOT NULL,
    metric   TEXT    NOT NULL,
    value    INTEGER NOT NULL,
    PRIMARY KEY (guild_id, metric)
) WITHOUT ROWID;
CREATE TRIGGER stat_offer_insert AFTER INSERT ON offers
BEGIN
    INSERT INTO stat_totals (guild_id, metric, value)
    SELECT NEW.guild_id, 'offering', 1
     WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.guild_id = NEW.guild_id AND o.user_id = NEW.user_id
                                                AND o.skill <> NEW.skill)
    ON CONFLICT (guild_id, metric) DO UPDATE SET value = value + 1;
    INSERT INTO stat_totals (guild_id, metric, value)
    SELECT NEW.guild_id, 'skills', 1
     WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.guild_id = NEW.guild_id AND o.skill = NEW.skill
                                                AND o.user_id <> NEW.user_id)
    ON CONFLICT (guild_id, metric) DO UPDATE SET value = value + 1;
END;
CREATE TRIGGER stat_offer_delete AFTER DELETE ON offers
BEGIN
    UPDATE stat_totals SET value = value - 1
     WHERE guild_id = OLD.guild_id AND metric = 'offering'
       AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.guild_id = OLD.guild_id AND o.user_id = OLD.user_id);
    UPDATE stat_totals SET value = value - 1
     WHERE guild_id = OLD.guild_id AND metric = 'skills'
       AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.guild_id = OLD.guild_id AND o.skill = OLD.skill);
END;

-- Shoutouts.
CREATE TRIGGER stat_shoutout_insert AFTER INSERT ON shoutouts
BEGIN
    INSERT INTO stat_bump VALUES (NEW.guild_id, NEW.created_at, 'shoutouts', '', 1);
END;
CREATE TRIGGER stat_shoutout_delete AFTER DELETE ON shoutouts
BEGIN
    INSERT INTO stat_bump VALUES (OLD.guild_id, OLD.created_at, 'shoutouts', '', -1);
END;

-- Agreements: each milestone counts in the period it happened.
CREATE TRIGGER stat_agreement_insert AFTER INSERT ON agreements
BEGIN
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.proposed_at, 'agr_proposed', '', 1 WHERE NEW.proposed_at IS NOT NULL;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.agreed_at, 'agr_agreed', '', 1 WHERE NEW.agreed_at IS NOT NULL;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.closed_at, 'agr_' || NEW.state, '', 1
     WHERE NEW.closed_at IS NOT NULL AND NEW.state IN ('completed', 'cancelled');
END;
CREATE TRIGGER stat_agreement_update AFTER UPDATE OF state, proposed_at, agreed_at, closed_at ON agreements
BEGIN
    INSERT INTO stat_bump SELECT OLD.guild_id, OLD.proposed_at, 'agr_proposed', '', -1
     WHERE OLD.proposed_at IS NOT NEW.proposed_at AND OLD.proposed_at IS NOT NULL;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.proposed_at, 'agr_proposed', '', 1
     WHERE OLD.proposed_at IS NOT NEW.proposed_at AND NEW.proposed_at IS NOT NULL;
    INSERT INTO stat_bump SELECT OLD.guild_id, OLD.agreed_at, 'agr_agreed', '', -1
     WHERE OLD.agreed_at IS NOT NEW.agreed_at AND OLD.agreed_at IS NOT NULL;
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.agreed_at, 'agr_agreed', '', 1
     WHERE OLD.agreed_at IS NOT NEW.agreed_at AND NEW.agreed_at IS NOT NULL;
    INSERT INTO stat_bump SELECT OLD.guild_id, OLD.closed_at, 'agr_' || OLD.state, '', -1
     WHERE (OLD.closed_at IS NOT NEW.closed_at OR OLD.state IS NOT NEW.state)
       AND OLD.closed_at IS NOT NULL AND OLD.state IN ('completed', 'cancelled');
    INSERT INTO stat_bump SELECT NEW.guild_id, NEW.closed_at, 'agr_' || NEW.state, '', 1
     WHERE (OLD.closed_at IS NOT NEW.closed_at OR OLD.state IS NOT NEW.state)
       AND NEW.closed_at IS NOT NULL AND NEW.state IN ('completed', 'cancelled');
END;

-- A completed agreement is one more piece of work together for every two of its members (the same pairs
-- the first-job rule looks at); a pair's second one makes it a repeat pair.
CREATE TRIGGER stat_agreement_pairs AFTER UPDATE OF state ON agreements
WHEN NEW.state = 'completed' AND OLD.state <> 'completed'
BEGIN
    INSERT INTO stat_pairs (guild_id, kind, a, b, n)
    SELECT NEW.guild_id, 'a', m1.user_id, m2.user_id, 1
      FROM agreement_members m1
      JOIN agreement_members m2 ON m2.agreement_id = m1.agreement_id AND m2.user_id > m1.user_id
     WHERE m1.agreement_id = NEW.id
    ON CONFLICT (guild_id, kind, a, b) DO UPDATE SET n = n + 1;
    INSERT INTO stat_bump
    SELECT NEW.guild_id, COALESCE(NEW.closed_at, NEW.agreed_at), 'repeat_agr_pairs', '', count(*)
      FROM agreement_members m1
      JOIN agreement_members m2 ON m2.agreement_id = m1.agreement_id AND m2.user_id > m1.user_id
      JOIN stat_pairs p ON p.guild_id = NEW.guild_id AND p.kind = 'a' AND p.a = m1.user_id AND p.b = m2.user_id
     WHERE m1.agreement_id = NEW.id AND p.n = 2
    HAVING count(*) > 0;
END;

-- "Would you work together again?" answers, counted when given.
CREATE TRIGGER stat_feedback_insert AFTER INSERT ON agreement_feedback
BEGIN
    INSERT INTO stat_bump
    SELECT a.guild_id, NEW.answered_at, 'again_answers', '', 1 FROM agreements a WHERE a.id = NEW.agreement_id;
    INSERT INTO stat_bump
    SELECT a.guild_id, NEW.answered_at, 'again_yes', '', 1
      FROM agreements a WHERE a.id = NEW.agreement_id AND NEW.again = 1;
END;
CREATE TRIGGER stat_feedback_update AFTER UPDATE OF again, answered_at ON agreement_feedback
BEGIN
    INSERT INTO stat_bump
    SELECT a.guild_id, OLD.answered_at, 'again_answers', '', -1 FROM agreements a WHERE a.id = OLD.agreement_id;
    INSERT INTO stat_bump
    SELECT a.guild_id, OLD.answered_at, 'again_yes', '', -1
      FROM agreements a WHERE a.id = OLD.agreement_id AND OLD.again = 1;
    INSERT INTO stat_bump
    SELECT a.guild_id, NEW.answered_at, 'again_answers', '', 1 FROM agreements a WHERE a.id = NEW.agreement_id;
    INSERT INTO stat_bump
    SELECT a.guild_id, NEW.answered_at, 'again_yes', '', 1
      FROM agreements a WHERE a.id = NEW.agreement_id AND NEW.again = 1;
END;

-- Backfill: a database that already holds members, requests, referrals and agreements starts with correct roll-ups.
INSERT INTO stat_bump SELECT guild_id, profile_at, 'profiles', '', 1 FROM members WHERE profile_at IS NOT NULL;
INSERT INTO stat_totals (guild_id, metric, value)
SELECT guild_id, 'offering', count(DISTINCT user_id) FROM offers GROUP BY guild_id;
INSERT INTO stat_totals (guild_id, metric, value)
SELECT guild_id, 'skills', count(DISTINCT skill) FROM offers GROUP BY guild_id;
INSERT INTO stat_need_bump SELECT guild_id, created_at, ended_at, state, skill, 1, 0 FROM needs;
INSERT INTO stat_first_volunteer (need_id, guild_id, posted_at, seconds)
SELECT n.id, n.guild_id, n.created_at,
       max(0, CAST(round((julianday(min(v.created_at)) - julianday(n.created_at)) * 86400) AS INTEGER))
  FROM needs n JOIN need_volunteers v ON v.need_id = n.id
 GROUP BY n.id;
INSERT INTO stat_bump SELECT guild_id, created_at, 'referrals', '', 1 FROM referrals;
INSERT INTO stat_bump SELECT guild_id, created_at, 'ref_given', CAST(from_id AS TEXT), 1 FROM referrals;
INSERT INTO stat_bump SELECT guild_id, created_at, 'ref_received', CAST(to_id AS TEXT), 1 FROM referrals;
INSERT INTO stat_pairs (guild_id, kind, a, b, n)
SELECT guild_id, 'r', min(from_id, to_id), max(from_id, to_id), count(*) FROM referrals
 GROUP BY guild_id, min(from_id, to_id), max(from_id, to_id);
INSERT INTO stat_bump
SELECT guild_id, created_at, 'repeat_ref_pairs', '', 1
  FROM (SELECT guild_id, created_at,
               row_number() OVER (PARTITION BY guild_id, min(from_id, to_id), max(from_id, to_id)
                                  ORDER BY created_at, id) AS nth
          FROM referrals) AS ranked
 WHERE nth = 2;
INSERT INTO stat_bump SELECT guild_id, proposed_at, 'agr_proposed', '', 1 FROM agreements WHERE proposed_at IS NOT NULL;
INSERT INTO stat_bump SELECT guild_id, agreed_at, 'agr_agreed', '', 1 FROM agreements WHERE agreed_at IS NOT NULL;
INSERT INTO stat_bump SELECT guild_id, closed_at, 'agr_' || state, '', 1 FROM agreements
 WHERE closed_at IS NOT NULL AND state IN ('completed', 'cancelled');
INSERT INTO stat_pairs (guild_id, kind, a, b, n)
SELECT a.guild_id, 'a', m1.user_id, m2.user_id, count(*)
  FROM agreements a
  JOIN agreement_members m1 ON m1.agreement_id = a.id
  JOIN agreement_members m2 ON m2.agreement_id = a.id AND m2.user_id > m1.user_id
 WHERE a.state = 'completed'
 GROUP BY a.guild_id, m1.user_id, m2.user_id;
INSERT INTO stat_bump
SELECT guild_id, at, 'repeat_agr_pairs', '', 1
  FROM (SELECT a.guild_id, COALESCE(a.closed_at, a.agreed_at) AS at,
               row_number() OVER (PARTITION BY a.guild_id, m1.user_id, m2.user_id
                                  ORDER BY COALESCE(a.closed_at, a.agreed_at), a.id) AS nth
          FROM agreements a
          JOIN agreement_members m1 ON m1.agreement_id = a.id
          JOIN agreement_members m2 ON m2.agreement_id = a.id AND m2.user_id > m1.user_id
         WHERE a.state = 'completed') AS ranked
 WHERE nth = 2;
INSERT INTO stat_bump
SELECT a.guild_id, f.answered_at, 'again_answers', '', 1 FROM agreement_feedback f JOIN agreements a ON a.id = f.agreement_id;
INSERT INTO stat_bump
SELECT a.guild_id, f.answered_at, 'again_yes', '', 1 FROM agreement_feedback f JOIN agreements a ON a.id = f.agreement_id
 WHERE f.again = 1;

COMMIT;
