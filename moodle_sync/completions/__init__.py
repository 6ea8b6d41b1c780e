"""Completions pulled back from Moodle and turned into facts for reports and reminders."""
