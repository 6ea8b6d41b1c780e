from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from moodle_sync.config import SETTINGS, Hub, Settings, load_settings
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


@pytest.mark.parametrize(("line", "key"), [
    ("allow_http = 5", "allow_http"),          # once read as True
    ("workers = 2.5", "workers"),              # once cut to 2
    ('specs = ["a", "b"]', "specs"),           # once the path "['a', 'b']"
    ("url = 443", "url"),                      # once the URL "443"
])
def test_a_value_of_the_wrong_type_in_the_file_names_the_key_and_the_file(tmp_path: Path, line: str,
                                                                          key: str) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text(line + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings({}, config_path=cfg, environ={})
    assert f"({key} from {cfg})" in str(e.value)


@pytest.mark.parametrize(("name", "value"), [
    ("max_input_vars", "0"), ("timeout", "0"), ("retries", "-1"),
])
def test_a_value_out_of_range_names_the_key_and_the_variable(name: str, value: str) -> None:
    var = f"MOODLE_SYNC_{name.upper()}"
    with pytest.raises(ConfigError) as e:
        load_settings({}, config_path=None, environ={var: value})
    assert f"{value!r} is not allowed" in str(e.value) and f"({name} from {var})" in str(e.value)


def test_a_hub_must_be_a_table_and_its_county_code_may_be_a_number(tmp_path: Path) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text('[hubs]\ndalarna = "W"\n')
    with pytest.raises(ConfigError) as e:
        load_settings({}, config_path=cfg, environ={})
    assert f"(hubs.dalarna from {cfg})" in str(e.value)
    cfg.write_text("[hubs.dalarna]\ncounty = 20\n")
    assert load_settings({}, config_path=cfg, environ={}).hubs == {"dalarna": Hub(county="W")}


@pytest.mark.parametrize("written", ['"W"', '"w"', "20", '"Dalarna"', '"Dalarnas län"'])
def test_a_hubs_county_is_its_letter_code_however_it_is_written(tmp_path: Path, written: str) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text(f"[hubs.dalarna]\ncounty = {written}\n", encoding="utf-8")
    assert load_settings({}, config_path=cfg, environ={}).hub("dalarna").county == "W"


def test_a_hub_without_a_known_county_or_with_another_key_is_refused_at_load_naming_it(tmp_path: Path) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    for text, key in (('[hubs.dalarna]\ncounty = "Dalarnna"\n', "hubs.dalarna.county"),
                      ("[hubs.dalarna]\n", "hubs.dalarna.county"),
                      ('[hubs.dalarna]\ncounty = "W"\ncountry = "SE"\n', "hubs.dalarna.country")):
        cfg.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as e:
            load_settings({}, config_path=cfg, environ={})
        assert f"({key} from {cfg})" in str(e.value)


def test_a_hubs_own_token_is_used_unless_a_token_was_given(tmp_path: Path) -> None:
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text('token_command = "cat site"\n[hubs.dalarna]\ncounty = "W"\ntoken_command = "cat hub"\n'
                   '[hubs.uppsala]\ncounty = "C"\n', encoding="utf-8")
    settings = load_settings({}, config_path=cfg, environ={})
    assert settings.as_hub("dalarna").token_command == "cat hub"
    assert settings.as_hub("uppsala").token_command == "cat site"  # no token of its own: the site's
    given = load_settings({}, config_path=cfg, environ={"MOODLE_TOKEN": "x" * 32})
    assert given.as_hub("dalarna").token_command == "cat site"  # an explicit token wins
    with pytest.raises(ConfigError, match="did you mean 'dalarna'"):
        settings.hub("dalarana")


def _example(name: str) -> tuple[str, Any]:
    """A value for a setting that is not its default: as the environment writes it, and as it reads back."""
    kind = Settings.model_fields[name].annotation
    default = Settings.model_fields[name].default
    if kind is bool:
        return ("no", False) if default else ("yes", True)
    if kind is int:
        return "7", 7
    if kind is float:
        return "7.5", 7.5
    return "some-value", "some-value"


def _read(settings: Settings, name: str) -> Any:
    value = getattr(settings, name)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_is_read_from_its_variable_and_from_the_file(tmp_path: Path, name: str) -> None:
    text, value = _example(name)
    s = load_settings({}, config_path=None, environ={f"MOODLE_SYNC_{name.upper()}": text})
    assert _read(s, name) == value and s.sources[name] == f"env MOODLE_SYNC_{name.upper()}"
    cfg = tmp_path / "moodle-sync.toml"
    cfg.write_text(f"{name} = {value!r}\n".replace("True", "true").replace("False", "false"))
    if name == "token":
        with pytest.raises(ConfigError, match="holds a token"):
            load_settings({}, config_path=cfg, environ={})
        return
    s = load_settings({}, config_path=cfg, environ={})
    assert _read(s, name) == value and s.sources[name] == str(cfg)
