"""E-mail changes: a person matched by employee id whose roster e-mail differs from Moodle's.

The change is sent with the other field changes (core_user_update_users), or the plan says why not. Moodle
4.3's update_users (user/externallib.php) checks a changed e-mail itself: validate_email(), then, unless
the site allows accounts with the same e-mail (allowaccountssameemail), that no other account has it in any
case (``sql_equal('email', :email, false)``, the account itself left out): a refusal is the per-user
warning ``useremailduplicate``. It does not check the allowed/denied e-mail domains (email_is_not_allowed
is only used by the forms). So an address another account has is not sent; nor is one for an account that
signs in through single sign-on, whose e-mail the identity provider gives it (an auth plugin that maps the
e-mail sets it again at the next login).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from moodle_sync.i18n import _
from moodle_sync.moodle.models import User
from moodle_sync.rosters.roster import RosterRow

#: the auths whose accounts keep their e-mail in Moodle (the internal ones an import gives); "" is an auth
#: the web-service user may not see: Moodle decides then
LOCAL_AUTHS = frozenset({"manual", "email", "none", "nologin", ""})


def changed_emails(pairs: Sequence[tuple[RosterRow, User]]) -> list[tuple[RosterRow, User]]:
    """The rows matched by employee id whose e-mail differs from their account's (capitals aside:
    Moodle compares e-mails ignoring case, and the roster's are lower-cased)."""
    return [(r, u) for r, u in pairs
            if r.employee_id and u.idnumber == r.employee_id and u.email.lower() != r.email]


def decide(changes: Sequence[tuple[RosterRow, User]], others: Mapping[int, Sequence[User]],
           ) -> tuple[dict[int, str], dict[int, str]]:
    """(row → the new e-mail to send, row → why it is not sent), for rows from :func:`changed_emails`.

    ``others`` holds, per row, the accounts found with the row's e-mail in any case (the account itself may
    be among them).
    """
    send: dict[int, str] = {}
    held: dict[int, str] = {}
    for row, user in changes:
        kept = _("e-post stays {old} in Moodle, not {new}").format(old=user.email or _("(none)"), new=row.email)
        if user.auth not in LOCAL_AUTHS:
            held[row.row] = kept + _(": the account signs in with {auth}, whose identity provider gives it its "
                                     "e-mail; change the address there").format(auth=user.auth)
        elif any(o.id != user.id and o.email.lower() == row.email for o in others.get(row.row, ())):
            held[row.row] = kept + _(": another Moodle account already has {email} and Moodle refuses the same "
                                     "e-mail twice; merge or fix the accounts in Moodle").format(email=row.email)
        else:
            send[row.row] = row.email
    return send, held
