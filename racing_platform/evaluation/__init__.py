"""Evaluation: how good the prices are, against results, the market at SP and (on the simulator) the truth.

`metrics.py` defines every metric once (pure numpy/pandas); `truth.py` captures the simulator's
kept-aside true probabilities; `assets.py` holds `simulator_truth`, `daily_evaluation` and
`evaluation_summary` and the plain functions they call; `plots.py` draws the calibration plot.
Nothing here is imported by features or the model (docs/evaluation.md).
"""
