-- Per race stored in the cell ($day, $venue): its status, runners and placings, which one answer may
-- not take away (cards/rules.py: status_kept, runners_kept, placings_kept).
WITH cell_races AS (
    SELECT meet_code, race_number, race_code, race_status
    FROM races
    WHERE meeting_date = $day AND venue_slug = $venue
), cell_runners AS (
    SELECT meet_code, race_number, race_code, count(*) AS runners
    FROM runners
    WHERE meeting_date = $day AND venue_slug = $venue
    GROUP BY ALL
), cell_placings AS (
    SELECT meet_code, race_number, race_code, count(finish_position) AS placings
    FROM results
    WHERE meeting_date = $day AND venue_slug = $venue
    GROUP BY ALL
)
SELECT
    coalesce(ra.meet_code, ru.meet_code, pl.meet_code) AS meet_code,
    coalesce(ra.race_number, ru.race_number, pl.race_number) AS race_number,
    coalesce(ra.race_code, ru.race_code, pl.race_code) AS race_code,
    ra.race_status,
    coalesce(ru.runners, 0) AS runners,
    coalesce(pl.placings, 0) AS placings
FROM cell_races ra
FULL JOIN cell_runners ru ON ru.race_code = ra.race_code
FULL JOIN cell_placings pl ON pl.race_code = coalesce(ra.race_code, ru.race_code)
ORDER BY ALL
