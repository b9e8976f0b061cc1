"""Vectorised per-race operations on flat arrays sorted by race (a race is a contiguous segment)."""

from __future__ import annotations

import numpy as np


def segment_bounds(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start index, length) of each run of equal values in a sorted group array."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.empty(len(group), dtype=bool)
    change[0] = True
    np.not_equal(group[1:], group[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    lengths = np.diff(starts, append=len(group))
    return starts, lengths


def rank_within(group: np.ndarray) -> np.ndarray:
    """0-based position of each element inside its segment (group must be sorted)."""
    starts, lengths = segment_bounds(group)
    return np.arange(len(group)) - np.repeat(starts, lengths)


def segment_softmax(score: np.ndarray, group: np.ndarray) -> np.ndarray:
    starts, lengths = segment_bounds(group)
    if len(score) == 0:
        return score.astype(float)
    peak = np.repeat(np.maximum.reduceat(score, starts), lengths)
    weight = np.exp(score - peak)
    return weight / np.repeat(np.add.reduceat(weight, starts), lengths)


def segment_sum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per-segment sum broadcast back to each element."""
    starts, lengths = segment_bounds(group)
    if len(values) == 0:
        return values.astype(float)
    return np.repeat(np.add.reduceat(values, starts), lengths)


def segment_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sum inside each segment, in array order (inclusive)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    starts, lengths = segment_bounds(group)
    total = np.cumsum(values)
    before = np.repeat(total[starts] - values[starts], lengths)
    return total - before


def group_sum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per-group sum broadcast back; groups need not be contiguous."""
    if len(values) == 0:
        return np.asarray(values, dtype=float)
    _, inverse = np.unique(group, return_inverse=True)
    return np.bincount(inverse, weights=np.asarray(values, dtype=float))[inverse]


def rank_by(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """0-based rank of key (ascending) inside its group; groups need not be contiguous."""
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((key, group))
    ranks = np.empty(len(key), dtype=np.int64)
    ranks[order] = rank_within(group[order])
    return ranks


def group_max(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per-group maximum broadcast back; groups need not be contiguous."""
    if len(values) == 0:
        return np.asarray(values, dtype=float)
    uniques, inverse = np.unique(group, return_inverse=True)
    out = np.full(len(uniques), -np.inf)
    np.maximum.at(out, inverse, values)
    return out[inverse]
