from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from racing_platform.source.formats import (
    FormatError,
    centiseconds_to_seconds,
    date_from_meet_url,
    parse_claim_kg,
    parse_date,
    parse_distance_m,
    parse_flag,
    parse_int,
    parse_last_five,
    parse_lengths,
    parse_money,
    parse_price,
    parse_prize_money,
    parse_race_time_s,
    parse_track_rating,
    parse_utc_timestamp,
    parse_weight_kg,
    to_local,
)


@pytest.mark.parametrize(
    ("convert", "raw", "expected"),
    [
        (parse_weight_kg, "56.5kg", 56.5),
        (parse_weight_kg, "60kg", 60.0),
        (parse_weight_kg, 57, 57.0),
        (parse_price, "$3.10", 3.10),
        (parse_price, "3.30", 3.30),
        (parse_price, "$1,001.00", 1001.0),
        (parse_lengths, "2.97L", 2.97),
        (parse_lengths, "+0.72L", 0.72),
        (parse_lengths, "-6.84L", -6.84),
        (parse_distance_m, "1400m", 1400),
        (parse_distance_m, "1217m", 1217),
        (centiseconds_to_seconds, "6945", 69.45),
        (centiseconds_to_seconds, 3617, 36.17),
        (parse_race_time_s, "1:22.77", 82.77),
        (parse_race_time_s, "57.80", 57.8),
        (parse_race_time_s, "2:00.11", 120.11),
        (parse_money, "300000.00", 300000.0),
        (parse_money, "$272,475", 272475.0),
        (parse_int, "13", 13),
        (parse_track_rating, "4", 4),
    ],
)
def test_racing_com_strings_become_numbers(convert, raw, expected):
    assert convert(raw) == pytest.approx(expected)


def test_track_rating_zero_means_unrated():
    assert parse_track_rating("0") is None


@pytest.mark.parametrize(
    "convert",
    [
        parse_weight_kg,
        parse_price,
        parse_lengths,
        parse_distance_m,
        centiseconds_to_seconds,
        parse_int,
        parse_race_time_s,
        parse_money,
        parse_utc_timestamp,
        parse_date,
        parse_last_five,
    ],
)
def test_missing_values_stay_missing(convert):
    assert convert(None) is None
    assert convert("") is None


def test_a_zero_price_means_no_price():
    assert parse_price("$0.00") is None


@pytest.mark.parametrize(
    ("convert", "raw", "expected_text"),
    [
        (parse_weight_kg, "heavy", "56.5kg"),
        (parse_price, "$3.1O", "price like"),
        (parse_distance_m, "1400.5m", "whole number of metres"),
        (parse_int, "7th", "integer"),
        (parse_int, True, "integer"),
        (parse_race_time_s, "1:2x", "1:22.77"),
        (parse_flag, 2, "flag"),
        (parse_utc_timestamp, "not a time", "ISO 8601"),
    ],
)
def test_unreadable_values_raise_a_format_error_naming_the_expected_format(convert, raw, expected_text):
    with pytest.raises(FormatError, match=expected_text) as raised:
        convert(raw)
    assert raised.value.value == raw


@pytest.mark.parametrize(
    ("raw", "expected"), [(0, False), (1, True), (True, True), (False, False), (None, None)]
)
def test_flags_arrive_as_ints_or_booleans(raw, expected):
    assert parse_flag(raw) is expected


def test_claim_counts_only_when_the_apprentice_can_claim():
    assert parse_claim_kg(True, "2") == 2.0
    assert parse_claim_kg(True, "1.5") == 1.5
    assert parse_claim_kg(False, "3") == 0.0
    assert parse_claim_kg(None, "3") == 0.0
    assert parse_claim_kg(True, None) == 0.0


def test_prize_money_json_strings_give_total_and_per_position():
    items = [
        '{"Position":1,"Value":"180000.00"}',
        '{"Position":2,"Value":"54000.00"}',
        '{"Position":4,"Value":"13500.00"}',
    ]
    total, per_position = parse_prize_money(items)
    assert total == 247500.0
    assert per_position == [180000.0, 54000.0, 0.0, 13500.0]
    assert parse_prize_money(None) == (None, None)
    with pytest.raises(FormatError, match="Position"):
        parse_prize_money(['{"Pos":1}'])


def test_last_five_json_string_becomes_a_list():
    assert parse_last_five('["2","9","-","0","8"]') == ["2", "9", "-", "0", "8"]
    with pytest.raises(FormatError):
        parse_last_five("2-9-0")


def test_utc_times_with_seven_digit_fractions_are_tz_aware_utc():
    start = parse_utc_timestamp("2026-03-07T04:05:00.1234567Z")
    assert start.tzinfo is not None and start.utcoffset() == dt.timedelta(0)
    assert start == pd.Timestamp("2026-03-07T04:05:00.1234567Z")
    assert parse_utc_timestamp("2026-03-07T04:05:00.000Z") == pd.Timestamp("2026-03-07 04:05", tz="UTC")
    assert parse_utc_timestamp("2026-03-07T04:05:00") == pd.Timestamp("2026-03-07 04:05", tz="UTC")


def test_local_time_follows_the_venue_clock_across_daylight_saving():
    summer = to_local(pd.Timestamp("2026-03-07T04:05:00Z"), "Australia/Melbourne")
    winter = to_local(pd.Timestamp("2026-06-06T04:05:00Z"), "Australia/Melbourne")
    assert summer == pd.Timestamp("2026-03-07 15:05")
    assert winter == pd.Timestamp("2026-06-06 14:05")
    assert to_local(pd.Timestamp("2026-03-07T13:30:00Z"), "Australia/Sydney").date() == dt.date(2026, 3, 8)


def test_meeting_date_from_meet_url():
    assert date_from_meet_url("https://www.racing.com/form/2026-03-07/flemington") == dt.date(2026, 3, 7)
    assert date_from_meet_url("https://www.racing.com/form/flemington") is None
    assert date_from_meet_url(None) is None
    assert parse_date("2026-03-07T00:00:00") == dt.date(2026, 3, 7)
