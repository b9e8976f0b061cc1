-- history_scan.sql plus the codes runner_features finds its rows by (horse, jockey, trainer): every
-- point-in-time query over the whole history reads these to know which lines are whose.
SELECT count(*), sum(won::INT), sum(placed::INT), sum(finish_position), sum(margin_lengths),
       max(horse_code), max(jockey_code), max(trainer_code)
FROM form_lines
WHERE meeting_date < $day
