-- The races of the cells ($days[i], $venues[i]) of a run that have a winner, with their meeting:
-- the only races whose truth is captured (truth never lands before its race is run).
SELECT DISTINCT r.meeting_date, r.venue_slug, r.meet_code, r.race_code
FROM results r
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON r.meeting_date = c.meeting_date AND r.venue_slug = c.venue_slug
WHERE r.race_code IN (SELECT race_code FROM results WHERE finish_position = 1)
ORDER BY r.meeting_date, r.venue_slug, r.meet_code, r.race_code
