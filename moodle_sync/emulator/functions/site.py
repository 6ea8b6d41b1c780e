"""core_webservice_get_site_info: who the token is and which functions its service holds."""

from __future__ import annotations

import hashlib
from typing import Any

from moodle_sync.emulator.functions.registry import REGISTRY, Call, Params, implements
from moodle_sync.emulator.model.state import SiteConfig
from moodle_sync.emulator.moodlelib import format as fmt

# webservice/externallib.php get_site_info(): $CFG values in this order, then mnet_dispatcher_mode; the fixed
# values are the recorded site's (contract step "site info"), messaging and enablecompletion follow the config
ADVANCED_FEATURES = (("usecomments", 1), ("usetags", 1), ("enablenotes", 1), ("messaging", None),
                     ("enableblogs", 1), ("enablecompletion", None), ("enablebadges", 1), ("messagingallusers", 0),
                     ("enablecustomreports", 1), ("enableglobalsearch", 0), ("mnet_dispatcher_mode", 0))


def advanced_features(cfg: SiteConfig) -> list[dict[str, Any]]:
    from_config = {"messaging": cfg.messaging, "enablecompletion": cfg.enablecompletion}
    return [{"name": n, "value": int(from_config[n] if v is None else v)} for n, v in ADVANCED_FEATURES]


@implements("core_webservice_get_site_info")
def get_site_info(call: Call, params: Params) -> dict[str, Any]:
    cfg = call.state.config
    user = call.user
    names = sorted(n for n in REGISTRY if call.token.allows(n))
    return {
        "sitename": cfg.sitename, "username": user.username, "firstname": user.firstname,
        "lastname": user.lastname, "fullname": call.state.user_fullname(user), "lang": user.lang or cfg.lang,
        "userid": user.id, "siteurl": call.site_url,
        "userpictureurl": fmt.user_picture_url(call.site_url, cfg.themerev, "f1"),
        "functions": [{"name": n, "version": cfg.version} for n in names],
        "downloadfiles": 0, "uploadfiles": 0, "release": cfg.release, "version": cfg.version, "mobilecssurl": "",
        "advancedfeatures": advanced_features(cfg),
        "usercanmanageownfiles": True, "userquota": 0, "usermaxuploadfilesize": -1, "userhomepage": 1,
        "userprivateaccesskey": hashlib.md5(f"{user.id}:{call.token.token}".encode()).hexdigest(),
        "siteid": 1, "sitecalendartype": "gregorian", "usercalendartype": user.calendartype or "gregorian",
        "userissiteadmin": call.token.is_admin and call.state.is_siteadmin(user.id), "theme": cfg.theme,
        # 4.4+ (4.3's signature drops them); the emulator has no site policies nor custom home pages
        "limitconcurrentlogins": 0, "policyagreed": 0, "userhomepageurl": None,
    }
