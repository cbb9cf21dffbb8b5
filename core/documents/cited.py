"""A cited key and where it stands in its document."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CitedKey:
    key: str
    start: int
    end: int
