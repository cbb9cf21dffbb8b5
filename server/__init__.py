"""papercite language server."""
