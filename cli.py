"""Thin entry point: `python cli.py ...` is the same as `moodle-sync ...`."""
from moodle_sync.entry import main

main()
