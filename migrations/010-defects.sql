-- Defects (issue 11): a business name is unique per server once folded.
-- members.business_key is the business name folded in Python (NFKC, case-folded, spaces collapsed; see
-- buddybot.text.fold); rows written before this migration get lower(trim(business)), which is the same
-- for plain ASCII names and is rewritten the next time the member saves their profile.
BEGIN;

ALTER TABLE members ADD COLUMN business_key TEXT;
UPDATE members SET business_key = lower(trim(business)) WHERE business IS NOT NULL;
CREATE INDEX members_by_business_key ON members (guild_id, business_key) WHERE business_key IS NOT NULL;

COMMIT;
