-- The runner features of the cells ($days[i], $venues[i]) of a run, race by race.
SELECT f.*
FROM runner_features f
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON f.meeting_date = c.meeting_date AND f.venue_slug = c.venue_slug
ORDER BY f.meeting_date, f.venue_slug, f.race_number, f.saddlecloth
