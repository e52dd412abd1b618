"""ComboService rules: names, steps, strategies, cycles, nesting depth, in-use removal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from omni.admin import AdminContext
from omni.admin.combos import MAX_DEPTH, STRATEGIES, ComboService
from omni.config import Settings
from omni.errors import ConflictError, InvalidInputError, NotFoundError


@pytest.fixture
def combos(settings: Settings) -> ComboService:
    return ComboService(AdminContext.open(settings))


def test_create_get_list_edit_remove(combos: ComboService) -> None:
    created = combos.create("fast", ["openai/gpt-4o-mini", " groq/llama "])
    assert created["name"] == "fast"
    assert created["strategy"] == "priority"
    assert created["steps"] == ["openai/gpt-4o-mini", "groq/llama"], "steps are trimmed"
    assert set(created) == {"name", "strategy", "steps", "config", "created_at", "updated_at"}
    assert combos.get("fast") == created
    combos.create("a.b_c-1", ["x/y"], strategy="p2c")
    assert [c["name"] for c in combos.list_all()] == ["a.b_c-1", "fast"]

    edited = combos.edit("fast", strategy="round-robin")
    assert (edited["strategy"], edited["steps"]) == ("round-robin", created["steps"])
    edited = combos.edit("fast", steps=["z/z"])
    assert (edited["strategy"], edited["steps"]) == ("round-robin", ["z/z"])
    assert edited["created_at"] == created["created_at"]

    assert combos.remove("fast") == edited
    with pytest.raises(NotFoundError, match="no combo named 'fast'"):
        combos.get("fast")
    assert [c["name"] for c in combos.list_all()] == ["a.b_c-1"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_is_stored_as_given(combos: ComboService, strategy: str) -> None:
    assert combos.create("c", ["a/b"], strategy=strategy)["strategy"] == strategy


@pytest.mark.parametrize(
    ("name", "steps", "strategy", "needle"),
    [
        ("Upper", ["a/b"], "priority", "invalid combo name"),
        ("a/b", ["a/b"], "priority", "invalid combo name"),
        ("", ["a/b"], "priority", "invalid combo name"),
        ("x" * 65, ["a/b"], "priority", "invalid combo name"),
        ("-lead", ["a/b"], "priority", "invalid combo name"),
        ("c", [], "priority", "at least one step"),
        ("c", ["a/b", ""], "priority", "non-empty"),
        ("c", ["  "], "priority", "non-empty"),
        ("c", ["a/b", 3], "priority", "non-empty"),
        ("c", ["a/b", "c"], "priority", "cannot name itself"),
        ("c", ["a/b"], "fastest", "unknown strategy 'fastest'"),
        ("openai", ["a/b"], "priority", "catalog provider 'openai'"),
    ],
)
def test_create_rejects_bad_input(
    combos: ComboService, name: str, steps: list[Any], strategy: str, needle: str
) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        combos.create(name, steps, strategy=strategy)
    assert combos.list_all() == []


def test_name_may_be_64_characters(combos: ComboService) -> None:
    assert combos.create("x" * 64, ["a/b"])["name"] == "x" * 64


def test_name_may_not_shadow_a_catalog_alias_or_configured_provider(
    combos: ComboService, add_provider: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from omni.admin import combos as module
    from omni.providers.catalog import load_catalog

    catalog = load_catalog()
    aliased = replace(catalog.providers["openai"], alias="oai")
    patched = replace(catalog, by_alias={**catalog.by_alias, "oai": aliased})
    monkeypatch.setattr(module, "load_catalog", lambda: patched)
    with pytest.raises(InvalidInputError, match="'oai' is the catalog provider 'openai'"):
        combos.create("oai", ["a/b"])
    add_provider("mine", base_url="http://127.0.0.1:9/v1", models=["m"], sync_models=False)
    with pytest.raises(InvalidInputError, match="'mine' is a configured provider"):
        combos.create("mine", ["a/b"])


def test_existing_name_is_a_conflict(combos: ComboService) -> None:
    combos.create("c", ["a/b"])
    with pytest.raises(ConflictError, match="combo 'c' already exists") as info:
        combos.create("c", ["x/y"])
    assert info.value.hint is not None and "omni combos edit c" in info.value.hint
    assert combos.get("c")["steps"] == ["a/b"]


def test_edit_checks_its_input(combos: ComboService) -> None:
    with pytest.raises(NotFoundError, match="no combo named 'ghost'"):
        combos.edit("ghost", steps=["a/b"])
    combos.create("c", ["a/b"])
    with pytest.raises(InvalidInputError, match="nothing to change"):
        combos.edit("c")
    with pytest.raises(InvalidInputError, match="at least one step"):
        combos.edit("c", steps=[])
    with pytest.raises(InvalidInputError, match="cannot name itself"):
        combos.edit("c", steps=["c"])
    with pytest.raises(InvalidInputError, match="unknown strategy"):
        combos.edit("c", strategy="best")
    assert combos.get("c")["steps"] == ["a/b"]


def test_cycles_are_refused(combos: ComboService) -> None:
    combos.create("a", ["m/1"])
    combos.create("b", ["a", "m/2"])
    combos.create("c", ["b"])
    with pytest.raises(InvalidInputError, match=r"cycle \(a -> c -> b -> a\)"):
        combos.edit("a", steps=["c"])
    with pytest.raises(InvalidInputError, match="cycle"):
        combos.edit("a", steps=["m/1", "b"])
    assert combos.get("a")["steps"] == ["m/1"], "a refused edit changes nothing"


def test_creating_a_name_other_combos_already_list_is_checked_too(
    combos: ComboService,
) -> None:
    combos.create("outer", ["later", "m/1"])  # 'later' is just a model name for now
    with pytest.raises(InvalidInputError, match="cycle"):
        combos.create("later", ["outer"])
    combos.create("later", ["m/2"])


def test_nesting_depth_is_limited(combos: ComboService) -> None:
    assert MAX_DEPTH == 3
    combos.create("d1", ["m/1"])
    combos.create("d2", ["d1"])
    combos.create("d3", ["d2", "m/2"])
    with pytest.raises(InvalidInputError, match="'d4' would nest 4 combos deep"):
        combos.create("d4", ["d3"])
    # Deepening an inner combo is caught through the combos that use it.
    combos.create("leaf", ["m/3"])
    with pytest.raises(InvalidInputError, match="'d3' would nest 4 combos deep"):
        combos.edit("d1", steps=["leaf"])
    combos.edit("d1", steps=["m/4", "m/5"])


def test_a_combo_in_use_cannot_be_removed(combos: ComboService) -> None:
    combos.create("inner", ["m/1"])
    combos.create("one", ["inner"])
    combos.create("two", ["m/2", "inner"])
    with pytest.raises(ConflictError, match="'inner' is a step of 'one', 'two'") as info:
        combos.remove("inner")
    assert info.value.status == 409
    assert info.value.hint is not None and "omni combos edit one" in info.value.hint
    combos.remove("one")
    combos.edit("two", steps=["m/2"])
    assert combos.remove("inner")["name"] == "inner"
    with pytest.raises(NotFoundError):
        combos.remove("inner")
