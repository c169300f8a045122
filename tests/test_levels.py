"""Levels: regions roll up from a city to Europe, sectors into families; bot.toml is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.levels import Hierarchy

ROOT = Path(__file__).resolve().parent.parent

TERM = 'nl = "{0}"\nfr = "{0}"\nen = "{0}"\n'


def regions(*entries: tuple[str, str | None]) -> str:
    text = ""
    for key, parent in entries:
        text += f'[[regions]]\nkey = "{key}"\n' + TERM.format(key.title())
        if parent is not None:
            text += f'parent = "{parent}"\n'
    return text


def load(tmp_path: Path, text: str) -> Hierarchy:
    path = tmp_path / "samen.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path).region_levels


def test_the_default_regions_go_from_a_city_to_europe() -> None:
    settings = load_settings(ROOT / "bot.toml")
    levels = settings.region_levels
    assert levels.ancestors("gent") == ["oost-vlaanderen", "flanders", "belgium", "europe"]
    assert levels.ancestors("charleroi") == ["hainaut", "wallonia", "belgium", "europe"]
    assert levels.ancestors("brussels") == ["belgium", "europe"]
    assert levels.level("europe") == 0
    assert levels.level("belgium") == 1
    assert [levels.level(key) for key in ("flanders", "wallonia", "brussels")] == [2, 2, 2]
    assert levels.level("liege") == 4
    assert levels.roots() == ["online", "europe"]  # online is no place: a top of its own
    # every key members and posts already carry is still there, and is a leaf
    old = {"brussels", "antwerpen", "gent", "liege", "namur", "leuven", "charleroi", "online"}
    assert old <= set(levels.keys())
    assert set(levels.leaves()) >= old
    assert set(levels.descendants("belgium")) >= old - {"online"}
    assert "online" not in levels.descendants("europe")


def test_descendants_are_a_region_with_all_its_sub_regions() -> None:
    levels = load_settings(ROOT / "bot.toml").region_levels
    wallonia = levels.descendants("wallonia")
    assert wallonia[0] == "wallonia"
    assert {"hainaut", "charleroi", "province-liege", "liege", "province-namur", "namur"} <= set(
        wallonia
    )
    assert not {"gent", "brussels", "flanders"} & set(wallonia)
    assert levels.descendants("gent") == ["gent"]
    assert levels.children("belgium") == ["brussels", "flanders", "wallonia"]


def test_roll_up_to_a_level() -> None:
    levels = load_settings(ROOT / "bot.toml").region_levels
    assert levels.at_level("gent", 3) == "oost-vlaanderen"  # by province
    assert levels.at_level("gent", 2) == "flanders"  # by region
    assert levels.at_level("brussels", 2) == "brussels"
    assert levels.at_level("brussels", 3) == "brussels"  # nothing finer: stays itself
    assert levels.at_level("namur", 0) == "europe"
    assert levels.within("leuven", "flanders") and not levels.within("leuven", "wallonia")


def test_sectors_roll_up_into_families() -> None:
    settings = load_settings(ROOT / "bot.toml")
    sectors = settings.sector_levels
    assert sectors.ancestors("music") == ["arts"]
    assert set(sectors.descendants("design")) == {"design", "interior-design", "graphic-design"}
    keys = {"audiovisual", "performing-arts", "music", "visual-arts", "interior-design"}
    keys |= {"graphic-design", "it", "training", "writing", "events"}
    assert set(sectors.leaves()) == keys  # the sectors members had keep working
    assert all(sectors.ancestors(key) for key in keys)


def test_a_key_unknown_to_the_configuration_is_a_top_of_its_own() -> None:
    levels = load_settings(ROOT / "bot.toml").region_levels
    assert levels.ancestors("atlantis") == []
    assert levels.descendants("atlantis") == ["atlantis"]
    assert levels.level("atlantis") == 0


def test_a_flat_list_without_parents_still_loads(tmp_path: Path) -> None:
    levels = load(tmp_path, regions(("a", None), ("b", None)))
    assert levels.roots() == ["a", "b"]
    assert levels.descendants("a") == ["a"]


def test_an_unknown_parent_stops_loading_and_names_the_entry(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, regions(("gent", "oost-vlanderen"), ("oost-vlaanderen", None)))
    message = str(raised.value)
    assert "`regions`" in message
    assert "`gent`" in message and "`oost-vlanderen`" in message
    assert "not a key of this list" in message


def test_a_cycle_stops_loading_and_names_the_entries(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, regions(("a", "b"), ("b", "c"), ("c", "a")))
    message = str(raised.value)
    assert "`regions`" in message and "its own ancestor" in message
    assert "a → b → c → a" in message


def test_an_entry_cannot_be_its_own_parent(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`x` is its own ancestor: x → x"):
        load(tmp_path, regions(("x", "x")))


def test_sector_parents_are_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "samen.toml"
    path.write_text('[[sectors]]\nkey = "music"\n' + TERM.format("M") + 'parent = "arts"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert "`sectors`" in str(raised.value) and "`arts`" in str(raised.value)
