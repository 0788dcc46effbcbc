-- Matching's "available and in the same area" tier first asks whether anyone in the requester's area
-- is available at all; this index answers that by seeking the area's members, so an area nobody in
-- the window lives in costs one seek instead of a walk over every available offerer of the skill.
BEGIN;
CREATE INDEX members_by_area_key
    ON members (guild_id, nullif(lower(trim(replace(replace(replace(area, '  ', ' '), '  ', ' '), '  ', ' '))), ''), user_id);
COMMIT;
