"""external_api::validate_parameters() and clean_returnvalue(), driven by the function signatures.

Parameters: unknown keys and missing required keys fail, defaults are filled, scalars must survive
their PARAM cleaner unchanged. Returns: keys not described are dropped and PARAM casts give the JSON types.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from moodle_sync.emulator.errors import MoodleError, invalid_parameter, invalid_response
from moodle_sync.emulator.paramtypes import DEFAULT_ENVIRONMENT, Environment, clean_param, php_str
from moodle_sync.emulator.signatures import DEFAULT, REQUIRED, Description, Single, Value

_FLOAT_TEXT = re.compile(r"^[+-]?[0-9]*\.?[0-9]*(e[-+]?[0-9]+)?$", re.I)


def _print_r(value: object) -> str:
    return php_str(value) if not isinstance(value, (dict, list)) else "Array"


def _php_type(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    return "string"


def _is_bool_value(value: object) -> bool:
    # external_api special case: only real bools and 0/1 (int or string) count as PARAM_BOOL
    return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)) or value in ("0", "1")


def validate_param(value: object, ptype: str, allownull: bool, debuginfo: str | Callable[[], str],
                   env: Environment = DEFAULT_ENVIRONMENT) -> object:
    """lib/moodlelib.php validate_param(): the value must equal its cleaned form, as strings. ``debuginfo`` may be
    given as a function: the message is then only made for a value that fails (every value of every answer passes
    through here)."""
    def refused() -> MoodleError:
        return invalid_parameter(debuginfo if isinstance(debuginfo, str) else debuginfo())

    if value is None:
        if allownull:
            return None
        raise refused()
    if isinstance(value, (dict, list)):
        raise refused()
    cleaned = clean_param(value, ptype, env)
    if ptype == "float":
        if not isinstance(value, (int, float)):
            text = php_str(value)
            try:
                float(text)
            except ValueError:
                raise refused() from None
            if not _FLOAT_TEXT.match(text):
                raise refused()
    elif php_str(value) != php_str(cleaned):
        raise refused()
    return cleaned


def _as_array(value: object) -> dict[Any, Any] | None:
    """PHP arrays come from the form parser as dicts; a JSON default may be a list."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return dict(enumerate(value))
    return None


def validate_parameters(desc: Description, value: object, env: Environment = DEFAULT_ENVIRONMENT) -> Any:
    """Check and clean request parameters; raises MoodleError(invalid_parameter_exception)."""
    if isinstance(desc, Value):
        if value is None and desc.allownull:
            return None
        if isinstance(value, (dict, list)):
            raise invalid_parameter("Scalar type expected, array or object received.")
        if desc.type == "bool" and _is_bool_value(value):
            return bool(int(php_str(value) or 0))
        def debuginfo(value: object = value, desc: Value = desc) -> str:
            return (f'Invalid external api parameter: the value is "{php_str(value)}", '
                    f'the server was expecting "{desc.type}" type')
        return validate_param(value, desc.type, desc.allownull, debuginfo, env)
    if isinstance(desc, Single):
        array = _as_array(value)
        if array is None:
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{_print_r(value)}'")
        result: dict[str, Any] = {}
        remaining = dict(array)
        for key, sub in desc.keys.items():
            if key not in remaining:
                if sub.required == REQUIRED:
                    raise invalid_parameter(f"Missing required key in single structure: {key}")
                if sub.required == DEFAULT:
                    result[key] = _nested(key, lambda s=sub: validate_parameters(s, s.default, env))
            else:
                result[key] = _nested(key, lambda s=sub, k=key: validate_parameters(s, remaining[k], env))
                del remaining[key]
        if remaining:
            keys = ", ".join(str(k) for k in remaining)
            raise invalid_parameter(f"Unexpected keys ({keys}) detected in parameter array.")
        return result
    array = _as_array(value)
    if array is None:
        raise invalid_parameter(f"Only arrays accepted. The bad value is: '{_print_r(value)}'")
    # external_multiple_structure ignores the list indices and keeps the order they arrived in
    return [validate_parameters(desc.content, item, env) for item in array.values()]


def _nested(key: str, run: Any) -> Any:
    try:
        return run()
    except MoodleError as e:
        if e.exception != "invalid_parameter_exception":
            raise
        # the path to the faulty value is built in debuginfo: "courses => Invalid parameter …: fullname => …"
        raise invalid_parameter(f"{key} => {e.message}: {e.debuginfo}") from None


def clean_returnvalue(desc: Description, value: object, env: Environment = DEFAULT_ENVIRONMENT) -> Any:
    """Cast a function's result to its return description (external_api::clean_returnvalue).

    An object that ends up with no keys becomes ``[]``: PHP encodes an empty array as a JSON list
    (contract step 'course contents', ``"activitybadge": []``).
    """
    if isinstance(desc, Value):
        # the common answers, which the general path below returns unchanged: an int as int, a string that
        # fix_utf8() leaves alone as raw text, NULL where NULL is allowed
        kind = type(value)
        if kind is int and desc.type == "int":
            return value
        if kind is str and desc.type == "raw" and "\0" not in str(value):
            return value
        if value is None and desc.allownull:
            return None
        if isinstance(value, (dict, list)):
            raise invalid_response("Scalar type expected, array or object received.")
        if desc.type == "bool" and _is_bool_value(value):
            return bool(int(php_str(value) or 0))
        def debuginfo(value: object = value, desc: Value = desc) -> str:
            return (f'Invalid external api response: the value is "{php_str(value)}" of PHP type '
                    f'"{_php_type(value)}", the server was expecting "{desc.type}" type')
        try:
            return validate_param(value, desc.type, desc.allownull, debuginfo, env)
        except MoodleError as e:
            raise invalid_response(e.debuginfo or debuginfo()) from None
    if isinstance(desc, Single):
        array = _as_array(value)
        if array is None:
            raise invalid_response(f"Only arrays/objects accepted. The bad value is: '{_print_r(value)}'")
        result: dict[str, Any] = {}
        for key, sub in desc.keys.items():
            if key not in array:
                if sub.required == REQUIRED:
                    raise invalid_response(f"Error in response - Missing following required key in a single "
                                           f"structure: {key}")
                if isinstance(sub, Value) and sub.required == DEFAULT:
                    result[key] = _nested_response(key, lambda s=sub: clean_returnvalue(s, s.default, env))
            else:
                try:
                    result[key] = clean_returnvalue(sub, array[key], env)
                except MoodleError as e:
                    raise invalid_response(f"{key} => {e.message}: {e.debuginfo}") from None
        return result if result else []
    array = _as_array(value)
    if array is None:
        raise invalid_response(f"Only arrays accepted. The bad value is: '{_print_r(value)}'")
    return [clean_returnvalue(desc.content, item, env) for item in array.values()]


def _nested_response(key: str, run: Any) -> Any:
    try:
        return run()
    except MoodleError as e:
        raise invalid_response(f"{key} => {e.message}: {e.debuginfo}") from None
