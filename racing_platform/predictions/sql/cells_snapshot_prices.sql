-- The market prices the stored snapshots of the cells ($days[i], $venues[i]) were priced with: re-pricing
-- a snapshot (a new model, a re-run) keeps the market as it was at the snapshot, since the odds table
-- keeps only each cell's latest prices.
SELECT DISTINCT p.meeting_date, p.venue_slug, p.race_code, p.saddlecloth, p.predicted_at, p.market_price
FROM predictions p
SEMI JOIN (SELECT unnest($days::DATE[]) AS meeting_date, unnest($venues::VARCHAR[]) AS venue_slug) c
    ON p.meeting_date = c.meeting_date AND p.venue_slug = c.venue_slug
WHERE p.market_price IS NOT NULL
