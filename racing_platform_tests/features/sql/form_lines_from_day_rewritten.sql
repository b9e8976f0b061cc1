-- Every form line dated $day or later changes every column a feature could read.
UPDATE form_lines
SET won = true, placed = true, finish_position = 1, field_size = 2, margin_lengths = 0,
    distance_m = 1000, class_rank = 13, track_condition = 'Heavy', weight_kg = 40
WHERE meeting_date >= $day;

-- The day's runners, with their jockeys and trainers, also won a race at another track that morning.
INSERT INTO form_lines BY NAME
SELECT meeting_date, 'geelong' AS venue_slug, 'elsewhere' AS meet_code,
       'elsewhere-' || race_code AS race_code, start_time_utc - INTERVAL 3 HOUR AS start_time_utc,
       distance_m, race_class, class_rank(race_class) AS class_rank, track_condition, track_rating,
       2 AS field_size, horse_code, barrier, weight_kg, claim_kg, jockey_code, trainer_code,
       1 AS finish_position, 0.0 AS margin_lengths, true AS won, true AS placed
FROM runners JOIN races USING (race_code, meeting_date, venue_slug)
WHERE meeting_date = $day;
