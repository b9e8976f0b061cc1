-- Everything known only after the races of $day: every runner won, in no time, at the shortest price.
UPDATE results
SET finish_position = 1, margin_lengths = 0, starting_price = 1.01, prize_money_won = 1e6,
    position_at_800 = 1, position_at_400 = 1, winning_time_s = 1
WHERE meeting_date = $day AND finish_position IS NOT NULL;

UPDATE races
SET winning_time_s = 1, sectional_800_s = 1, sectional_800_400_s = 1, sectional_400_finish_s = 1,
    race_status = 'Abandoned'
WHERE meeting_date = $day;

-- The day's own career starts: every runner won by ten lengths at the shortest price.
UPDATE horse_starts
SET finish_position = 1, margin_lengths = 10, starting_price = 1.01
WHERE race_date = $day AND NOT scratched;
