from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from racing_platform.source import formats
from racing_platform.source.formats import (
    MAX_INTEGER,
    FormatError,
    centiseconds_to_seconds,
    clean_text,
    date_from_meet_url,
    flag_or_false,
    parse_claim_kg,
    parse_code,
    parse_date,
    parse_distance_m,
    parse_epoch_seconds,
    parse_flag,
    parse_int,
    parse_last_five,
    parse_lengths,
    parse_list,
    parse_money,
    parse_nonzero_int,
    parse_object,
    parse_price,
    parse_prize_money,
    parse_race_time_s,
    parse_state,
    parse_text,
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
        (parse_nonzero_int, "4", 4),
        (parse_epoch_seconds, 1772593225, 1772593225),
    ],
)
def test_racing_com_strings_become_numbers(convert, raw, expected):
    assert convert(raw) == pytest.approx(expected)


@pytest.mark.parametrize(
    "convert",
    [
        parse_weight_kg,
        parse_price,
        parse_distance_m,
        centiseconds_to_seconds,
        parse_race_time_s,
        parse_nonzero_int,
        parse_code,
        parse_epoch_seconds,
    ],
)
@pytest.mark.parametrize("zero", [0, "0"])
def test_zero_is_racing_coms_not_measured(convert, zero):
    """Moe's race list carries 0 for sectionals it does not have; a track rating "0" is unrated."""
    assert convert(zero) is None


@pytest.mark.parametrize("convert", [parse_money, parse_lengths, parse_int])
def test_zero_stays_zero_where_it_is_a_real_amount(convert):
    assert convert(0) == 0 and convert("0") == 0


# Every converter of a raw racing.com value, found by name so a new one cannot miss the rule.
RAW_CONVERTERS = [
    convert
    for name, convert in vars(formats).items()
    if callable(convert)
    and getattr(convert, "__module__", None) == formats.__name__
    and (
        name.startswith("parse_")
        or name in {"centiseconds_to_seconds", "flag_or_false", "date_from_meet_url"}
    )
]
# What "absent" is where it is not None: no items, no prize money, no claim, flag not set.
ABSENT = {parse_list: [], parse_prize_money: (None, None), parse_claim_kg: 0.0, flag_or_false: False}


def test_every_converter_of_a_raw_value_is_checked():
    assert len(RAW_CONVERTERS) >= 20 and {parse_object, parse_list, parse_prize_money} <= set(RAW_CONVERTERS)


@pytest.mark.parametrize("convert", RAW_CONVERTERS, ids=lambda convert: convert.__name__)
@pytest.mark.parametrize("raw", [None, "", "  "], ids=["null", "empty", "blank"])
def test_null_empty_and_blank_are_absent_in_every_field(convert, raw):
    """The first rule of the formats docstring, for every converter (object, list and prize money raised)."""
    assert convert(raw) == ABSENT.get(convert)


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
        (parse_utc_timestamp, "now", "ISO 8601"),  # pandas would read the clock
        (parse_utc_timestamp, "1066-10-14T09:00:00Z", "between 1980-01-01"),
        (parse_date, "2999-01-01", "between"),
        (parse_epoch_seconds, 99_999_999_999, "unix seconds"),
        (parse_epoch_seconds, 86_400, "unix seconds"),
        (parse_int, 2**63, "integer"),
        (parse_int, MAX_INTEGER + 1, "integer"),
        (parse_weight_kg, "infkg", "finite"),
        (parse_price, float("nan"), "finite"),
        (parse_distance_m, 10**400, "finite"),
        (parse_weight_kg, {"kg": 56}, "weight"),
        (parse_price, ["$3.10"], "price"),
        (parse_int, True, "integer"),
        (parse_text, 42, "text"),
        (parse_text, {"name": "x"}, "text"),
        (parse_code, 5.5, "code"),
        (parse_code, True, "code"),
        (parse_flag, "yes", "flag"),
        (parse_date, 20260307, "date"),
        (date_from_meet_url, ["url"], "URL"),
        (parse_object, [], "an object"),
        (parse_list, {}, "a list"),
        (parse_last_five, '[{"a": 1}]', "JSON list"),
        (parse_prize_money, ['{"Position": 1e400, "Value": "1"}'], "prize-money"),
        (parse_prize_money, ['{"Position": 1000000000, "Value": "1"}'], "position 1..100"),
    ],
)
def test_unreadable_values_raise_a_format_error_naming_the_expected_format(convert, raw, expected_text):
    with pytest.raises(FormatError, match=expected_text) as raised:
        convert(raw)
    offending = raw if convert is parse_prize_money else [raw]  # a prize list names its bad item
    assert any(value is raised.value.value or value == raised.value.value for value in offending)


@pytest.mark.parametrize(
    ("raw", "expected"), [(0, False), (1, True), (True, True), (False, False), ("1", True), (None, None)]
)
def test_flags_arrive_as_ints_or_booleans(raw, expected):
    assert parse_flag(raw) is expected
    assert flag_or_false(raw) is bool(expected)  # isTrial/isJumpOut: null is an ordinary meeting


def test_claims_read_kilograms_and_null_is_no_claim():
    assert parse_claim_kg("2") == 2.0
    assert parse_claim_kg("1.5kg") == 1.5
    assert parse_claim_kg(None) == 0.0 and parse_claim_kg("0") == 0.0


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Northern\tEyes", "Northern Eyes"),
        ("Northern\nEyes\r\n", "Northern Eyes"),
        ("Northern\u2028Eyes\u2029", "Northern Eyes"),
        ("  Northern   Eyes ", "Northern Eyes"),
        ("Nor\u200bthern\x00 Eyes\ufeff", "Northern Eyes"),
        ("J.B.McDonald\x85", "J.B.McDonald"),
        ("Dusty\u00a0Bay", "Dusty Bay"),
        ("Sportsbet-Ballarat (Synth) 'A' | Ñ", "Sportsbet-Ballarat (Synth) 'A' | Ñ"),
    ],
)
def test_names_lose_control_characters_and_line_separators(raw, stored):
    assert clean_text(raw) == stored
    assert parse_text(raw) == stored
    assert parse_text("\t\u2028\n") is None  # nothing left: absent


def test_codes_and_states():
    assert parse_code(5193242) == "5193242" and parse_code(" 5193242\n") == "5193242"
    assert parse_state("nsw") == "NSW"


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
