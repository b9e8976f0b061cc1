-- The run's cells ($days[i], $venues[i]) whose races are stored: a cell with a meeting but none has
-- not had its race_cards materialized, so which horses it needs is unknown.
SELECT DISTINCT meeting_date, venue_slug
FROM races
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    USING (meeting_date, venue_slug)
