"""The columns of runner_features, by where their values come from (kept apart from the code under test)."""

# Every column of runner_features, by where it comes from. A new column must be added to one group.
KEY_COLUMNS = [
    "meeting_date",
    "venue_slug",
    "meet_code",
    "race_code",
    "race_number",
    "horse_code",
    "horse_name",
]
CARD_COLUMNS = [
    "saddlecloth",
    "scratched",
    "distance_m",
    "class_rank",
    "track_condition",
    "track_rating",
    "field_size",
    "jockey_code",
    "trainer_code",
    "barrier",
    "barrier_rel",
    "barrier_rel_by_distance",
    "weight_kg",
    "claim_kg",
]
CONNECTION_COLUMNS = [
    "jockey_rides_365d",
    "jockey_win_rate_365d",
    "trainer_runners_365d",
    "trainer_win_rate_365d",
]
# The horse's own history: what a first starter cannot have.
NULL_WITHOUT_FORM = [
    "career_win_rate",
    "career_place_rate",
    "recent_win_rate",
    "recent_place_rate",
    "avg_norm_finish_last5",
    "norm_finish_last1",
    "norm_finish_last2",
    "norm_finish_last3",
    "margin_last1",
    "margin_last2",
    "margin_last3",
    "days_since_last_run",
    "class_change",
    "weight_change_kg",
    "distance_place_rate",
    "track_place_rate",
    "going_place_rate",
]
ZERO_WITHOUT_FORM = ["career_starts", "distance_starts", "track_starts", "going_starts"]
FALSE_WITHOUT_FORM = ["first_up", "second_up"]
