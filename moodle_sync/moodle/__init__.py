"""moodle."""
