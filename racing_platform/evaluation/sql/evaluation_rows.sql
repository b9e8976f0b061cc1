-- The runners of the races dated $start..$end that have predictions: each race's final field (the
-- result rows of the horses that ran) with the race's prediction snapshot as of its jump (the newest
-- priced before it, else the earliest: the table macro latest_predictions in warehouse/sql/schema.sql),
-- its model version's cutoff and the simulator's truth where stored. A runner of the field without a
-- prediction (or a truth row) comes back with NULLs: evaluation/assets.py decides.
WITH latest AS (
    SELECT * FROM latest_predictions($start, $end)
),
field AS (
    SELECT r.meeting_date, r.venue_slug, r.race_code, r.race_number, r.horse_code, r.saddlecloth,
           r.finish_position, r.starting_price
    FROM results r
    WHERE r.meeting_date BETWEEN $start AND $end
      AND NOT coalesce(r.scratched, FALSE)
      AND r.race_code IN (SELECT race_code FROM latest)
)
SELECT f.meeting_date, f.venue_slug, f.race_code, f.race_number, f.horse_code, f.saddlecloth,
       f.finish_position, coalesce(f.finish_position = 1, FALSE) AS won, f.starting_price,
       l.horse_code IS NOT NULL AS predicted,
       l.stage1_probability, l.win_probability, l.model_version, l.model_cutoff,
       l.model_listed, l.predicted_at,
       t.true_win_prob
FROM field f
LEFT JOIN latest l ON l.race_code = f.race_code AND l.horse_code = f.horse_code
LEFT JOIN simulator_truth t ON t.race_code = f.race_code AND t.horse_code = f.horse_code
ORDER BY f.meeting_date, f.venue_slug, f.race_number, f.race_code, f.saddlecloth
