-- How many starts are stored for the horses on each card of the run's cells, after the write.
SELECT h.meeting_date, h.venue_slug, count(s.entry_id) AS starts_stored
FROM (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
JOIN runners h ON h.meeting_date = c.meeting_date AND h.venue_slug = c.venue_slug
    AND h.horse_code IS NOT NULL AND NOT coalesce(h.scratched, false)
LEFT JOIN horse_starts s ON s.horse_code = h.horse_code
GROUP BY ALL
