"""The one scope value: made at the edge (a hub, an administrator, an administrator on one county) and asked
by everything below (covers, require, within, may_use)."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.config import Hub, load_settings
from moodle_sync.errors import ScopeError
from moodle_sync.jobs.site import connect_from_settings
from moodle_sync.scope import Scope

DALARNA = Scope.for_hub("dalarna", Hub(county="W"))


def test_a_hub_covers_its_own_county_only_and_uses_only_its_own_people() -> None:
    assert DALARNA.is_hub and DALARNA.county == "W"
    assert DALARNA.covers("W") and not DALARNA.covers("AB")
    with pytest.raises(ScopeError, match=r"dalarna may only work with Dalarnas län \(W\), not"):
        DALARNA.require("AB")
    assert DALARNA.within("W") == DALARNA
    assert DALARNA.may_use({"W"}) and not DALARNA.may_use({"W", "AB"}) and not DALARNA.may_use(set())


def test_an_administrator_covers_every_county_until_one_is_chosen_and_may_use_anyone() -> None:
    admin = Scope.for_admin()
    assert not admin.is_hub and admin.covers("AB") and admin.may_use(set())
    with pytest.raises(ScopeError, match="--county"):
        admin.one_county()
    dalarna = Scope.for_county("dalarna")  # the forgiving lookup: W, 20, Dalarna …
    assert dalarna == admin.within("W") and dalarna.one_county() == "W"
    assert not dalarna.covers("AB") and not dalarna.is_hub and dalarna.may_use({"AB"})
    with pytest.raises(ScopeError):
        Scope.for_county("Atlantis")


def test_a_county_typed_in_an_address_is_narrowed_to_or_refused() -> None:
    assert Scope.for_admin().narrowed("w") == Scope.for_county("W")
    assert DALARNA.narrowed("w") == DALARNA
    assert DALARNA.narrowed("AB") is None and Scope.for_admin().narrowed("XX") is None


def test_a_hub_scope_connects_with_the_hubs_own_token_and_an_administrator_with_the_sites(tmp_path: Path) -> None:
    """One lookup of a hub's token (Settings.as_hub), asked by the one connect every job uses."""
    (tmp_path / "site").write_text("a" * 32, encoding="utf-8")
    (tmp_path / "hub").write_text("b" * 32, encoding="utf-8")
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text(f'url = "https://moodle.example.se"\ntoken_command = "cat {tmp_path / "site"}"\n'
                   f'[hubs.dalarna]\ncounty = "W"\ntoken_command = "cat {tmp_path / "hub"}"\n'
                   f'[hubs.uppsala]\ncounty = "C"\n', encoding="utf-8")
    settings = load_settings({}, config_path=cfg, environ={})

    def token(scope: Scope | None) -> str:
        return str(connect_from_settings(settings, scope=scope).client._token)

    assert token(Scope.for_hub("dalarna", settings.hub("dalarna"))) == "b" * 32
    assert token(Scope.for_hub("uppsala", settings.hub("uppsala"))) == "a" * 32  # no token of its own
    assert token(Scope.for_county("W")) == token(None) == "a" * 32
