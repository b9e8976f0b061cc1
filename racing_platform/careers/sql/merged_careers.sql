-- The fetched horses' (`_horses`) whole careers after this fetch: the stored starts, each replaced by the
-- fetched row of the same entry, plus the new ones (`_fetched`), with class_rank from the schema's macro.
SELECT * REPLACE (class_rank(race_class) AS class_rank)
FROM (
    SELECT s.*
    FROM horse_starts s
    SEMI JOIN _horses h ON h.horse_code = s.horse_code
    ANTI JOIN _fetched f ON f.horse_code = s.horse_code AND f.entry_id = s.entry_id
    UNION ALL BY NAME
    SELECT *, NULL::DOUBLE AS class_rank FROM _fetched
)
ORDER BY horse_code, race_date DESC, entry_id
