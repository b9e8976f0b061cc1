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

-- Every career start dated $day or later (racing.com serves a horse's career as of the fetch, races
-- after the day included) changes every column a feature could read.
UPDATE horse_starts
SET finish_position = 1, runners_count = 2, margin_lengths = 9, starting_price = 1.01, distance_m = 1000,
    race_class = 'Group 1', class_rank = 13, track_condition = 'Heavy', track_rating = 10, weight_kg = 40,
    venue_code = 'elsewhere', scratched = false, is_trial = false, is_jumpout = false
WHERE race_date >= $day;

-- The day's runners also won a race at another track that morning (a start dated the race day).
INSERT INTO horse_starts BY NAME
SELECT horse_code, 'elsewhere-' || entry_id AS entry_id, 'elsewhere-' || race_code AS race_code,
       meeting_date AS race_date, 'elsewhere' AS venue_code, 'Elsewhere' AS venue_name, 1 AS race_number,
       1200 AS distance_m, 'Group 1' AS race_class, 13.0 AS class_rank, 'Good' AS track_condition,
       4 AS track_rating, 2 AS runners_count, false AS is_trial, false AS is_jumpout, false AS scratched,
       1 AS finish_position, 5.0 AS margin_lengths, 1.01 AS starting_price, weight_kg, 1 AS barrier,
       fetched_at
FROM runners
WHERE meeting_date = $day;
