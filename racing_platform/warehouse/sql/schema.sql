-- The platform's DuckDB tables. Every cell table is keyed by (meeting_date, venue_slug) and replaced
-- a cell at a time in one transaction (warehouse/resource.py). Columns match the parser's typed
-- frames (source/parsers.py TABLE_COLUMNS); racing_platform_tests/warehouse pins the two together.

-- racing.com class names on one numeric ladder (Maiden < Class 1..6 ~ BM 58..90 < Listed < Group 3..1).
CREATE OR REPLACE MACRO class_rank(race_class) AS CASE
    WHEN race_class ILIKE 'Maiden%' THEN 1.0
    WHEN race_class ILIKE 'Class %' THEN 1.0 + TRY_CAST(regexp_extract(race_class, '(\d+)', 1) AS DOUBLE)
    WHEN race_class ILIKE 'BM %' THEN TRY_CAST(regexp_extract(race_class, '(\d+)', 1) AS DOUBLE) / 10.0
    WHEN race_class ILIKE 'Listed%' THEN 10.0
    WHEN race_class ILIKE 'Group 3%' THEN 11.0
    WHEN race_class ILIKE 'Group 2%' THEN 12.0
    WHEN race_class ILIKE 'Group 1%' THEN 13.0
END;

-- A start's performance figure, in lengths at 1400 m (features/sql/runner_features.sql, docs/features.md):
-- the race's class in lengths (3 a class_rank step: a lower out-of-time log loss than 1) minus the
-- lengths beaten (a winner gains its margin to second), a length over a longer trip weighing less (by
-- the square root of the distance: margins grow with the trip). Capped so a tailed-off run does not
-- swamp a career.
CREATE OR REPLACE MACRO performance_figure(class_rank, finish_position, margin_lengths, distance_m) AS
    3.0 * class_rank
    - CASE WHEN finish_position = 1 THEN -least(coalesce(margin_lengths, 0), 6.0)
           ELSE least(coalesce(margin_lengths, 0), 20.0) END * sqrt(1400.0 / greatest(distance_m, 800));

CREATE TABLE IF NOT EXISTS meeting_listings (
    meeting_date DATE NOT NULL,
    listed INTEGER NOT NULL,
    tracked INTEGER NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- Meetings racing.com lists per day (all states); `tracked` = inside the platform's scope. Replaced per meeting_date.
CREATE TABLE IF NOT EXISTS meetings (
    meet_code VARCHAR NOT NULL,
    meeting_date DATE NOT NULL,
    venue VARCHAR,
    venue_slug VARCHAR NOT NULL,
    state VARCHAR,
    venue_code VARCHAR,
    timezone VARCHAR,
    is_trial BOOLEAN,
    is_jumpout BOOLEAN,
    meet_url VARCHAR,
    fetched_at TIMESTAMPTZ,
    tier VARCHAR,
    tracked BOOLEAN
);

-- Races of a (meeting_date, venue_slug) cell, from the latest race list / race form.
CREATE TABLE IF NOT EXISTS races (
    meet_code VARCHAR NOT NULL,
    meeting_date DATE NOT NULL,
    venue VARCHAR,
    venue_slug VARCHAR NOT NULL,
    state VARCHAR,
    venue_code VARCHAR,
    timezone VARCHAR,
    race_code VARCHAR,
    race_number INTEGER,
    race_name VARCHAR,
    name_form VARCHAR,
    race_class VARCHAR,
    class_name VARCHAR,
    "group" VARCHAR,
    race_status VARCHAR,
    is_trial BOOLEAN,
    is_jumpout BOOLEAN,
    start_time_utc TIMESTAMPTZ,
    start_time_local TIMESTAMP,
    distance_m INTEGER,
    track_condition VARCHAR,
    track_rating INTEGER,
    prize_money_total DOUBLE,
    prize_money DOUBLE[],
    conditions VARCHAR,
    winning_time_s DOUBLE,
    sectional_800_s DOUBLE,
    sectional_800_400_s DOUBLE,
    sectional_400_finish_s DOUBLE,
    fetched_at TIMESTAMPTZ
);

-- Pre-race field rows: one per race and saddlecloth after the emergency/scratching dedupe.
CREATE TABLE IF NOT EXISTS runners (
    meet_code VARCHAR NOT NULL,
    meeting_date DATE NOT NULL,
    venue VARCHAR,
    venue_slug VARCHAR NOT NULL,
    state VARCHAR,
    race_code VARCHAR,
    race_number INTEGER,
    entry_id VARCHAR,
    horse_code VARCHAR,
    horse_name VARCHAR,
    saddlecloth INTEGER,
    barrier INTEGER,
    weight_kg DOUBLE,
    claim_kg DOUBLE,
    carried_weight_kg DOUBLE,
    jockey_code VARCHAR,
    jockey_name VARCHAR,
    trainer_code VARCHAR,
    trainer_name VARCHAR,
    scratched BOOLEAN,
    horse_country VARCHAR,
    emergency BOOLEAN,
    emergency_number INTEGER,
    handicap_rating INTEGER,
    last_five VARCHAR[],
    fetched_at TIMESTAMPTZ
);

-- Post-race rows: finishing positions, margins, starting prices.
CREATE TABLE IF NOT EXISTS results (
    meet_code VARCHAR NOT NULL,
    meeting_date DATE NOT NULL,
    venue VARCHAR,
    venue_slug VARCHAR NOT NULL,
    state VARCHAR,
    race_code VARCHAR,
    race_number INTEGER,
    entry_id VARCHAR,
    horse_code VARCHAR,
    horse_name VARCHAR,
    saddlecloth INTEGER,
    barrier INTEGER,
    weight_kg DOUBLE,
    claim_kg DOUBLE,
    carried_weight_kg DOUBLE,
    jockey_code VARCHAR,
    jockey_name VARCHAR,
    trainer_code VARCHAR,
    trainer_name VARCHAR,
    scratched BOOLEAN,
    finish_code INTEGER,
    finish_position INTEGER,
    margin_lengths DOUBLE,
    starting_price DOUBLE,
    winning_time_s DOUBLE,
    prize_money_won DOUBLE,
    position_at_800 INTEGER,
    position_at_400 INTEGER,
    fetched_at TIMESTAMPTZ
);

-- Bookmaker prices per runner and provider at fetch time.
CREATE TABLE IF NOT EXISTS odds (
    meet_code VARCHAR NOT NULL,
    meeting_date DATE NOT NULL,
    race_code VARCHAR,
    race_number INTEGER,
    entry_id VARCHAR,
    horse_code VARCHAR,
    saddlecloth INTEGER,
    provider_code VARCHAR,
    win_price DOUBLE,
    place_price DOUBLE,
    is_favourite BOOLEAN,
    is_market_mover BOOLEAN,
    fetched_at TIMESTAMPTZ,
    venue_slug VARCHAR NOT NULL
);

-- Bookmaker price moves (flucsWin) per runner and provider, from the race field and results answers;
-- what the market model reads odds movements from. Replaced a cell at a time with odds.
CREATE TABLE IF NOT EXISTS odds_flucs (
    meet_code VARCHAR NOT NULL,
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    race_code VARCHAR NOT NULL,
    race_number INTEGER,
    entry_id VARCHAR NOT NULL,
    saddlecloth INTEGER,
    provider_code VARCHAR NOT NULL,
    update_time_utc TIMESTAMPTZ NOT NULL,
    win_price DOUBLE,
    fetched_at TIMESTAMPTZ
);

-- Raw racing.com responses of a cell: the latest archived body per operation and race (by content
-- hash) that passed the contracts and cross-response rules (cards/rules.py). race_number is NULL for
-- meeting-level operations (race lists).
CREATE TABLE IF NOT EXISTS raw_race_cards (
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    meet_code VARCHAR NOT NULL,
    operation VARCHAR NOT NULL,
    race_number INTEGER,
    variables JSON NOT NULL,
    sha256 VARCHAR NOT NULL,
    first_fetched_at TIMESTAMPTZ NOT NULL,
    last_fetched_at TIMESTAMPTZ NOT NULL,
    body JSON NOT NULL
);

-- Races whose fetch failed, or whose answer was refused (error_type AnswerRefused: the message names
-- race, field and rule), in the latest materialization of their cell (cleared when it completes).
CREATE TABLE IF NOT EXISTS fetch_failures (
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    meet_code VARCHAR NOT NULL,
    race_number INTEGER,
    operation VARCHAR NOT NULL,
    error_type VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL
);


-- Form lines: one row per runner that ran in a tracked race, replaced per meeting_date
-- (features/sql/form_lines.sql; contract contracts.FormLinesSchema). What later races learn from.
CREATE TABLE IF NOT EXISTS form_lines (
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    meet_code VARCHAR NOT NULL,
    race_code VARCHAR NOT NULL,
    start_time_utc TIMESTAMPTZ,
    distance_m INTEGER,
    race_class VARCHAR,
    class_rank DOUBLE,
    track_condition VARCHAR,
    track_rating INTEGER,
    field_size BIGINT,
    horse_code VARCHAR NOT NULL,
    barrier INTEGER,
    weight_kg DOUBLE,
    claim_kg DOUBLE,
    jockey_code VARCHAR,
    trainer_code VARCHAR,
    finish_position INTEGER,
    margin_lengths DOUBLE,
    starting_price DOUBLE,
    won BOOLEAN,
    placed BOOLEAN
);

-- Point-in-time features per runner of a cell (features/sql/runner_features.sql; docs/features.md).
CREATE TABLE IF NOT EXISTS runner_features (
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    meet_code VARCHAR NOT NULL,
    race_code VARCHAR NOT NULL,
    race_number INTEGER,
    horse_code VARCHAR NOT NULL,
    horse_name VARCHAR,
    saddlecloth INTEGER,
    scratched BOOLEAN,
    distance_m INTEGER,
    class_rank DOUBLE,
    track_condition VARCHAR,
    track_rating INTEGER,
    field_size BIGINT,
    jockey_code VARCHAR,
    trainer_code VARCHAR,
    barrier INTEGER,
    barrier_rel DOUBLE,
    barrier_rel_by_distance DOUBLE,
    weight_kg DOUBLE,
    claim_kg DOUBLE,
    weight_change_kg DOUBLE,
    career_starts BIGINT,
    career_win_rate DOUBLE,
    career_place_rate DOUBLE,
    recent_win_rate DOUBLE,
    recent_place_rate DOUBLE,
    avg_norm_finish_last5 DOUBLE,
    norm_finish_last1 DOUBLE,
    norm_finish_last2 DOUBLE,
    norm_finish_last3 DOUBLE,
    margin_last1 DOUBLE,
    margin_last2 DOUBLE,
    margin_last3 DOUBLE,
    days_since_last_run BIGINT,
    first_up BOOLEAN,
    second_up BOOLEAN,
    class_change DOUBLE,
    distance_starts BIGINT,
    distance_place_rate DOUBLE,
    track_starts BIGINT,
    track_place_rate DOUBLE,
    going_starts BIGINT,
    going_place_rate DOUBLE,
    jockey_rides_365d BIGINT,
    jockey_win_rate_365d DOUBLE,
    trainer_runners_365d BIGINT,
    trainer_win_rate_365d DOUBLE,
    weight_vs_field DOUBLE,
    handicap_rating INTEGER,
    handicap_gap_to_top DOUBLE,
    rating_last1 DOUBLE,
    rating_avg3 DOUBLE,
    rating_best5 DOUBLE,
    rating_career DOUBLE,
    rating_rank BIGINT,
    rating_gap_to_top DOUBLE,
    rating_vs_field DOUBLE,
    market_rating_last1 DOUBLE,
    market_rating_avg3 DOUBLE,
    market_rating_gap_to_top DOUBLE,
    market_rating_vs_field DOUBLE,
    rating_at_distance DOUBLE,
    rating_wet_minus_dry DOUBLE,
    octaves_from_best_run DOUBLE,
    octaves_from_recent_runs DOUBLE,
    market_rating_career DOUBLE
);
-- A database made before careers (issue 10) gains the new feature columns.
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS weight_vs_field DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS handicap_rating INTEGER;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS handicap_gap_to_top DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_last1 DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_avg3 DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_best5 DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_career DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_rank BIGINT;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_gap_to_top DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_vs_field DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS market_rating_last1 DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS market_rating_avg3 DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS market_rating_gap_to_top DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS market_rating_vs_field DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_at_distance DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS rating_wet_minus_dry DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS octaves_from_best_run DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS octaves_from_recent_runs DOUBLE;
ALTER TABLE runner_features ADD COLUMN IF NOT EXISTS market_rating_career DOUBLE;

-- Win model versions (model/registry.py): the CatBoost file at `path` is named by its content hash.
CREATE TABLE IF NOT EXISTS model_versions (
    version VARCHAR NOT NULL,
    cutoff DATE NOT NULL,
    trained_at TIMESTAMPTZ NOT NULL,
    params JSON NOT NULL,
    training_rows BIGINT NOT NULL,
    training_races BIGINT NOT NULL,
    metrics JSON NOT NULL,
    path VARCHAR NOT NULL
);

-- Card versions of a cell: the first time each distinct card content (hash) was seen. A prediction
-- snapshot is keyed by it, so an unchanged card re-prices to the same rows.
CREATE TABLE IF NOT EXISTS card_versions (
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    card_hash VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL
);

-- Prices: one snapshot per (cell, predicted_at, model_version); history is kept across re-pricings.
CREATE TABLE IF NOT EXISTS predictions (
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    meet_code VARCHAR NOT NULL,
    race_code VARCHAR NOT NULL,
    race_number INTEGER NOT NULL,
    horse_code VARCHAR NOT NULL,
    horse_name VARCHAR,
    saddlecloth INTEGER NOT NULL,
    barrier INTEGER,
    stage1_probability DOUBLE,
    win_probability DOUBLE NOT NULL,
    rank INTEGER NOT NULL,
    fair_odds DOUBLE NOT NULL,
    market_price DOUBLE,
    market_probability DOUBLE,
    model_version VARCHAR NOT NULL,
    card_hash VARCHAR NOT NULL,
    predicted_at TIMESTAMPTZ NOT NULL
);
-- A database made before the blend (issue 10) gains its column.
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS stage1_probability DOUBLE;

-- Horses' careers as racing.com serves them (GetRaceEntryItemByHorsePaged, newest first): one row per
-- start, any venue or state, fetched for the horses on tracked cards (careers/). Race-time facts only;
-- features read the starts dated strictly before a race.
CREATE TABLE IF NOT EXISTS horse_starts (
    horse_code VARCHAR NOT NULL,
    entry_id VARCHAR NOT NULL,
    race_code VARCHAR,
    race_date DATE NOT NULL,
    venue_code VARCHAR,
    venue_name VARCHAR,
    race_number INTEGER,
    distance_m INTEGER,
    race_class VARCHAR,
    class_rank DOUBLE,
    track_condition VARCHAR,
    track_rating INTEGER,
    runners_count INTEGER,
    is_trial BOOLEAN,
    is_jumpout BOOLEAN,
    scratched BOOLEAN NOT NULL,
    finish_position INTEGER,
    margin_lengths DOUBLE,
    starting_price DOUBLE,
    weight_kg DOUBLE,
    barrier INTEGER,
    jockey_name VARCHAR,
    trainer_name VARCHAR,
    handicap_rating INTEGER,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- When each horse's career was last fetched and how far it reached: a card dated after fetched_at
-- needs the starts since (incremental: paging stops at the first start already stored).
CREATE TABLE IF NOT EXISTS horse_career_fetches (
    horse_code VARCHAR NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    starts INTEGER NOT NULL,
    pages INTEGER NOT NULL
);

-- The simulator's kept-aside truth (its /_sim/truth channel): true win probabilities of each race's final
-- field. Read by evaluation only, never by features or training; empty against the real API.
CREATE TABLE IF NOT EXISTS simulator_truth (
    meeting_date DATE NOT NULL,
    venue_slug VARCHAR NOT NULL,
    race_code VARCHAR NOT NULL,
    horse_code VARCHAR NOT NULL,
    saddlecloth INTEGER,
    true_win_prob DOUBLE NOT NULL
);

-- Evaluation per racing day and source (evaluation/assets.py; docs/evaluation.md). Replaced per meeting_date.
CREATE TABLE IF NOT EXISTS evaluation_daily (
    meeting_date DATE NOT NULL,
    source VARCHAR NOT NULL,
    log_loss DOUBLE,
    brier DOUBLE,
    mcfadden_r2 DOUBLE,
    top_pick_strike_rate DOUBLE,
    roi DOUBLE,
    bets BIGINT NOT NULL,
    races BIGINT NOT NULL,
    evaluated_at TIMESTAMPTZ NOT NULL
);

-- Each race's prediction snapshot as of its jump, among races dated first_day..last_day: the newest card
-- version priced before the race's start (races.start_time_utc). A snapshot priced after the jump (a late
-- scratching in R7 re-prices the whole cell, R1-R6 included) saw the race run and the market after it, so
-- it is never chosen over one priced before. A race with no snapshot before its start (history priced by
-- a backfill after the fact, or a start the races table does not know) takes its earliest. Then the
-- newest model (a new model re-prices an unchanged card at the same predicted_at), with its model's
-- cutoff (null, and model_listed false, for a version model_versions does not list).
CREATE OR REPLACE MACRO latest_predictions(first_day, last_day) AS TABLE
SELECT * EXCLUDE (snapshot)
FROM (
    SELECT p.*, mv.cutoff AS model_cutoff, mv.version IS NOT NULL AS model_listed,
           rank() OVER (PARTITION BY p.race_code
                        ORDER BY CASE WHEN p.predicted_at < ra.start_time_utc THEN p.predicted_at END
                                     DESC NULLS LAST,
                                 p.predicted_at, mv.trained_at DESC NULLS LAST, p.model_version DESC) AS snapshot
    FROM predictions p
    LEFT JOIN races ra ON ra.race_code = p.race_code
    LEFT JOIN model_versions mv ON mv.version = p.model_version
    WHERE p.meeting_date BETWEEN first_day AND last_day
)
WHERE snapshot = 1;
