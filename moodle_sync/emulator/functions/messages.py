"""core_message_send_instant_messages: store one message per item, or an errormessage with msgid -1."""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import moodle_exception
from moodle_sync.emulator.functions.categories import validate_format
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import Message
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.strings import get_string


@implements("core_message_send_instant_messages")
def send_instant_messages(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    if not state.config.messaging:
        raise moodle_exception("disabled", "message")  # checked first, before any capability
    call.require("moodle/site:sendmessage")
    candelete = call.can("moodle/site:deleteanymessage")
    out: list[dict[str, Any]] = []
    for item in params["messages"]:
        result: dict[str, Any] = {}
        if "clientmsgid" in item:
            result["clientmsgid"] = item["clientmsgid"]
        recipient = state.users.get(item["touserid"])
        error = None
        if recipient is None or recipient.deleted:
            error = get_string("touserdoesntexist", "message", item["touserid"])
        elif not item["text"]:
            error = get_string("messageempty", "message")
        if error is not None:
            # failures are not exceptions: msgid -1 and an errormessage, kept for backward compatibility
            result.update(msgid=-1, errormessage=error)
            out.append(result)
            continue
        textformat = validate_format(item["textformat"])
        pair = (min(call.user.id, item["touserid"]), max(call.user.id, item["touserid"]))
        conversationid = state.conversations.setdefault(pair, len(state.conversations) + 1)
        message = state.messages.insert(Message(state.messages.new_id(), call.user.id, item["touserid"],
                                                conversationid, item["text"], textformat, call.now,
                                                item.get("clientmsgid")))
        text, _ = fmt.format_text(message.text, textformat, False)
        result.update(msgid=message.id, timecreated=call.now, candeletemessagesforallusers=candelete,
                      conversationid=conversationid, useridfrom=call.user.id, text=text)
        out.append(result)
    return out
