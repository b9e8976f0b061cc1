-- Tracked race meetings in [$since, $day) that have no form lines yet: history the features miss. A
-- meeting whose stored races were all abandoned has no form to miss.
SELECT m.meeting_date, m.venue_slug, m.meet_code
FROM meetings m
WHERE m.tracked AND NOT m.is_trial AND NOT m.is_jumpout
  AND m.meeting_date >= $since AND m.meeting_date < $day
  AND NOT EXISTS (SELECT 1 FROM form_lines f WHERE f.meet_code = m.meet_code)
  AND NOT EXISTS (
      SELECT 1 FROM races r
      WHERE r.meet_code = m.meet_code AND r.meeting_date = m.meeting_date
      GROUP BY ALL
      HAVING bool_and(coalesce(r.race_status, '') = 'Abandoned')
  )
ORDER BY ALL
