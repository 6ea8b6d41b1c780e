"""moodle-sync: keep a Moodle site in step with versioned course specs in git."""

__version__ = "0.1.0"
