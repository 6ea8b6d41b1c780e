"""`moodle-sync serve`: the county hubs' web portal (Swedish, server-rendered, no script) and the admins'
scheduled sync, in one process. The portal reaches the sync only through the jobs (moodle_sync/jobs/: sync,
pull, reports, sessions, the roster import), with one Scope per county page (web.county_for); roster imports
go through one adapter, :mod:`moodle_sync.portal.rosters`.
"""
