-- The card contents already priced for the cells ($days[i], $venues[i]) of a run, and when first seen.
SELECT v.*
FROM card_versions v
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON v.meeting_date = c.meeting_date AND v.venue_slug = c.venue_slug
