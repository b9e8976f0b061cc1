"""The metrics on two hand-made races, every number worked out by hand in the comments.

R1: 3 runners, saddlecloth 2 wins, SP 2.5 / 2.0 / 5.0.   R2: 2 runners, saddlecloth 2 wins, SP 1.5 / 4.0.
blend  R1 0.3 / 0.5 / 0.2   R2 0.8 / 0.2
stage1 R1 0.4 / 0.4 / 0.2   R2 0.5 / 0.5   (ties everywhere: the top pick is the first saddlecloth)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from racing_platform.evaluation.metrics import (
    METRICS,
    calibration_table,
    format_table,
    log_loss,
    market_from_sp,
    metrics_by_source,
    on_common_races,
    uniform_probabilities,
)
from racing_platform_tests.evaluation.conftest import hand_frame

# Uniform log loss on both races: (ln 3 + ln 2) / 2
UNIFORM_LL = (math.log(3) + math.log(2)) / 2


def test_blend_metrics_by_hand():
    blend = metrics_by_source(hand_frame())["blend"]
    assert list(blend) == list(METRICS)
    # winners' probabilities 0.5 (R1) and 0.2 (R2)
    assert blend["log_loss"] == pytest.approx((-math.log(0.5) - math.log(0.2)) / 2)  # 1.151293
    # R1: 0.3² + (0.5-1)² + 0.2² = 0.09 + 0.25 + 0.04 = 0.38;  R2: 0.8² + (0.2-1)² = 1.28;  mean 0.83
    assert blend["brier"] == pytest.approx(0.83)
    # 1 - 1.151293 / 0.895880 = -0.285098: worse than 1/n on these two races
    assert blend["mcfadden_r2"] == pytest.approx(1 - ((-math.log(0.5) - math.log(0.2)) / 2) / UNIFORM_LL)
    # R1's top pick (0.5, saddlecloth 2) won, R2's (0.8, saddlecloth 1) lost
    assert blend["top_pick_strike_rate"] == pytest.approx(0.5)
    # p x SP > 1.1 only for R2 saddlecloth 1 (0.8 x 1.5 = 1.2; R1: 0.75, 1.0, 1.0; R2 sc2: 0.8): 1 bet, lost
    assert (blend["bets"], blend["roi"]) == (1, pytest.approx(-1.0))
    assert blend["races"] == 2


def test_stage1_metrics_ties_go_to_the_first_saddlecloth_and_a_winning_value_bet():
    stage1 = metrics_by_source(hand_frame())["stage1"]
    # winners 0.4 and 0.5: (0.916291 + 0.693147) / 2 = 0.804719
    assert stage1["log_loss"] == pytest.approx((-math.log(0.4) - math.log(0.5)) / 2)
    # R1: 0.16 + 0.36 + 0.04 = 0.56;  R2: 0.25 + 0.25 = 0.5;  mean 0.53
    assert stage1["brier"] == pytest.approx(0.53)
    # R1 tie 0.4/0.4 -> saddlecloth 1 (lost); R2 tie -> saddlecloth 1 (lost)
    assert stage1["top_pick_strike_rate"] == 0.0
    # only R2 saddlecloth 2: 0.5 x 4.0 = 2.0 > 1.1, won: returns 4, ROI (4 - 1) / 1 = 3
    assert (stage1["bets"], stage1["roi"]) == (1, pytest.approx(3.0))


def test_uniform_is_the_baseline():
    uniform = metrics_by_source(hand_frame())["uniform"]
    assert uniform["log_loss"] == pytest.approx(UNIFORM_LL)  # 0.895880
    assert uniform["mcfadden_r2"] == pytest.approx(0.0)
    # R1: 3 x (1/3)² with one (1/3 - 1)²: 1/9 + 4/9 + 1/9 = 2/3;  R2: 0.25 + 0.25;  mean 7/12
    assert uniform["brier"] == pytest.approx(7 / 12)
    # bets: R1 sc3 (5.0 / 3 = 1.67, lost), R2 sc2 (4.0 / 2 = 2.0, won): (4 - 2) / 2 = 1
    assert (uniform["bets"], uniform["roi"]) == (2, pytest.approx(1.0))


def test_market_from_sp_removes_the_overround_proportionally():
    frame = hand_frame()
    market = market_from_sp(frame)
    # R1: 1/2.5 + 1/2.0 + 1/5.0 = 0.4 + 0.5 + 0.2 = 1.1 (10% overround) -> 0.4/1.1, 0.5/1.1, 0.2/1.1
    np.testing.assert_allclose(market[:3], [0.4 / 1.1, 0.5 / 1.1, 0.2 / 1.1])
    np.testing.assert_allclose(market.groupby(frame["race_code"]).sum(), [1.0, 1.0])
    scored = metrics_by_source(frame.assign(market=market))["market"]
    # winners 0.5/1.1 and 0.25/(0.6667 + 0.25): (0.788457 + 1.299283) / 2 = 1.043870
    assert scored["log_loss"] == pytest.approx((-math.log(0.5 / 1.1) - math.log(0.25 / (1 / 1.5 + 0.25))) / 2)
    # the market at SP never beats its own price by 10%: no bets, ROI None
    assert (scored["bets"], scored["roi"]) == (0, None)


def test_a_race_missing_a_source_is_left_out_of_that_source_only():
    frame = hand_frame()
    frame.loc[3, "starting_price"] = np.nan  # R2 saddlecloth 1 without SP: no market for R2
    frame["market"] = market_from_sp(frame)
    assert frame.loc[frame["race_code"] == "7002", "market"].isna().all()
    scored = metrics_by_source(frame)
    assert scored["market"]["races"] == 1 and scored["blend"]["races"] == 2
    # McFadden on R1 only: 1 - ln(1.1/0.5) / ln 3
    assert scored["market"]["mcfadden_r2"] == pytest.approx(1 - math.log(1.1 / 0.5) / math.log(3))
    # a runner without SP is never backed: blend's only bet was R2 saddlecloth 1
    assert scored["blend"]["bets"] == 0 and scored["blend"]["roi"] is None


def test_on_common_races_every_source_is_scored_on_the_same_races():
    frame = hand_frame()
    frame.loc[3, "starting_price"] = np.nan  # no market for R2 (7002)
    frame["market"] = market_from_sp(frame)
    common = on_common_races(frame.assign(oracle=np.nan))  # a source absent everywhere is not waited for
    assert set(common["race_code"]) == {"7001"}
    assert {m["races"] for m in metrics_by_source(common).values()} == {1}


def test_a_source_with_no_complete_race_is_not_reported():
    frame = hand_frame().assign(oracle=np.nan)
    assert "oracle" not in metrics_by_source(frame)


def test_the_value_margin_is_a_parameter():
    # margin 0: R1 sc2's 0.5 x 2.0 = 1.0 is not > 1; R2 sc1's 1.2 is: still 1 bet
    assert metrics_by_source(hand_frame(), margin=0.0)["blend"]["bets"] == 1
    # margin 0.25: 1.2 < 1.25, no bet
    assert metrics_by_source(hand_frame(), margin=0.25)["blend"]["bets"] == 0


def test_log_loss_is_the_mean_of_minus_ln_p_winner():
    frame = hand_frame()
    assert log_loss(frame, frame["blend"].to_numpy()) == pytest.approx((-math.log(0.5) - math.log(0.2)) / 2)
    np.testing.assert_allclose(uniform_probabilities(frame), frame["uniform"])


def test_calibration_bins_sum_to_the_runner_count():
    probs = [0.05, 0.15, 0.12, 0.95, 1.0, np.nan]
    won = [False, True, False, True, True, False]
    table = calibration_table(probs, won, bins=10)
    assert table["runners"].sum() == 5  # the NaN left out
    assert list(table["bin"]) == ["[0.00, 0.10)", "[0.10, 0.20)", "[0.90, 1.00]"]
    # [0.10, 0.20): 0.15 and 0.12 -> mean 0.135, one winner of two
    middle = table.iloc[1]
    assert middle["mean_predicted"] == pytest.approx(0.135) and middle["observed_win_rate"] == 0.5
    # p = 1.0 lands in the last bin
    assert table.iloc[2]["runners"] == 2 and table.iloc[2]["observed_win_rate"] == 1.0
    frame = hand_frame()
    assert calibration_table(frame["blend"], frame["won"], bins=[0, 0.25, 0.5, 1])["runners"].sum() == len(
        frame
    )


def test_format_table_shows_every_source_and_metric():
    text = format_table(metrics_by_source(hand_frame()))
    for word in ["uniform", "stage1", "blend", "market", "oracle", *METRICS]:
        assert word in text
    assert "1.1513" in text  # blend's log loss
    assert format_table({}) == "no races evaluated"
