"""Moodle library behaviour the web-service functions and the seed helpers share (course, enrol, …)."""
