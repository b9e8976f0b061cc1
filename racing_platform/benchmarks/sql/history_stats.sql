-- What the synthetic history looks like: rows and distinct horses, jockeys, trainers and races.
SELECT
    count(*) AS form_lines,
    count(DISTINCT horse_code) AS horses,
    count(DISTINCT jockey_code) AS jockeys,
    count(DISTINCT trainer_code) AS trainers,
    count(DISTINCT race_code) AS races
FROM form_lines
