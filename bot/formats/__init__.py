"""Output formats: calendar (.ics), badges, schedules, tables, match reasons."""
