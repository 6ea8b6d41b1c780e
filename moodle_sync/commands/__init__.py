"""The command line's commands, by what they do; moodle_sync/cli.py gathers them in the `moodle-sync` group."""
