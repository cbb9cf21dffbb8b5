"""Reading Slack's refusals: one place for the codes the bot acts on."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

# Slack's errors for a channel the bot can no longer post to.
CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def error_code(error: SlackApiError) -> str:
    """Slack's error code in a refusal ("" when the answer was not Slack's JSON)."""
    data = getattr(error.response, "data", None)
    return str(data.get("error") or "") if isinstance(data, dict) else ""
