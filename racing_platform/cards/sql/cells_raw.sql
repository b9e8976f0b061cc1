-- The stored raw bodies of the cells ($days[i], $venues[i]) of a run, oldest fetch first.
SELECT r.*
FROM raw_race_cards r
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON r.meeting_date = c.meeting_date AND r.venue_slug = c.venue_slug
ORDER BY r.last_fetched_at
