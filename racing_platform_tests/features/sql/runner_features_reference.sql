-- runner_features.sql as it was before issue 9 (three passes over form_lines, ~14x a bare scan):
-- the reference test_features_parity.py holds the faster query to, cell by cell. Kept unchanged.
-- Point-in-time features of every runner on the card of cell ($day, $venue).
-- History is form_lines dated strictly before $day (any venue): nothing from the race itself or
-- from later races can reach a feature. Card columns are pre-race facts (barrier, weight, jockey).
WITH card AS (
    SELECT
        ru.meeting_date, ru.venue_slug, ru.meet_code, ru.race_code, ru.race_number,
        ru.horse_code, ru.horse_name, ru.saddlecloth, ru.barrier, ru.weight_kg,
        coalesce(ru.claim_kg, 0.0) AS claim_kg, ru.jockey_code, ru.trainer_code, ru.scratched,
        ra.distance_m, ra.race_class, ra.track_condition, ra.track_rating, ra.start_time_utc,
        class_rank(ra.race_class) AS class_rank,
        count(*) FILTER (WHERE NOT ru.scratched) OVER (PARTITION BY ru.race_code) AS field_size
    FROM runners ru
    JOIN races ra USING (race_code)
    WHERE ru.meeting_date = $day AND ru.venue_slug = $venue
),
history AS (
    SELECT fl.*,
           row_number() OVER (PARTITION BY fl.horse_code ORDER BY fl.start_time_utc DESC) AS runs_back,
           fl.finish_position::DOUBLE / fl.field_size AS norm_finish,
           lead(fl.meeting_date) OVER (PARTITION BY fl.horse_code ORDER BY fl.start_time_utc DESC) AS prior_run_date
    FROM form_lines fl
    WHERE fl.meeting_date < $day AND fl.horse_code IN (SELECT horse_code FROM card)
),
horse AS (
    SELECT
        horse_code,
        count(*) AS career_starts,
        avg(won::INT) AS career_win_rate,
        avg(placed::INT) AS career_place_rate,
        avg(won::INT) FILTER (WHERE runs_back <= 5) AS recent_win_rate,
        avg(placed::INT) FILTER (WHERE runs_back <= 5) AS recent_place_rate,
        avg(norm_finish) FILTER (WHERE runs_back <= 5) AS avg_norm_finish_last5,
        any_value(norm_finish) FILTER (WHERE runs_back = 1) AS norm_finish_last1,
        any_value(norm_finish) FILTER (WHERE runs_back = 2) AS norm_finish_last2,
        any_value(norm_finish) FILTER (WHERE runs_back = 3) AS norm_finish_last3,
        any_value(margin_lengths) FILTER (WHERE runs_back = 1) AS margin_last1,
        any_value(margin_lengths) FILTER (WHERE runs_back = 2) AS margin_last2,
        any_value(margin_lengths) FILTER (WHERE runs_back = 3) AS margin_last3,
        any_value(meeting_date) FILTER (WHERE runs_back = 1) AS last_run_date,
        any_value(prior_run_date) FILTER (WHERE runs_back = 1) AS prior_run_date,
        any_value(class_rank) FILTER (WHERE runs_back = 1) AS last_class_rank,
        any_value(weight_kg) FILTER (WHERE runs_back = 1) AS last_weight_kg
    FROM history
    GROUP BY horse_code
),
suitability AS (
    SELECT
        c.race_code, c.horse_code,
        count(*) FILTER (WHERE abs(h.distance_m - c.distance_m) <= 200) AS distance_starts,
        avg(h.placed::INT) FILTER (WHERE abs(h.distance_m - c.distance_m) <= 200) AS distance_place_rate,
        count(*) FILTER (WHERE h.venue_slug = c.venue_slug) AS track_starts,
        avg(h.placed::INT) FILTER (WHERE h.venue_slug = c.venue_slug) AS track_place_rate,
        count(*) FILTER (WHERE h.track_condition = c.track_condition) AS going_starts,
        avg(h.placed::INT) FILTER (WHERE h.track_condition = c.track_condition) AS going_place_rate
    FROM card c
    JOIN history h USING (horse_code)
    GROUP BY c.race_code, c.horse_code
),
jockey AS (
    SELECT jockey_code, count(*) AS jockey_rides_365d, avg(won::INT) AS jockey_win_rate_365d
    FROM form_lines
    WHERE meeting_date >= $day - INTERVAL 365 DAY AND meeting_date < $day
      AND jockey_code IN (SELECT jockey_code FROM card)
    GROUP BY jockey_code
),
trainer AS (
    SELECT trainer_code, count(*) AS trainer_runners_365d, avg(won::INT) AS trainer_win_rate_365d
    FROM form_lines
    WHERE meeting_date >= $day - INTERVAL 365 DAY AND meeting_date < $day
      AND trainer_code IN (SELECT trainer_code FROM card)
    GROUP BY trainer_code
)
SELECT
    c.meeting_date, c.venue_slug, c.meet_code, c.race_code, c.race_number,
    c.horse_code, c.horse_name, c.saddlecloth, c.scratched,
    -- race context
    c.distance_m, c.class_rank, c.track_condition, c.track_rating, c.field_size,
    c.jockey_code, c.trainer_code,
    -- the card
    c.barrier,
    c.barrier::DOUBLE / nullif(c.field_size, 0) AS barrier_rel,
    (c.barrier::DOUBLE / nullif(c.field_size, 0)) * (1400.0 / nullif(c.distance_m, 0)) AS barrier_rel_by_distance,
    c.weight_kg, c.claim_kg,
    c.weight_kg - h.last_weight_kg AS weight_change_kg,
    -- form
    coalesce(h.career_starts, 0) AS career_starts,
    h.career_win_rate, h.career_place_rate, h.recent_win_rate, h.recent_place_rate,
    h.avg_norm_finish_last5, h.norm_finish_last1, h.norm_finish_last2, h.norm_finish_last3,
    h.margin_last1, h.margin_last2, h.margin_last3,
    date_diff('day', h.last_run_date, c.meeting_date) AS days_since_last_run,
    coalesce(date_diff('day', h.last_run_date, c.meeting_date) >= 60, false) AS first_up,
    coalesce(date_diff('day', h.last_run_date, c.meeting_date) < 60
             AND date_diff('day', h.prior_run_date, h.last_run_date) >= 60, false) AS second_up,
    c.class_rank - h.last_class_rank AS class_change,
    -- suitability
    coalesce(s.distance_starts, 0) AS distance_starts, s.distance_place_rate,
    coalesce(s.track_starts, 0) AS track_starts, s.track_place_rate,
    coalesce(s.going_starts, 0) AS going_starts, s.going_place_rate,
    -- connections
    coalesce(j.jockey_rides_365d, 0) AS jockey_rides_365d, j.jockey_win_rate_365d,
    coalesce(t.trainer_runners_365d, 0) AS trainer_runners_365d, t.trainer_win_rate_365d
FROM card c
LEFT JOIN horse h USING (horse_code)
LEFT JOIN suitability s ON s.race_code = c.race_code AND s.horse_code = c.horse_code
LEFT JOIN jockey j USING (jockey_code)
LEFT JOIN trainer t USING (trainer_code)
ORDER BY c.race_number, c.saddlecloth
