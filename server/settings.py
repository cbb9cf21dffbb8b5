"""Typed, defaulted settings. A bad value is reported and its default used; it never fails start-up."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.documents import syntax
from core.records import PaperciteError
from core.remote import home_from

SECTION = "papercite"


@dataclass(frozen=True)
class Settings:
    home: Path | str | None = None  # None: $PAPERCITE_HOME or the per-user data folder; a URL: a server
    token: str | None = None  # for a server's URL; None: $PAPERCITE_TOKEN
    max_items: int = 20
    context_window: int = 3000  # characters read around a citation for its sentence and paragraph
    languages: frozenset[str] = frozenset({syntax.LATEX, syntax.MARKDOWN})
    diagnostics: bool = True
    semantic: bool = True  # re-rank suggestions by sentence vectors where the home has them


_ALIASES = {
    "home": "home", "index": "home", "maxItems": "max_items", "max_items": "max_items",
    "contextWindow": "context_window", "context_window": "context_window",
    "languages": "languages", "diagnostics": "diagnostics", "token": "token",
    "semantic": "semantic",
}  # fmt: skip


def _parse(name: str, value: Any) -> Any:
    if name == "home":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a folder path or a papercite server's URL")
        try:
            return home_from(value.strip())
        except PaperciteError as error:
            raise ValueError(str(error)) from None
    if name == "token":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a token made with `papercite token create`")
        return value.strip()
    if name == "max_items":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 200:
            raise ValueError("must be a whole number from 1 to 200")
        return value
    if name == "context_window":
        if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 100_000:
            raise ValueError("must be a number of characters from 100 to 100000")
        return value
    if name == "languages":
        if not isinstance(value, list) or not value:
            raise ValueError('must be a list such as ["latex", "markdown"]')
        languages = {syntax.LANGUAGE_IDS.get(str(v).lower()) for v in value}
        if None in languages:
            raise ValueError(f"knows {sorted(set(syntax.LANGUAGE_IDS))}")
        return frozenset(lang for lang in languages if lang)
    if name in ("diagnostics", "semantic"):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    raise AssertionError(name)


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from an editor's JSON object, and one plain message per value that was not used."""
    settings = base or Settings()
    if raw is None:
        return settings, []
    if isinstance(raw, dict) and isinstance(raw.get(SECTION), dict):
        raw = raw[SECTION]
    if not isinstance(raw, dict):
        return settings, [f"papercite settings must be an object, not {type(raw).__name__}; using defaults"]
    changes: dict[str, Any] = {}
    problems = []
    for given, value in raw.items():
        name = _ALIASES.get(given)
        if name is None:
            problems.append(f"papercite: unknown setting {given!r} ignored")
            continue
        try:
            changes[name] = _parse(name, value)
        except ValueError as error:
            default = getattr(Settings(), name)
            problems.append(f"papercite: setting {given!r} {error}; using {default!r}")
    return dataclasses.replace(settings, **changes), problems
