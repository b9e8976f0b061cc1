-- Runners of resulted races dated in [$since, $cutoff) with their features, the label, and the market:
-- the $provider's last stored win price (for a race already run, its price at the jump), as the blend
-- sees it before a race. Ordered by race so CatBoost's per-race groups are contiguous.
WITH latest_price AS (
    SELECT race_code, saddlecloth, arg_max(win_price, fetched_at) AS market_price
    FROM odds
    WHERE provider_code = $provider AND meeting_date >= $since AND meeting_date < $cutoff
    GROUP BY race_code, saddlecloth
)
SELECT f.*, (r.finish_position = 1) AS won, r.starting_price, p.market_price
FROM runner_features f
JOIN results r ON r.race_code = f.race_code AND r.horse_code = f.horse_code
LEFT JOIN latest_price p ON p.race_code = f.race_code AND p.saddlecloth = f.saddlecloth
WHERE f.meeting_date >= $since AND f.meeting_date < $cutoff
  AND NOT f.scratched AND r.finish_position IS NOT NULL
  -- one winner: a dead heat is no conditional-logit outcome
  AND f.race_code IN (SELECT race_code FROM results WHERE finish_position = 1 GROUP BY race_code HAVING count(*) = 1)
ORDER BY f.meeting_date, f.race_code, f.saddlecloth
