"""New accounts a roster import makes: their username, their auth and password, and the auths refused.

The ``auth`` an import gives new accounts (setting ``auth``, default manual). Moodle 4.3's create_users
(user/externallib.php) refuses an auth whose is_internal() is true when the user has neither a password nor
createpassword; is_internal() is true for manual, email, none and nologin (auth/*/auth.php) and for any plugin
that does not override it (lib/authlib.php), false for cas, ldap, shibboleth, oauth2 and mnet.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from moodle_sync.errors import ConfigError
from moodle_sync.moodle.models import NewUser
from moodle_sync.rosters.roster import RosterRow

#: internal auths whose users log in with a Moodle password: Moodle makes one and e-mails it (createpassword=1)
MAILED_PASSWORD_AUTHS = frozenset({"manual", "email", "none"})
#: internal, but its users cannot log in: a random password nobody is told (an e-mail would only confuse them)
NO_LOGIN_AUTHS = frozenset({"nologin"})
#: auths an import refuses before writing anything, and why
REFUSED_AUTHS = {
    "mnet": "create_users does not offer it (a network user needs a remote host)",
    "webservice": "create_users does not offer it (web-service accounts are made by hand)",
    "lti": "LTI accounts are made by LTI launches; Moodle treats lti as internal and would need a password",
}
# Any other plugin name (cas, ldap, shibboleth, oauth2, a site's own SSO plugin such as saml2) is sent without a
# password: Moodle refuses it if the plugin is not installed, or if it is internal (e.g. db with internal passwords).


def username_for(email: str) -> str:
    """Moodle usernames are lower-case ``[a-z0-9_.@-]``: the lower-cased email with others replaced."""
    return re.sub(r"[^a-z0-9_.@-]", "_", email.lower())


def check_auth(auth: str) -> None:
    """Refuse an ``auth`` setting that create_users would refuse for every new person.

    Raises:
        ConfigError: not a plugin name (PARAM_AUTH would clean it), or one of :data:`REFUSED_AUTHS`.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*[a-z0-9]", auth):
        raise ConfigError(f"auth {auth!r} is not the name of a Moodle auth plugin", key="auth",
                          hint="use the plugin's short name in lower case, e.g. manual, nologin, shibboleth")
    if auth in REFUSED_AUTHS:
        raise ConfigError(f"auth {auth!r} cannot be given to new accounts: {REFUSED_AUTHS[auth]}", key="auth",
                          hint="use manual (Moodle e-mails a password) or the site's single sign-on plugin")


def new_user(row: RosterRow, auth: str) -> NewUser:
    if auth in MAILED_PASSWORD_AUTHS:
        password: dict[str, Any] = {"createpassword": 1}
    elif auth in NO_LOGIN_AUTHS:
        password = {"password": _unknown_password()}
    else:
        password = {}
    return NewUser(username=username_for(row.email), auth=auth, firstname=row.firstname, lastname=row.lastname,
                   email=row.email, idnumber=row.employee_id, institution=row.organisation or None,
                   department=row.unit or None, **password)


def _unknown_password() -> str:
    """32 random characters cycling lower, upper, digit, symbol: passes any usual password policy."""
    pools = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "#%*+-=?@_")
    return "".join(secrets.choice(pools[i % len(pools)]) for i in range(32))

