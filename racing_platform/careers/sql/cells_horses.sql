-- The horses running on each card of a run's cells ($days[i], $venues[i]) and when each horse's career
-- was last fetched (null: never). Scratched runners are left out: they do not race on the card.
SELECT DISTINCT r.meeting_date, r.venue_slug, r.horse_code, f.fetched_at AS career_fetched_at
FROM runners r
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON r.meeting_date = c.meeting_date AND r.venue_slug = c.venue_slug
LEFT JOIN horse_career_fetches f ON f.horse_code = r.horse_code
WHERE r.horse_code IS NOT NULL AND NOT coalesce(r.scratched, false)
ORDER BY r.meeting_date, r.venue_slug, r.horse_code
