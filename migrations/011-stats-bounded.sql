-- /stats reads nudged requests of a period through this index (bounded by the requests that were nudged,
-- not every request of the period). The fastest decile's share is counted at pick time (stat_counts
-- metric 'ref_fast'), so /stats no longer reads the period's referrals.
CREATE INDEX needs_nudged_by_time ON needs (guild_id, created_at) WHERE nudges > 0;
