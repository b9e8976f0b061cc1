-- The tracked meetings of the cells ($days[i], $venues[i]) of a run, read once for the whole run.
SELECT m.*
FROM meetings m
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON m.meeting_date = c.meeting_date AND m.venue_slug = c.venue_slug
WHERE m.tracked
ORDER BY m.meeting_date, m.venue_slug, m.meet_code
