-- One form line per runner that ran in a tracked race on $day: the facts later races learn from.
-- Reads only the day's own cells; the feature query reads form lines strictly before a race's date.
-- Every join is on the whole cell key (meeting_date, venue_slug) besides the race code, so a race code
-- stored under two cells cannot multiply lines across them; contracts.FormLinesSchema then refuses
-- two lines of one runner in one race before anything is written.
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
    count(*) OVER (PARTITION BY ra.meeting_date, ra.venue_slug, ra.race_code) AS field_size,
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
JOIN races ra
    ON ra.meeting_date = re.meeting_date AND ra.venue_slug = re.venue_slug AND ra.race_code = re.race_code
LEFT JOIN runners ru
    ON ru.meeting_date = re.meeting_date AND ru.venue_slug = re.venue_slug
    AND ru.race_code = re.race_code AND ru.horse_code = re.horse_code
JOIN meetings m ON m.meeting_date = ra.meeting_date AND m.meet_code = ra.meet_code AND m.tracked
WHERE ra.meeting_date = $day
  AND re.finish_position IS NOT NULL
  AND re.horse_code IS NOT NULL
  AND NOT coalesce(ra.is_trial, false)
  AND NOT coalesce(ra.is_jumpout, false)
