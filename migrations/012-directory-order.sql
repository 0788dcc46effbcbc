-- /find walks indexes already in directory order instead of sorting every offerer of the skill (issue 16).
--
-- offers.dir_key is the member's place in the directory: '0' || lower(business) for a named business,
-- '1' for a member without one (so unnamed members sort last, as `business IS NULL, lower(business)`
-- did), and NULL while a moderator hides the member (hidden members are not listed). Ties are broken by
-- user_id, the last column of the index. available_offers carries the same key so the "available in the
-- window" tier walks only the skill's available rows, in directory order. directory_counts holds, per
-- skill, how many offers are listed (dir_key not NULL): /find's total without counting them.
--
-- offers.busy_until copies the member's busy_until (NULL when not busy) and splits the listed offers in
-- two indexes in directory order: free members, and members with a busy spell. So "not busy" never steps
-- over the busy members, however many there are. A spell that has ended leaves the copy (it is set back
-- to NULL by directory.retire_busy: /busy, /available and the request expiry job run it); until then,
-- and for windows starting after a spell ends, offers_busy_by_end finds those spells.
--
-- The keys and counts are kept in step in Python, in the unit of work that changes their inputs
-- (buddybot/storage/directory.py: profile set, offer add/remove, capacity windows, hide/unhide, erasure);
-- `buddybot db copy` copies them as rows. The statements after the indexes fill them for existing rows;
-- directory.rebuild() runs the same ones (the bench seeder and tests that insert raw rows use it).
BEGIN;

ALTER TABLE offers ADD COLUMN dir_key TEXT;
ALTER TABLE offers ADD COLUMN busy_until TEXT;
ALTER TABLE available_offers ADD COLUMN dir_key TEXT;

CREATE TABLE directory_counts (
    guild_id INTEGER NOT NULL,
    skill    TEXT    NOT NULL,
    listed   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, skill)
);

CREATE INDEX offers_by_directory ON offers (guild_id, skill, dir_key, user_id)
    WHERE dir_key IS NOT NULL AND busy_until IS NULL;
CREATE INDEX offers_busy_by_directory ON offers (guild_id, skill, dir_key, user_id, busy_until)
    WHERE dir_key IS NOT NULL AND busy_until IS NOT NULL;
CREATE INDEX offers_busy_by_end ON offers (guild_id, skill, busy_until)
    WHERE dir_key IS NOT NULL AND busy_until IS NOT NULL;
CREATE INDEX offers_busy_to_retire ON offers (busy_until) WHERE busy_until IS NOT NULL;
CREATE INDEX available_offers_by_directory
    ON available_offers (guild_id, skill, dir_key, user_id, end_date, start_date, window_id)
    WHERE dir_key IS NOT NULL;

UPDATE offers
   SET (dir_key, busy_until) = (SELECT CASE WHEN m.hidden = 1 THEN NULL WHEN m.business IS NULL THEN '1'
                                            ELSE '0' || lower(m.business) END, m.busy_until
                                  FROM members m WHERE m.guild_id = offers.guild_id AND m.user_id = offers.user_id);
UPDATE available_offers
   SET dir_key = (SELECT o.dir_key FROM offers o
                   WHERE o.guild_id = available_offers.guild_id AND o.user_id = available_offers.user_id
                     AND o.skill = available_offers.skill);
DELETE FROM directory_counts;
INSERT INTO directory_counts (guild_id, skill, listed)
SELECT guild_id, skill, count(*) FROM offers WHERE dir_key IS NOT NULL GROUP BY guild_id, skill;

COMMIT;
