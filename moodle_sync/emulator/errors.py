"""Moodle's error bodies: the exception raised inside the emulator and the constructors for each kind.

Shapes and texts follow ws-reference.md §1.5 and the recorded answers in contract-4.3.json.
"""

from __future__ import annotations

from collections.abc import Mapping

from moodle_sync.emulator.strings import capability_name, get_string


class MoodleError(Exception):
    """An exception as Moodle's REST server reports it: ``{exception, errorcode, message[, debuginfo]}``."""

    def __init__(self, exception: str, errorcode: str | None, message: str, debuginfo: str | None = None) -> None:
        super().__init__(message)
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo

    def body(self, *, debug: bool) -> dict[str, str]:
        """The JSON object Moodle sends; key order as recorded (exception, errorcode, message)."""
        out = {"exception": self.exception}
        if self.errorcode is not None:
            out["errorcode"] = self.errorcode
        out["message"] = self.message
        # debuginfo only when the site has debugging on (webservice/rest/locallib.php generate_error)
        if debug and self.debuginfo is not None:
            out["debuginfo"] = self.debuginfo
        return out

    def __repr__(self) -> str:
        return f"MoodleError({self.exception!r}, {self.errorcode!r}, {self.message!r}, {self.debuginfo!r})"


def moodle_exception(errorcode: str, module: str = "error", a: object = None,
                     debuginfo: str | None = None, exception: str = "moodle_exception") -> MoodleError:
    """``new moodle_exception($errorcode, $module, '', $a, $debuginfo)``; unknown strings read ``module/code``."""
    return MoodleError(exception, errorcode, get_string(errorcode, module, a), debuginfo)


def invalid_parameter(debuginfo: str) -> MoodleError:
    """``invalid_parameter_exception``: the text only ever reaches debuginfo (ws-reference.md §1.3)."""
    return MoodleError("invalid_parameter_exception", "invalidparameter", "Invalid parameter value detected",
                       debuginfo)


def missing_record(table: str, debuginfo: str | None = None) -> MoodleError:
    """``dml_missing_record_exception`` for a MUST_EXIST lookup (contract step 'delete missing cohort')."""
    return MoodleError("dml_missing_record_exception", "invalidrecord",
                       f"Can't find data record in database table {table}.",
                       debuginfo if debuginfo is not None else f"SELECT * FROM {{{table}}} WHERE ...")


def required_capability(capability: str) -> MoodleError:
    """``required_capability_exception``: the message names the capability in words."""
    return MoodleError("required_capability_exception", "nopermissions",
                       get_string("nopermissions", "error", capability_name(capability)))


def access_exception(debuginfo: str) -> MoodleError:
    """``webservice_access_exception``: function not in the token's service, expired token, …"""
    return MoodleError("webservice_access_exception", "accessexception", "Access control exception", debuginfo)


def coding_exception(hint: str, debuginfo: str | None = None) -> MoodleError:
    return MoodleError("coding_exception", "codingerror", get_string("codingerror", "debug", hint), debuginfo)


def invalid_response(debuginfo: str) -> MoodleError:
    """The function returned data its own return description rejects (an emulator bug if it ever shows)."""
    return MoodleError("invalid_response_exception", "invalidresponse", "Invalid response value detected", debuginfo)


def context_error(kind: str, instance_id: object, cause: MoodleError) -> MoodleError:
    """``errorcatcontextnotvalid`` / ``errorcoursecontextnotvalid`` wrapping a validate_context() failure."""
    if kind == "category":
        return moodle_exception("errorcatcontextnotvalid", "webservice",
                                {"catid": instance_id, "message": cause.message})
    return moodle_exception("errorcoursecontextnotvalid", "webservice",
                            {"courseid": instance_id, "message": cause.message})


def error_from_body(body: Mapping[str, str]) -> MoodleError:
    """Turn a recorded error body back into an exception (used by the "exception" fault)."""
    return MoodleError(body.get("exception", "moodle_exception"), body.get("errorcode"), body.get("message", ""),
                       body.get("debuginfo"))
