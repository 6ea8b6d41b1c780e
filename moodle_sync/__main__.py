"""`python -m moodle_sync` runs the command line."""
from moodle_sync.entry import main

main()
