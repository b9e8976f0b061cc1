-- Cells with a tracked meeting between two dates (inclusive), with the state scope filters need.
SELECT DISTINCT meeting_date, venue_slug, state
FROM meetings
WHERE tracked AND meeting_date BETWEEN ? AND ?
ORDER BY ALL
