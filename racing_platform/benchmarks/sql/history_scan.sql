-- The baseline for runner_features: one pass over every form line before $day, touching the columns
-- the features aggregate. Any point-in-time feature query reads at least this much.
SELECT count(*), sum(won::INT), sum(placed::INT), sum(finish_position), sum(margin_lengths)
FROM form_lines
WHERE meeting_date < $day
