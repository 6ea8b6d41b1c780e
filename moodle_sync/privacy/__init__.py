"""Personal data over time: retention and purge (retention.py, purge.py), the anonymous facts reports keep of
people no longer held (kept.py), a person's own records and their erasure (person.py), and the scrubbing of
text and freed database pages both share (scrub.py)."""
