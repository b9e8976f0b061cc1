-- Point-in-time features of every runner on the cards of the cells ($days[i], $venues[i]), any days.
-- A cell's history is form_lines dated strictly before its day (any venue): nothing from its races or
-- from later ones can reach a feature. Card columns are pre-race facts (barrier, weight, jockey).
-- Cost: one pass over form_lines for the cards' horses, and one each for jockeys and trainers over
-- the days from a year before the first cell to the last, whatever the number of cells and days (a
-- venue's season in a backfill run is one query, issue 9).
WITH cells AS (
    SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug
),
card AS (
    SELECT
        ru.meeting_date, ru.venue_slug, ru.meet_code, ru.race_code, ru.race_number,
        ru.horse_code, ru.horse_name, ru.saddlecloth, ru.barrier, ru.weight_kg,
        coalesce(ru.claim_kg, 0.0) AS claim_kg, ru.jockey_code, ru.trainer_code, ru.scratched,
        ra.distance_m, ra.race_class, ra.track_condition, ra.track_rating, ra.start_time_utc,
        class_rank(ra.race_class) AS class_rank,
        count(*) FILTER (WHERE NOT ru.scratched) OVER (PARTITION BY ru.race_code) AS field_size
    FROM runners ru
    JOIN races ra USING (race_code)
    SEMI JOIN cells ce ON ru.meeting_date = ce.meeting_date AND ru.venue_slug = ce.venue_slug
),
-- Each runner's earlier runs, newest first, with how each one compares to today's race.
history AS (
    SELECT
        c.race_code, c.horse_code, fl.meeting_date, fl.won, fl.placed, fl.margin_lengths,
        fl.class_rank, fl.weight_kg,
        fl.finish_position::DOUBLE / fl.field_size AS norm_finish,
        abs(fl.distance_m - c.distance_m) <= 200 AS at_distance,
        fl.venue_slug = c.venue_slug AS at_track,
        fl.track_condition = c.track_condition AS on_going,
        row_number() OVER newest_first AS runs_back,
        lead(fl.meeting_date) OVER newest_first AS prior_run_date
    FROM (
        SELECT DISTINCT meeting_date, race_code, horse_code, distance_m, venue_slug, track_condition FROM card
    ) c
    JOIN form_lines fl ON fl.horse_code = c.horse_code AND fl.meeting_date < c.meeting_date
    WINDOW newest_first AS (PARTITION BY c.race_code, c.horse_code ORDER BY fl.start_time_utc DESC)
),
form AS (
    SELECT
        race_code, horse_code,
        count(*) AS career_starts,
        avg(won::INT) AS career_win_rate,
        avg(placed::INT) AS career_place_rate,
        avg(CASE WHEN runs_back <= 5 THEN won::INT END) AS recent_win_rate,
        avg(CASE WHEN runs_back <= 5 THEN placed::INT END) AS recent_place_rate,
        avg(CASE WHEN runs_back <= 5 THEN norm_finish END) AS avg_norm_finish_last5,
        max(CASE WHEN runs_back = 1 THEN norm_finish END) AS norm_finish_last1,
        max(CASE WHEN runs_back = 2 THEN norm_finish END) AS norm_finish_last2,
        max(CASE WHEN runs_back = 3 THEN norm_finish END) AS norm_finish_last3,
        max(CASE WHEN runs_back = 1 THEN margin_lengths END) AS margin_last1,
        max(CASE WHEN runs_back = 2 THEN margin_lengths END) AS margin_last2,
        max(CASE WHEN runs_back = 3 THEN margin_lengths END) AS margin_last3,
        max(CASE WHEN runs_back = 1 THEN meeting_date END) AS last_run_date,
        max(CASE WHEN runs_back = 1 THEN prior_run_date END) AS prior_run_date,
        max(CASE WHEN runs_back = 1 THEN class_rank END) AS last_class_rank,
        max(CASE WHEN runs_back = 1 THEN weight_kg END) AS last_weight_kg,
        count_if(at_distance)::BIGINT AS distance_starts,
        avg(CASE WHEN at_distance THEN placed::INT END) AS distance_place_rate,
        count_if(at_track)::BIGINT AS track_starts,
        avg(CASE WHEN at_track THEN placed::INT END) AS track_place_rate,
        count_if(on_going)::BIGINT AS going_starts,
        avg(CASE WHEN on_going THEN placed::INT END) AS going_place_rate
    FROM history
    GROUP BY race_code, horse_code
),
-- Jockeys' and trainers' 365-day windows: the cells' days and the days a year before them cut the
-- history into spans, so each cell's window is a run of whole spans. One pass over the lines of
-- those days counts each person's rides and wins per span; a window sums its spans.
bounds AS (
    SELECT DISTINCT unnest([meeting_date - 365, meeting_date]) AS span_start FROM cells
),
span_of_day AS (
    SELECT d.meeting_date, b.span_start
    FROM (
        SELECT unnest(generate_series(min(span_start), max(span_start) - 1, INTERVAL 1 DAY))::DATE AS meeting_date
        FROM bounds
    ) d
    ASOF JOIN bounds b ON d.meeting_date >= b.span_start
),
jockey_spans AS (
    SELECT fl.jockey_code, s.span_start, count(*) AS rides, sum(fl.won::INT) AS wins
    FROM form_lines fl
    JOIN span_of_day s USING (meeting_date)
    GROUP BY ALL
),
trainer_spans AS (
    SELECT fl.trainer_code, s.span_start, count(*) AS runners, sum(fl.won::INT) AS wins
    FROM form_lines fl
    JOIN span_of_day s USING (meeting_date)
    GROUP BY ALL
),
jockey AS (
    SELECT
        c.jockey_code, c.meeting_date,
        sum(s.rides)::BIGINT AS jockey_rides_365d,
        sum(s.wins) / sum(s.rides) AS jockey_win_rate_365d
    FROM (SELECT DISTINCT jockey_code, meeting_date FROM card) c
    JOIN jockey_spans s
        ON s.jockey_code = c.jockey_code AND s.span_start >= c.meeting_date - 365 AND s.span_start < c.meeting_date
    GROUP BY ALL
),
trainer AS (
    SELECT
        c.trainer_code, c.meeting_date,
        sum(s.runners)::BIGINT AS trainer_runners_365d,
        sum(s.wins) / sum(s.runners) AS trainer_win_rate_365d
    FROM (SELECT DISTINCT trainer_code, meeting_date FROM card) c
    JOIN trainer_spans s
        ON s.trainer_code = c.trainer_code AND s.span_start >= c.meeting_date - 365 AND s.span_start < c.meeting_date
    GROUP BY ALL
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
    c.weight_kg - f.last_weight_kg AS weight_change_kg,
    -- form
    coalesce(f.career_starts, 0) AS career_starts,
    f.career_win_rate, f.career_place_rate, f.recent_win_rate, f.recent_place_rate,
    f.avg_norm_finish_last5, f.norm_finish_last1, f.norm_finish_last2, f.norm_finish_last3,
    f.margin_last1, f.margin_last2, f.margin_last3,
    date_diff('day', f.last_run_date, c.meeting_date) AS days_since_last_run,
    coalesce(date_diff('day', f.last_run_date, c.meeting_date) >= 60, false) AS first_up,
    coalesce(date_diff('day', f.last_run_date, c.meeting_date) < 60
             AND date_diff('day', f.prior_run_date, f.last_run_date) >= 60, false) AS second_up,
    c.class_rank - f.last_class_rank AS class_change,
    -- suitability
    coalesce(f.distance_starts, 0) AS distance_starts, f.distance_place_rate,
    coalesce(f.track_starts, 0) AS track_starts, f.track_place_rate,
    coalesce(f.going_starts, 0) AS going_starts, f.going_place_rate,
    -- connections
    coalesce(j.jockey_rides_365d, 0) AS jockey_rides_365d, j.jockey_win_rate_365d,
    coalesce(t.trainer_runners_365d, 0) AS trainer_runners_365d, t.trainer_win_rate_365d
FROM card c
LEFT JOIN form f USING (race_code, horse_code)
LEFT JOIN jockey j USING (jockey_code, meeting_date)
LEFT JOIN trainer t USING (trainer_code, meeting_date)
-- race_code settles the order of a cell with two meetings (a venue racing twice in a day)
ORDER BY c.meeting_date, c.venue_slug, c.race_number, c.saddlecloth, c.race_code
