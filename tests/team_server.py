"""The tests' name for `api.launch`: a real `papercite serve` on loopback, its home and tokens."""

from __future__ import annotations

from api.launch import TeamServer, free_port, make_token

__all__ = ["TeamServer", "free_port", "make_token"]
