-- The next race to jump on $day (or the day's last race once all ran) as priced before its jump (the
-- table macro latest_predictions: for a race still to run, its newest snapshot), with the card facts a
-- punter reads next to the prices.
WITH latest AS (
    SELECT p.*, ra.start_time_utc, ra.race_name, ra.distance_m, ra.race_class, ra.venue, ra.timezone,
           ru.jockey_name, ru.weight_kg
    FROM latest_predictions($day, $day) p
    JOIN races ra USING (race_code)
    JOIN runners ru ON ru.race_code = p.race_code AND ru.saddlecloth = p.saddlecloth
),
next_race AS (
    SELECT race_code
    FROM latest
    ORDER BY start_time_utc < $now, CASE WHEN start_time_utc >= $now THEN start_time_utc END,
             start_time_utc DESC
    LIMIT 1
)
SELECT * FROM latest
WHERE race_code = (SELECT race_code FROM next_race)
ORDER BY saddlecloth
