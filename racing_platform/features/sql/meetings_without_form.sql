-- Tracked race meetings in [$since, $day) that have no form lines yet: history the features miss.
SELECT m.meeting_date, m.venue_slug, m.meet_code
FROM meetings m
WHERE m.tracked AND NOT m.is_trial AND NOT m.is_jumpout
  AND m.meeting_date >= $since AND m.meeting_date < $day
  AND NOT EXISTS (SELECT 1 FROM form_lines f WHERE f.meet_code = m.meet_code)
ORDER BY ALL
