"""How a web-service function is implemented: the Call it receives and the @implements registry.

Handlers get parameters already checked against the signature (validate_parameters) and return plain
data that the dispatcher cleans with the signature's return description.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moodle_sync.emulator.errors import MoodleError, context_error, invalid_parameter, required_capability
from moodle_sync.emulator.model.records import Category, Course, User
from moodle_sync.emulator.model.state import State
from moodle_sync.emulator.paramtypes import Environment
from moodle_sync.emulator.tokens import Token

Params = dict[str, Any]


@dataclass
class Call:
    """One executing call: the site, the clock, who calls, and the request's output settings."""

    state: State
    now: int
    token: Token
    user: User
    site_url: str
    wsfunction: str
    raw: bool = False  # moodlewssettingraw=1: names and texts unformatted
    #: moodlewssettingtimezone: the caller's timezone for this request; webservice/lib.php run() sets
    #: $USER->timezone to it only when the site forces no timezone
    timezone: str = ""

    @property
    def env(self) -> Environment:
        return self.state.config.env

    def can(self, capability: str) -> bool:
        return self.token.has(capability)

    def require(self, capability: str) -> None:
        """require_capability(): a site-admin token passes every check."""
        if not self.token.has(capability):
            raise required_capability(capability)

    # validate_context() of a missing context fails with invalid_parameter_exception('Context does not exist')
    def course_context(self, courseid: int) -> Course:
        course = self.state.courses.get(courseid)
        if course is None:
            raise invalid_parameter("Context does not exist")
        return course

    def category_context(self, categoryid: int) -> Category:
        category = self.state.categories.get(categoryid)
        if category is None:
            raise invalid_parameter("Context does not exist")
        return category

    def course_or_context_error(self, courseid: int) -> Course:
        """validate_context() wrapped as 'errorcoursecontextnotvalid' (groups, enrolled users, …)."""
        try:
            return self.course_context(courseid)
        except MoodleError as e:
            raise context_error("course", courseid, e) from None


Handler = Callable[[Call, Params], Any]


@dataclass(frozen=True)
class Implementation:
    name: str
    handler: Handler
    atomic: bool  # True: the whole call is one transaction; False: items commit one by one


REGISTRY: dict[str, Implementation] = {}


def implements(name: str, *, atomic: bool = True) -> Callable[[Handler], Handler]:
    """Register a handler for ``name`` (its signature must exist in the packaged signature files)."""

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Implementation(name, handler, atomic)
        return handler

    return register
