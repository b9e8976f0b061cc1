-- How many runners each cell ($days[i], $venues[i]) of a run has on its stored card.
SELECT r.meeting_date, r.venue_slug, count(*) AS runners
FROM runners r
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON r.meeting_date = c.meeting_date AND r.venue_slug = c.venue_slug
GROUP BY ALL
