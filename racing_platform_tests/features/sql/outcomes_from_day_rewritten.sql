-- Every result dated $day or later says something else: winners lose, losers win, margins and prices change.
UPDATE results
SET finish_position = CASE WHEN finish_position = 1 THEN 2 ELSE 1 END,
    margin_lengths = 30 - coalesce(margin_lengths, 0),
    starting_price = 1.01
WHERE meeting_date >= $day AND finish_position IS NOT NULL;
