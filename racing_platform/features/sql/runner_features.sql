-- Point-in-time features of every runner on the cards of the cells ($days[i], $venues[i]), any days.
-- A horse's form comes from its whole career as racing.com serves it (horse_starts, any venue or state),
-- read strictly before the race's date; jockeys' and trainers' rates from form_lines dated strictly
-- before it. Nothing from the race or later ones can reach a feature. Card columns are pre-race facts
-- (barrier, weight, jockey, handicap rating); racing.com's horse{...} aggregates are never read.
-- Cost: one pass over the cards' horses' careers, and one each for jockeys and trainers over the days
-- from a year before the first cell to the last, whatever the number of cells and days.
WITH cells AS (
    SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug
),
card AS (
    SELECT
        ru.meeting_date, ru.venue_slug, ru.meet_code, ru.race_code, ru.race_number,
        ru.horse_code, ru.horse_name, ru.saddlecloth, ru.barrier, ru.weight_kg,
        coalesce(ru.claim_kg, 0.0) AS claim_kg, ru.handicap_rating, ru.jockey_code, ru.trainer_code,
        ru.scratched,
        ra.venue_code, ra.distance_m, ra.race_class, ra.track_condition, ra.track_rating, ra.start_time_utc,
        class_rank(ra.race_class) AS class_rank,
        count(*) FILTER (WHERE NOT ru.scratched) OVER (PARTITION BY ru.race_code) AS field_size
    FROM runners ru
    JOIN races ra USING (race_code)
    SEMI JOIN cells ce ON ru.meeting_date = ce.meeting_date AND ru.venue_slug = ce.venue_slug
),
-- Each runner's earlier official starts, newest first, with how each compares to today's race.
history AS (
    SELECT
        c.race_code, c.horse_code, h.race_date, h.finish_position = 1 AS won,
        h.finish_position <= 3 AS placed, h.margin_lengths, h.class_rank, h.weight_kg,
        h.finish_position::DOUBLE / nullif(h.runners_count, 0) AS norm_finish,
        performance_figure(h.class_rank, h.finish_position, h.margin_lengths, h.distance_m)
            AS figure,
        ln(h.runners_count / nullif(h.starting_price, 0)) AS market_figure,
        abs(h.distance_m - c.distance_m) <= 200 AS at_distance,
        log2(c.distance_m / h.distance_m) AS octaves_from_here,
        h.track_rating >= 5 AS on_rain_affected,
        h.venue_code = c.venue_code AS at_track,
        h.track_condition = c.track_condition AS on_going,
        row_number() OVER newest_first AS runs_back,
        lead(h.race_date) OVER newest_first AS prior_run_date
    FROM (
        SELECT DISTINCT meeting_date, race_code, horse_code, distance_m, track_condition, venue_code FROM card
    ) c
    JOIN horse_starts h ON h.horse_code = c.horse_code AND h.race_date < c.meeting_date
    WHERE NOT h.scratched AND h.finish_position IS NOT NULL
      AND NOT coalesce(h.is_trial, false) AND NOT coalesce(h.is_jumpout, false)
    WINDOW newest_first AS (PARTITION BY c.race_code, c.horse_code ORDER BY h.race_date DESC, h.entry_id DESC)
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
        max(CASE WHEN runs_back = 1 THEN figure END) AS rating_last1,
        avg(CASE WHEN runs_back <= 3 THEN figure END) AS rating_avg3,
        max(CASE WHEN runs_back <= 5 THEN figure END) AS rating_best5,
        avg(figure) AS rating_career,
        avg(CASE WHEN at_distance THEN figure END) AS rating_at_distance,
        avg(CASE WHEN on_rain_affected THEN figure END) - avg(CASE WHEN NOT on_rain_affected THEN figure END)
            AS rating_wet_minus_dry,
        arg_max(octaves_from_here, figure) AS octaves_from_best_run,
        avg(CASE WHEN runs_back <= 5 THEN octaves_from_here END) AS octaves_from_recent_runs,
        avg(market_figure) AS market_rating_career,
        max(CASE WHEN runs_back = 1 THEN market_figure END) AS market_rating_last1,
        avg(CASE WHEN runs_back <= 3 THEN market_figure END) AS market_rating_avg3,
        max(CASE WHEN runs_back = 1 THEN race_date END) AS last_run_date,
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
),
runner AS (
    SELECT
        c.*, f.*,
        j.jockey_rides_365d, j.jockey_win_rate_365d, t.trainer_runners_365d, t.trainer_win_rate_365d,
        -- the field a runner meets: the race's runners still in it
        CASE WHEN NOT c.scratched THEN f.rating_avg3 END AS field_rating,
        CASE WHEN NOT c.scratched THEN f.market_rating_avg3 END AS field_market_rating,
        CASE WHEN NOT c.scratched THEN c.handicap_rating END AS field_handicap,
        CASE WHEN NOT c.scratched THEN c.weight_kg END AS field_weight
    FROM card c
    LEFT JOIN form f USING (race_code, horse_code)
    LEFT JOIN jockey j USING (jockey_code, meeting_date)
    LEFT JOIN trainer t USING (trainer_code, meeting_date)
)
SELECT
    meeting_date, venue_slug, meet_code, race_code, race_number,
    horse_code, horse_name, saddlecloth, scratched,
    -- race context
    distance_m, class_rank, track_condition, track_rating, field_size,
    jockey_code, trainer_code,
    -- the card
    barrier,
    barrier::DOUBLE / nullif(field_size, 0) AS barrier_rel,
    (barrier::DOUBLE / nullif(field_size, 0)) * (1400.0 / nullif(distance_m, 0)) AS barrier_rel_by_distance,
    weight_kg, claim_kg,
    weight_kg - last_weight_kg AS weight_change_kg,
    weight_kg - avg(field_weight) OVER race AS weight_vs_field,
    handicap_rating,
    handicap_rating - max(field_handicap) OVER race AS handicap_gap_to_top,
    -- form over the whole career
    coalesce(career_starts, 0) AS career_starts,
    career_win_rate, career_place_rate, recent_win_rate, recent_place_rate,
    avg_norm_finish_last5, norm_finish_last1, norm_finish_last2, norm_finish_last3,
    margin_last1, margin_last2, margin_last3,
    date_diff('day', last_run_date, meeting_date) AS days_since_last_run,
    coalesce(date_diff('day', last_run_date, meeting_date) >= 60, false) AS first_up,
    coalesce(date_diff('day', last_run_date, meeting_date) < 60
             AND date_diff('day', prior_run_date, last_run_date) >= 60, false) AS second_up,
    class_rank - last_class_rank AS class_change,
    -- ratings: each start's performance figure, and where the runner stands in today's field
    rating_last1, rating_avg3, rating_best5, rating_career, rating_at_distance, rating_wet_minus_dry,
    octaves_from_best_run, octaves_from_recent_runs,
    CASE WHEN NOT scratched AND rating_avg3 IS NOT NULL
         THEN rank() OVER (PARTITION BY race_code ORDER BY field_rating DESC NULLS LAST) END AS rating_rank,
    rating_avg3 - max(field_rating) OVER race AS rating_gap_to_top,
    rating_avg3 - avg(field_rating) OVER race AS rating_vs_field,
    market_rating_last1, market_rating_avg3, market_rating_career,
    market_rating_avg3 - max(field_market_rating) OVER race AS market_rating_gap_to_top,
    market_rating_avg3 - avg(field_market_rating) OVER race AS market_rating_vs_field,
    -- suitability
    coalesce(distance_starts, 0) AS distance_starts, distance_place_rate,
    coalesce(track_starts, 0) AS track_starts, track_place_rate,
    coalesce(going_starts, 0) AS going_starts, going_place_rate,
    -- connections
    coalesce(jockey_rides_365d, 0) AS jockey_rides_365d, jockey_win_rate_365d,
    coalesce(trainer_runners_365d, 0) AS trainer_runners_365d, trainer_win_rate_365d
FROM runner
WINDOW race AS (PARTITION BY race_code)
-- race_code settles the order of a cell with two meetings (a venue racing twice in a day)
ORDER BY meeting_date, venue_slug, race_number, saddlecloth, race_code
