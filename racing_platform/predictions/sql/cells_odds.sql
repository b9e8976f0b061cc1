-- The stored odds of the cells ($days[i], $venues[i]) of a run.
SELECT o.*
FROM odds o
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON o.meeting_date = c.meeting_date AND o.venue_slug = c.venue_slug
