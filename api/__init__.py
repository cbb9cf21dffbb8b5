"""`papercite serve`: the library as an HTTP JSON API, for a team's editors, CLIs and Slack bot."""
