"""The Emulator: one in-memory Moodle site (4.3 or 4.5) behind ``handle()``, webservice/rest/server.php's pipeline.

handle() parses like PHP, checks token and function, validates against the signature, runs the function
in a transaction and answers as Moodle does; used in-process by the client and by the loopback server.
"""

from __future__ import annotations

import copy
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from moodle_sync import clock
from moodle_sync.emulator import functions as _functions  # noqa: F401 - registers the implementations
from moodle_sync.emulator import givens
from moodle_sync.emulator.errors import (
    MoodleError,
    access_exception,
    error_from_body,
    invalid_parameter,
    missing_record,
    moodle_exception,
)
from moodle_sync.emulator.faults import Fault, FaultSet, SimulatedCrash
from moodle_sync.emulator.functions.registry import REGISTRY, Call
from moodle_sync.emulator.model.records import CONTEXT_COURSECAT, CourseField, LastAccess
from moodle_sync.emulator.model.state import ADMIN_ID, SYSCONTEXTID, State
from moodle_sync.emulator.moodlelib import categorylib, cohortlib, completionlib, courselib, enrollib, grouplib, userlib
from moodle_sync.emulator.paramtypes import clean_param
from moodle_sync.emulator.phpform import PhpArray, parse_query
from moodle_sync.emulator.rendering import render_error, render_result, response_headers
from moodle_sync.emulator.signatures import known_functions, signatures
from moodle_sync.emulator.tokens import Token
from moodle_sync.emulator.validation import clean_returnvalue, validate_parameters
from moodle_sync.emulator.versions import DEFAULT_MOODLE, moodle_version

REST_PATH = "/webservice/rest/server.php"
# The recorded site's wwwroot. Answers embed it (course images, module icons …) and the contract scorer
# compares some of those URLs literally (e.g. "modicon" in 'course contents'), so it is the default;
# like any Moodle behind a proxy, the wwwroot need not be the address the server listens on.
RECORDED_SITE_URL = "http://127.0.0.1:8081"
_NOT_FOUND = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
_ACCESS_DEBUG = ("Access to the function {0}() is not allowed.\nThere could be multiple reasons for this:\n"
                 "1. The service linked to the user token does not contain the function.\n"
                 "2. The service is user-restricted and the user is not listed.\n"
                 "3. The service is IP-restricted and the user IP is not listed.\n"
                 "4. The service is time-restricted and the time has expired.\n"
                 "5. The token is time-restricted and the time has expired.\n"
                 "6. The service requires a specific capability which the user does not have.\n"
                 "7. The function is called with username/password (no user token is sent)\n"
                 "and one of the 2, 3 or 6 conditions above is not met.\n"
                 "8. The service is not enabled.")

Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Checkpoint:
    """A copy of a whole emulated site, taken by ``Emulator.checkpoint()`` and put back by ``restore()``."""

    state: State
    tokens: dict[str, Token]
    calls: tuple[str, ...]


class Emulator:
    """An in-memory Moodle site speaking the REST web-service protocol.

    Args:
        token: registered as a site-admin token whose service holds every implemented function.
        debug: add ``debuginfo`` to error bodies, as a site with debugging on does.
        site_url: the site's wwwroot as answers show it (siteurl, image and activity URLs); by default the
            recorded site's, whatever address the emulator is served on.
        now: the clock (Unix seconds) for timecreated/timemodified and enrolment dates.
        moodle: the version imitated, "4.3" or "4.5": its declared functions and signatures (what answers
            hold), exception names and defaults (see versions.py).

    Raises:
        ValueError: ``moodle`` is not a version the emulator imitates.
    """

    def __init__(self, *, token: str | None = None, debug: bool = False, site_url: str = RECORDED_SITE_URL,
                 now: Callable[[], int] | None = None, moodle: str = DEFAULT_MOODLE) -> None:
        self.moodle = moodle_version(moodle)
        self.debug = debug
        self.site_url = site_url.rstrip("/")
        self.now: Callable[[], int] = now or clock.epoch
        self.state = State(self.now(), self.moodle)
        self.faults = FaultSet()
        self.calls: list[str] = []
        self.max_input_vars = 5000  # PHP drops request variables past this (Moodle requires >= 5000 on PHP 8)
        self.lock = threading.RLock()
        self._tokens: dict[str, Token] = {}
        if token is not None:
            self.add_token(token)

    # --- tokens and counters -----------------------------------------------------------------------
    def add_token(self, token: str, *, functions: Iterable[str] | None = None,
                  capabilities: Iterable[str] | None = None, userid: int = ADMIN_ID) -> None:
        """Register a token; ``functions`` None means every implemented function, ``capabilities`` None a site admin."""
        with self.lock:
            self._tokens[token] = Token(token, frozenset(functions) if functions is not None else None,
                                        frozenset(capabilities) if capabilities is not None else None, userid)

    def call_counts(self) -> Counter[str]:
        """How often each wsfunction was executed."""
        with self.lock:
            return Counter(self.calls)

    def write_calls(self) -> int:
        """How many executed calls were of functions whose signature type is "write"."""
        sigs = signatures(self.moodle.name)
        with self.lock:
            return sum(1 for name in self.calls if name in sigs and sigs[name].type == "write")

    # --- the request pipeline ----------------------------------------------------------------------
    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Answer one HTTP request: (status, headers, body).

        Raises:
            ConnectionRefusedError: a "refuse" fault (the call did not run).
            ConnectionResetError: a "lost" fault (the call ran, the answer is lost).
            SimulatedCrash: a "crash" fault (the call ran, then the client 'died').
        """
        parts = urlsplit(url)
        if not parts.path.endswith(REST_PATH):
            return 404, {"Content-Type": "text/html; charset=utf-8"}, _NOT_FOUND
        if method.upper() not in ("GET", "POST"):
            return 405, {"Content-Type": "text/plain; charset=utf-8", "Allow": "GET, POST"}, b"Method Not Allowed"
        get = parse_query(parts.query, self.max_input_vars)
        post: PhpArray = {}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if method.upper() == "POST" and (not content_type or "x-www-form-urlencoded" in content_type.lower()):
            post = parse_query(body or b"", self.max_input_vars)
        settings = {}
        for source in (get, post):
            for name in ("raw", "fileurl", "filter", "lang", "timezone"):
                # moodlewssetting* are read and removed before the function sees the parameters
                value = source.pop(f"moodlewssetting{name}", None)
                if value is not None:
                    settings[name] = value
        params: PhpArray = {**get, **post}  # array_merge($_GET, $_POST): POST wins
        fmt = "json" if params.pop("moodlewsrestformat", None) == "json" else "xml"
        token = params.pop("wstoken", None)
        wsfunction = params.pop("wsfunction", None)
        name = wsfunction if isinstance(wsfunction, str) else ""

        fired = self.faults.fire(name)
        delay = sum(f.seconds for f in fired if f.kind == "latency")
        if delay:
            time.sleep(delay)  # outside the lock: other requests go on meanwhile
        fault = next((f for f in fired if f.kind != "latency"), None)
        if fault is not None and fault.kind in ("http", "refuse", "exception") and not fault.ran:
            return self._fault_answer(fault, fmt, name)
        try:
            raw = clean_param(settings.get("raw", 0), "bool") == 1  # optional_param(…, PARAM_BOOL)
            timezone = str(settings.get("timezone", "") or "")
            response = self._execute(token, wsfunction, params, fmt, raw=raw, timezone=timezone)
        except Exception:  # an emulator bug: answer like a crashed PHP page, never kill the server thread
            return 500, {"Content-Type": "text/plain; charset=utf-8"}, traceback.format_exc().encode()
        if fault is not None and fault.kind == "lost":
            raise ConnectionResetError(f"emulated fault: the answer to {name} was lost")
        if fault is not None and fault.kind == "crash":
            raise SimulatedCrash(f"emulated fault: the client died after {name} reached Moodle")
        if fault is not None and fault.kind == "http":  # ran=True: a proxy's page replaces Moodle's answer
            return self._fault_answer(fault, fmt, name)
        return response

    def _fault_answer(self, fault: Fault, fmt: str, name: str) -> Response:
        if fault.kind == "refuse":
            raise ConnectionRefusedError(f"emulated fault: connection refused ({name})")
        if fault.kind == "exception":
            assert fault.error is not None
            ctype, text = render_error(error_from_body(fault.error), fmt, debug=self.debug)
            return 200, response_headers(ctype), text.encode("utf-8")
        headers = {"Content-Type": "text/html; charset=utf-8", **(fault.headers or {})}
        return fault.status, headers, fault.body.encode("utf-8")

    def _execute(self, token: object, wsfunction: object, params: PhpArray, fmt: str, *, raw: bool,
                 timezone: str = "") -> Response:
        with self.lock:
            try:
                tok = self._tokens.get(token) if isinstance(token, str) else None
                if tok is None:
                    raise moodle_exception("invalidtoken", "webservice")
                user = self.state.users.get(tok.userid)
                if user is None or user.deleted:
                    # webservice/lib.php: the message names the deleted user's (scrambled) username
                    raise moodle_exception("wsaccessuserdeleted", "webservice",
                                           user.username if user is not None else tok.userid)
                if not isinstance(wsfunction, str) or not wsfunction:
                    raise invalid_parameter("Missing function name")
                if wsfunction == givens.GIVEN_FUNCTION:  # not a Moodle function: tests and the demo only
                    return self._given(params, fmt, user.id)
                if wsfunction not in known_functions(self.moodle.name):
                    raise missing_record("external_functions")
                impl = REGISTRY.get(wsfunction)
                sig = signatures(self.moodle.name).get(wsfunction)
                if impl is None or sig is None or not tok.allows(wsfunction):
                    raise access_exception(_ACCESS_DEBUG.format(wsfunction))
                # counted once the call reaches the function (it may still fail validation or its own checks)
                self.calls.append(wsfunction)
                validated = validate_parameters(sig.parameters, params, self.state.config.env)
                call = Call(self.state, self.now(), tok, user, self.site_url, wsfunction, raw, timezone)
                if impl.atomic:
                    with self.state.journal.transaction():
                        result = impl.handler(call, validated)
                else:
                    result = impl.handler(call, validated)
                # a function without a return description answers the literal null
                cleaned = None if sig.returns is None else clean_returnvalue(sig.returns, result, self.state.config.env)
                ctype, text = render_result(cleaned, sig.returns, fmt)
            except MoodleError as e:
                e.exception = self.moodle.exception_name(e.exception)
                ctype, text = render_error(e, fmt, debug=self.debug)
            return 200, response_headers(ctype), text.encode("utf-8")

    def _given(self, params: PhpArray, fmt: str, userid: int) -> Response:
        """``emulator_given``: carry out one given of a recorded contract (see givens.py), answering {"id": N}."""
        validated = validate_parameters(givens.PARAMETERS, params, self.state.config.env)
        with self.state.journal.transaction():
            result = givens.answer(self.state, self.now(), userid, validated)
        ctype, text = render_result(clean_returnvalue(givens.RETURNS, result, self.state.config.env), givens.RETURNS,
                                    fmt)
        return 200, response_headers(ctype), text.encode("utf-8")

    # --- seeding (tests and the demo) --------------------------------------------------------------
    def given(self, given: Mapping[str, Any]) -> int:
        """Set up what a site admin does once in the UI (a template course, a custom report; see givens.py).

        Raises:
            MoodleError: the given is not one the emulator can set up.
        """
        with self.lock, self.state.journal.transaction():
            return givens.carry_out(self.state, self.now(), ADMIN_ID, given)

    def add_category(self, name: str, idnumber: str | None = None, parent: int = 0, *, description: str = "",
                     descriptionformat: int = 1, visible: int | None = None) -> int:
        """A course category, last among its siblings; returns its id (no idnumber: NULL, as the UI may leave it)."""
        with self.lock:
            return categorylib.create_category(self.state, self.now(), name=name, parent=parent, idnumber=idnumber,
                                               description=description, descriptionformat=descriptionformat,
                                               visible=visible).id

    def add_course(self, fullname: str, shortname: str, categoryid: int, idnumber: str = "", *, visible: int = 1,
                   summary: str = "", summaryformat: int = 1, format: str = "topics", numsections: int | None = None,
                   startdate: int = 0,
                   enddate: int = 0, enablecompletion: int = 1, lang: str = "",
                   modules: Sequence[Mapping[str, Any]] | None = None, completion_criteria: bool = False,
                   customfields: Mapping[str, str] | None = None) -> int:
        """A course as create_courses makes it, plus activities and (optionally) activity completion criteria.

        Args:
            modules: activities, each ``{"name", "modname", "idnumber"?, "section"?, "completion"?,
                "completionview"?, "visible"?}`` (completion 0 none, 1 manual, 2 automatic).
            completion_criteria: one activity criterion per module with completion on, aggregation "all".
        """
        modules = list(modules or [])
        if numsections is None:
            numsections = max([int(m.get("section", 1)) for m in modules] or [0])
        with self.lock, self.state.journal.transaction():
            now = self.now()
            course = courselib.create_course(self.state, now, {
                "fullname": fullname, "shortname": shortname, "category": categoryid, "idnumber": idnumber,
                "visible": visible, "summary": summary, "summaryformat": summaryformat, "format": format,
                "numsections": numsections,
                "startdate": startdate, "enddate": enddate, "enablecompletion": enablecompletion, "lang": lang,
                "customfields": dict(customfields or {})})
            for m in modules:
                completion = int(m.get("completion", 0))
                cm = courselib.add_module(
                    self.state, now, course.id, str(m.get("modname", "page")), str(m["name"]), int(m.get("section", 1)),
                    idnumber=str(m.get("idnumber", "")), completion=completion,
                    completionview=int(m.get("completionview", 1 if completion == 2 else 0)),
                    visible=int(m.get("visible", 1)))
                if completion_criteria and completion:
                    completionlib.add_activity_criterion(self.state, course, cm)
            return course.id

    def add_course_customfield(self, shortname: str, name: str, type: str = "text", *,
                               options: Sequence[str] = (), visibility: int = 2, defaultvalue: str = "") -> int:
        """Define a course custom field (no web service can; ws-reference.md §2.3)."""
        with self.lock:
            field = self.state.course_fields.insert(CourseField(self.state.course_fields.new_id(), shortname, name,
                                                                type, tuple(options), visibility, defaultvalue))
            return field.id

    def add_user(self, username: str, firstname: str, lastname: str, email: str, idnumber: str = "", *,
                 auth: str = "manual", password: str = "", suspended: int = 0, lang: str = "en",
                 department: str = "", institution: str = "", city: str = "") -> int:
        """A confirmed user (no checks: seeds may hold what a site may hold); returns its id."""
        with self.lock:
            return userlib.create_user(self.state, self.now(), {
                "username": username, "firstname": firstname, "lastname": lastname, "email": email,
                "idnumber": idnumber, "auth": auth, "password": password, "suspended": suspended, "lang": lang,
                "department": department, "institution": institution, "city": city}).id

    def enrol_user(self, courseid: int, userid: int, roleid: int = 5, *, timestart: int = 0, timeend: int = 0,
                   suspended: bool = False) -> None:
        """Enrol through the course's manual instance, as enrol_manual_enrol_users would."""
        with self.lock:
            instance = enrollib.manual_instance(self.state, courseid, enabled_only=False)
            if instance is None:
                raise ValueError(f"course {courseid} has no manual enrolment instance")
            enrollib.enrol_user(self.state, self.now(), instance, userid, roleid, timestart, timeend,
                                int(suspended), ADMIN_ID)

    def self_enrol(self, courseid: int, userid: int) -> None:
        """The person enrols themselves, as enrol_self_plugin::enrol_self() does (enrol/self/lib.php): through the
        course's self enrolment instance (turned on first, as a teacher does), with the instance's role, from now
        on and without end (no enrolment period). The manual instance is not touched."""
        with self.lock:
            instance = next((i for i in enrollib.instances_of(self.state, courseid, enabled_only=False)
                             if i.enrol == "self"), None)
            if instance is None:
                raise ValueError(f"course {courseid} has no self enrolment instance")
            if instance.status != enrollib.ENROL_INSTANCE_ENABLED:
                instance = self.state.enrol.update(instance, status=enrollib.ENROL_INSTANCE_ENABLED)
            now = self.now()
            enrollib.enrol_user(self.state, now, instance, userid, instance.roleid, now, 0,
                                enrollib.ENROL_USER_ACTIVE, userid)

    def add_cohort(self, name: str, idnumber: str | None, *, categoryid: int | None = None, description: str = "",
                   visible: bool = True) -> int:
        """A cohort in the system context, or in a category's context."""
        with self.lock:
            contextid = SYSCONTEXTID
            if categoryid is not None:
                ctx = self.state.context_of(CONTEXT_COURSECAT, categoryid)
                if ctx is None:
                    raise ValueError(f"no category {categoryid}")
                contextid = ctx.id
            return cohortlib.add_cohort(self.state, self.now(), contextid=contextid, name=name, idnumber=idnumber,
                                        description=description, visible=int(visible)).id

    def add_cohort_member(self, cohortid: int, userid: int) -> None:
        with self.lock:
            cohortlib.add_member(self.state, self.now(), cohortid, userid)

    def add_group(self, courseid: int, name: str, idnumber: str = "") -> int:
        with self.lock:
            return grouplib.create_group(self.state, self.now(), courseid=courseid, name=name, idnumber=idnumber).id

    def add_group_member(self, groupid: int, userid: int) -> None:
        with self.lock:
            grouplib.add_member(self.state, self.now(), groupid, userid)

    def set_activity_completion(self, cmid: int, userid: int, state: int = 1, timecompleted: int | None = None,
                                *, overrideby: int | None = None) -> None:
        """Set a user's completion state of an activity; course criteria and completion follow live."""
        with self.lock:
            cm = self.state.modules.rows[cmid]
            completionlib.set_module_state(self.state, self.now(), cm, userid, state, overrideby, timecompleted)

    def set_course_completion(self, courseid: int, userid: int, timecompleted: int | None) -> None:
        """Set (or with None clear) a user's course completion time directly."""
        with self.lock:
            completionlib.set_course_completion(self.state, courseid, userid, timecompleted)

    def set_last_course_access(self, courseid: int, userid: int, t: int) -> None:
        """Record a visit: user_lastaccess for the course, and the site-wide first/last access."""
        with self.lock:
            state = self.state
            row = state.lastaccess.first_by("user_course", (userid, courseid))
            if row is None:
                state.lastaccess.insert(LastAccess(state.lastaccess.new_id(), userid, courseid, t))
            else:
                state.lastaccess.update(row, timeaccess=t)
            user = state.users.rows[userid]
            state.users.update(user, lastaccess=max(user.lastaccess, t), firstaccess=user.firstaccess or t)

    def course_modules(self, courseid: int) -> list[dict[str, Any]]:
        """The course's activities in course order, as plain dicts (id, modname, name, idnumber, completion …)."""
        with self.lock:
            return [{"id": cm.id, "modname": cm.modname, "name": cm.name, "idnumber": cm.idnumber,
                     "section": self.state.sections.rows[cm.section].section, "completion": cm.completion,
                     "instance": cm.instance}
                    for cm in courselib.modules_in_order(self.state, courseid)]

    def enrolment(self, courseid: int, userid: int) -> dict[str, int] | None:
        """The user's manual enrolment in the course (status, timestart, timeend), or None."""
        with self.lock:
            instance = enrollib.manual_instance(self.state, courseid, enabled_only=False)
            ue = self.state.user_enrolments.first_by("enrol_user", (instance.id, userid)) if instance else None
            if ue is None:
                return None
            return {"status": ue.status, "timestart": ue.timestart, "timeend": ue.timeend}

    def snapshot(self) -> dict[str, Any]:
        """Every table as plain data, for comparing two runs."""
        with self.lock:
            return self.state.snapshot()

    # --- checkpoints -------------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """A copy of the site as it is now (tables, settings, tokens and the calls executed so far); faults are
        not part of it. Tests take one before a crash point and ``restore()`` it for each crash instead of
        building the site again call by call."""
        with self.lock:
            return Checkpoint(copy.deepcopy(self.state), copy.deepcopy(self._tokens), tuple(self.calls))

    def restore(self, saved: Checkpoint) -> None:
        """Put the site back as it was at ``saved`` (which stays as it is, to be restored again)."""
        with self.lock:
            self.state = copy.deepcopy(saved.state)
            self._tokens = copy.deepcopy(saved.tokens)
            self.calls = list(saved.calls)


__all__ = ["Checkpoint", "Emulator", "Fault", "SimulatedCrash"]
