"""How a run writes to Moodle, below the plans it applies: one batch sender, settling unknown outcomes, batches
side by side, the run's record and its phases, and one sync at a time.

send.py      send_bisecting(): the one batch sender every write goes through (a refused call split until the
             refused item is named; an unknown outcome handed on, never blindly re-sent)
settle.py    settle(): re-read Moodle after a write with an unknown outcome (one wait: LOST_ANSWER_WAIT)
parallel.py  run_parallel(): independent batches side by side within ``workers``, results merged in one thread
runs.py      recorded_run(): a run record closed on every way out; partial runs exit 3
phases.py    PhaseClock: calls, items and wall time per phase of a run (``-v``)
synclock.py  one sync at a time: an fcntl lock beside the state store

Nothing here knows a plan or an action: reconcile, rosters, sessions, completions and the portal use these, and
jobs/recorded.py (a plan applied through the one Applier inside a recorded run) sits above them all. The package
imports none of its modules, so loading one loads only what it needs.
"""
