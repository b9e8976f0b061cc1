-- The platform's DuckDB tables. Every cell table is keyed by (meeting_date, venue_slug) and replaced
-- a cell at a time in one transaction (warehouse/resource.py). Columns match the parser's typed
-- frames (source/parsers.py TABLE_COLUMNS); racing_platform_tests/warehouse pins the two together.

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

-- Raw racing.com responses of a cell: the latest archived body per operation and race (by content
-- hash). race_number is NULL for meeting-level operations (race lists).
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

-- Races whose fetch failed in the latest materialization of their cell (cleared when it completes).
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
