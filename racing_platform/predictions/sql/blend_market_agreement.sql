-- How the blend and stage 1 follow the market on $day's races as priced before their jumps (the table
-- macro latest_predictions): the correlation of their log-probabilities with the market's over the
-- runners the provider prices.
SELECT corr(ln(win_probability), ln(market_probability)) AS blend_market_log_correlation,
       corr(ln(stage1_probability), ln(market_probability)) AS stage1_market_log_correlation,
       count(DISTINCT race_code) AS races,
       count(*) AS runners
FROM latest_predictions($day, $day)
WHERE market_probability > 0
