-- One form line per runner that ran in a tracked race on $day: the facts later races learn from.
-- Reads only the day's own cells; the feature query reads form lines strictly before a race's date.
SELECT
    ra.meeting_date,
    ra.venue_slug,
    ra.meet_code,
    ra.race_code,
    ra.start_time_utc,
    ra.distance_m,
    ra.race_class,
    class_rank(ra.race_class) AS class_rank,
    ra.track_condition,
    ra.track_rating,
    count(*) OVER (PARTITION BY ra.race_code) AS field_size,
    re.horse_code,
    ru.barrier,
    ru.weight_kg,
    ru.claim_kg,
    ru.jockey_code,
    ru.trainer_code,
    re.finish_position,
    coalesce(re.margin_lengths, 0.0) AS margin_lengths,
    re.starting_price,
    re.finish_position = 1 AS won,
    re.finish_position <= 3 AS placed
FROM results re
JOIN races ra USING (race_code)
LEFT JOIN runners ru ON ru.race_code = re.race_code AND ru.horse_code = re.horse_code
JOIN meetings m ON m.meet_code = ra.meet_code AND m.tracked
WHERE ra.meeting_date = $day
  AND re.finish_position IS NOT NULL
  AND re.horse_code IS NOT NULL
  AND NOT coalesce(ra.is_trial, false)
  AND NOT coalesce(ra.is_jumpout, false)
