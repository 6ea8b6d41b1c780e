from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.config import load_settings
from moodle_sync.errors import ConfigError


def test_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text('url = "https://file.example"\nmax_input_vars = 1000\nstate_path = "x.db"\n')
    env = {"MOODLE_URL": "https://env.example", "MOODLE_SYNC_MAX_INPUT_VARS": "2000"}
    s = load_settings({"url": "https://flag.example"}, config_path=cfg, environ=env)
    assert s.url == "https://flag.example" and s.sources["url"] == "flag"
    assert s.max_input_vars == 2000 and s.sources["max_input_vars"] == "env MOODLE_SYNC_MAX_INPUT_VARS"
    assert s.state_path == "x.db" and s.sources["state_path"] == str(cfg)


def test_a_token_in_the_config_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text('token = "abc"\n')
    with pytest.raises(ConfigError, match="holds a token"):
        load_settings({}, config_path=cfg, environ={})


def test_unknown_setting_and_bad_value_name_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text('urll = "x"\n')
    with pytest.raises(ConfigError, match="urll"):
        load_settings({}, config_path=cfg, environ={})
    with pytest.raises(ConfigError, match="max_input_vars"):
        load_settings({}, config_path=None,
                      environ={"MOODLE_SYNC_MAX_INPUT_VARS": "many"})


def test_missing_url_and_token_say_how_to_give_them() -> None:
    s = load_settings({}, config_path=None, environ={})
    with pytest.raises(ConfigError) as e:
        s.require_moodle()
    assert "MOODLE_URL" in str(e.value)
    s = load_settings({"url": "https://x"}, config_path=None, environ={})
    with pytest.raises(ConfigError) as e:
        s.require_moodle()
    assert "MOODLE_TOKEN" in str(e.value)


def test_token_command_supplies_the_token_and_repr_hides_it() -> None:
    s = load_settings({"url": "https://x", "token_command": "echo s3cret-token"}, environ={})
    assert s.require_moodle() == ("https://x", "s3cret-token")
    s2 = load_settings({"url": "https://x", "token": "s3cret-token"}, environ={})
    assert "s3cret-token" not in repr(s2)
