from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodle_sync.counties import COUNTIES, County, resolve_county

# (letter code, numeric code, full name, bare name), straight from domain.md
EXPECTED = [
    ("AB", "01", "Stockholms län", "Stockholm"), ("C", "03", "Uppsala län", "Uppsala"),
    ("D", "04", "Södermanlands län", "Södermanland"), ("E", "05", "Östergötlands län", "Östergötland"),
    ("F", "06", "Jönköpings län", "Jönköping"), ("G", "07", "Kronobergs län", "Kronoberg"),
    ("H", "08", "Kalmar län", "Kalmar"), ("I", "09", "Gotlands län", "Gotland"),
    ("K", "10", "Blekinge län", "Blekinge"), ("M", "12", "Skåne län", "Skåne"),
    ("N", "13", "Hallands län", "Halland"), ("O", "14", "Västra Götalands län", "Västra Götaland"),
    ("S", "17", "Värmlands län", "Värmland"), ("T", "18", "Örebro län", "Örebro"),
    ("U", "19", "Västmanlands län", "Västmanland"), ("W", "20", "Dalarnas län", "Dalarna"),
    ("X", "21", "Gävleborgs län", "Gävleborg"), ("Y", "22", "Västernorrlands län", "Västernorrland"),
    ("Z", "23", "Jämtlands län", "Jämtland"), ("AC", "24", "Västerbottens län", "Västerbotten"),
    ("BD", "25", "Norrbottens län", "Norrbotten"),
]


def test_the_21_counties_in_official_order() -> None:
    assert list(COUNTIES) == [code for code, *_ in EXPECTED]
    assert [(c.code, c.numeric, c.name, c.short_name) for c in COUNTIES.values()] == EXPECTED
    assert COUNTIES["W"] == County("W", "Dalarnas län", "20")


@pytest.mark.parametrize(("code", "numeric", "name", "bare"), EXPECTED)
def test_every_spelling_of_every_county_resolves(code: str, numeric: str, name: str, bare: str) -> None:
    spellings = [code, code.lower(), f"  {code} ", numeric, str(int(numeric)), name, name.upper(), name.lower(),
                 bare, bare.lower(), f" {bare.upper()}\t", name.removesuffix(" län")]
    for text in spellings:
        assert resolve_county(text).code == code, text


@pytest.mark.parametrize(("text", "code"), [
    ("Skane", "M"), ("orebro lan", "T"), ("Vastra Gotaland", "O"), ("västra  götalands län", "O"),
    ("Jonkoping", "F"), ("Gavleborgs", "X"),
])
def test_names_without_swedish_letters_resolve(text: str, code: str) -> None:
    assert resolve_county(text).code == code


@pytest.mark.parametrize(("text", "suggestion"), [
    ("Dalarn", "Dalarnas län (W)"), ("Stokholm", "Stockholms län (AB)"), ("Västerbottten", "Västerbottens län (AC)"),
])
def test_a_misspelt_county_is_refused_with_a_suggestion(text: str, suggestion: str) -> None:
    with pytest.raises(ValueError, match="did you mean") as caught:
        resolve_county(text)
    assert suggestion in str(caught.value) and repr(text) in str(caught.value)


@pytest.mark.parametrize("text", ["2", "02", "11", "26", "0", "QQ", "Atlantis", "", "   ", "W1", "２０"])
def test_what_is_no_county_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        resolve_county(text)


@given(st.sampled_from(EXPECTED), st.data())
def test_any_casing_of_a_code_or_name_resolves(county: tuple[str, str, str, str], data: st.DataObject) -> None:
    code, _, name, bare = county
    text = data.draw(st.sampled_from([code, name, bare]))
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    mixed = "".join(ch.upper() if flip else ch.lower() for ch, flip in zip(text, flips, strict=True))
    assert resolve_county(mixed).code == code
