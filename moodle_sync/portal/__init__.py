"""`moodle-sync serve`: the county hubs' web portal (Swedish, server-rendered, no script) and the admins'
scheduled sync, in one process. The portal reaches the sync only through the library (engine, reports,
sessions); roster imports go through one adapter, :mod:`moodle_sync.portal.rosters`.
"""
