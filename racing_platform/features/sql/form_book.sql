-- The form book as of $day: the key columns of every form line dated before it, which
-- contracts.FormBookSchema judges (one line per runner and race, each race code in one cell).
SELECT meeting_date, venue_slug, meet_code, race_code, horse_code, finish_position
FROM form_lines
WHERE meeting_date < $day
