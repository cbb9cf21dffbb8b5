"""The app manifest declares what the bot uses: the command, the events, the scopes, interactivity."""

from __future__ import annotations

import re

from bots.listeners.commands import COMMAND
from bots.main import EVENTS_PATH
from tests.conftest import REPO


def test_manifest_matches_the_code() -> None:
    text = (REPO / "manifest.yml").read_text()
    assert f"- command: {COMMAND}" in text
    assert "usage_hint:" in text and "description:" in text
    hint = re.search(r'usage_hint: "([^"]*)"', text)
    assert hint and all(word in hint.group(1) for word in ("follow TOPIC", "following", "unfollow N"))
    for scope in (
        "commands",
        "chat:write",
        "app_mentions:read",
        "channels:history",
        "reactions:write",
        "users:read",
    ):
        assert re.search(rf"^\s+- {re.escape(scope)}$", text, re.MULTILINE), scope
    assert "- app_mention" in text and "- message.channels" in text and "- message.groups" in text
    assert re.search(r"interactivity:\n\s+is_enabled: true", text)
    assert all(url.endswith(EVENTS_PATH) for url in re.findall(r"url: (\S+)", text))
