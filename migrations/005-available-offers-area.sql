-- Matching's first tier (available in the window AND in the requester's area) walks its own index in
-- fairness order: available_offers carries the member's area key, copied from offers.area_key (which
-- migration 002's triggers keep in step with members.area). An area nobody available lives in then
-- costs one index seek, and a busy area only its own available offerers.
BEGIN;

ALTER TABLE available_offers ADD COLUMN area_key TEXT;

UPDATE available_offers
   SET area_key = (SELECT o.area_key FROM offers o
                    WHERE o.guild_id = available_offers.guild_id AND o.user_id = available_offers.user_id
                      AND o.skill = available_offers.skill);

CREATE INDEX available_offers_by_area_rank
    ON available_offers (guild_id, skill, area_key, pings_30d, last_pinged_at, user_id, end_date, start_date);

CREATE TRIGGER available_offers_area_insert AFTER INSERT ON available_offers
BEGIN
    UPDATE available_offers
       SET area_key = (SELECT o.area_key FROM offers o
                        WHERE o.guild_id = NEW.guild_id AND o.user_id = NEW.user_id AND o.skill = NEW.skill)
     WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id AND skill = NEW.skill AND window_id = NEW.window_id;
END;

CREATE TRIGGER offers_area_to_available AFTER UPDATE OF area_key ON offers
WHEN NEW.area_key IS NOT OLD.area_key
BEGIN
    UPDATE available_offers SET area_key = NEW.area_key
     WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id AND skill = NEW.skill;
END;

COMMIT;
