"""core_message_send_instant_messages: store one message per item, or an errormessage with msgid -1.

message/externallib.php: a missing or deleted recipient and a text over api::MESSAGE_MAX_LENGTH bytes are
errormessages (an empty text is sent); a bad textformat throws, and as the function runs in no transaction
the messages of the items before it stay sent.
"""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import moodle_exception
from moodle_sync.emulator.functions.categories import validate_format
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import Message
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.strings import get_string

MESSAGE_MAX_LENGTH = 4096  # core_message\api::MESSAGE_MAX_LENGTH, compared with strlen() (bytes)


@implements("core_message_send_instant_messages", atomic=False)
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
        elif len(item["text"].encode("utf-8")) > MESSAGE_MAX_LENGTH:
            error = get_string("errormessagetoolong", "message")
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
