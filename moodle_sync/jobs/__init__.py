"""The jobs: one module per thing a person asks the tool to do, each the one place both its command
(moodle_sync/commands/) and the portal (moodle_sync/portal/) call.

- site.py: the Moodle connection (a hub's own token), the state store, the specs
- recorded.py: apply_recorded(), the one way any plan is applied: through the one Applier, in a recorded run
- sync.py: plan and apply the course specs (make_plan, apply; --hide-removed)
- roster_import.py: a county's roster previewed (the plan) and applied
- sessions.py: people placed in a session's group (assign)
- reminders.py: reminders planned and sent
- pull.py: completions pulled into the state store
- report.py: reports and the facts they count, within a scope
- doctor.py: the site's checks

A job is handed one :class:`~moodle_sync.scope.Scope`, made at the edge; below the jobs nothing compares
county codes itself, and nothing but a job applies a plan (tests/meta/test_jobs.py).
"""
