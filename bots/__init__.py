"""papercite Slack bot."""
