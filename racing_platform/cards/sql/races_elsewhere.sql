-- The race codes among $codes stored under another cell than ($day, $venue) (cards/rules.py:
-- race_in_one_cell): a race code belongs to one venue and one date.
SELECT DISTINCT race_code, meeting_date, venue_slug
FROM races
WHERE list_contains($codes::VARCHAR[], race_code)
  AND NOT (meeting_date = $day AND venue_slug = $venue)
ORDER BY ALL
