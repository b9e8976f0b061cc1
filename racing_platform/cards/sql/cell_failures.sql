-- What raw_race_cards failed to fetch or refused for the cell ($day, $venue).
SELECT meet_code, race_number, operation, error_type, message
FROM fetch_failures
WHERE meeting_date = $day AND venue_slug = $venue
ORDER BY ALL
