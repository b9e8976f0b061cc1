-- What a race card shows next to the prices, for the cells ($days[i], $venues[i]) of a run: each race's
-- name, distance, class, jump time and venue clock, each runner's jockey and weight.
SELECT ru.meeting_date, ru.venue_slug, ru.race_code, ru.saddlecloth, ru.jockey_name, ru.weight_kg,
       ra.race_name, ra.distance_m, ra.race_class, ra.start_time_utc, ra.timezone
FROM runners ru
JOIN races ra ON ra.race_code = ru.race_code
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON ru.meeting_date = c.meeting_date AND ru.venue_slug = c.venue_slug
