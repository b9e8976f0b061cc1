-- The entries already stored for the horses about to be fetched (`_horses`): paging stops at the first
-- page that reaches one of them.
SELECT s.horse_code, s.entry_id FROM horse_starts s SEMI JOIN _horses h ON h.horse_code = s.horse_code
