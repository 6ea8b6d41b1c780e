"""The web-service functions the emulator implements, one module per area (courses, cohorts, …).

Importing this package fills functions.registry.REGISTRY.
"""

from moodle_sync.emulator.functions import (  # noqa: F401 - imported for their @implements registrations
    categories,
    cohorts,
    completion,
    courses,
    enrol,
    groups,
    messages,
    reportbuilder,
    site,
    users,
)
