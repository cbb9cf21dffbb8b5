"""The API described in OpenAPI 3.1, served at /v1/openapi.json (docs/api.md explains it in words)."""

from __future__ import annotations

from typing import Any

VERSION = "1"

_ERROR = {"$ref": "#/components/responses/Error"}
_KEYS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["keys"],
                "properties": {"keys": {"type": "array", "items": {"type": "string"}, "maxItems": 2000}},
            }
        }
    },
}

_PAPERS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"papers": {"type": "array", "items": {"$ref": "#/components/schemas/Paper"}}},
            }
        }
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(summary: str, scope: str | None, ok: dict[str, Any], **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {"200": ok}}
    if scope:
        operation["security"] = [{"token": [scope]}]
        operation["description"] = f"Needs a {scope} token."
        operation["responses"].update(
            {"400": _ERROR, "401": _ERROR, "429": _ERROR, **({"403": _ERROR} if scope == "write" else {})}
        )
    operation.update(extra)
    return operation


def document() -> dict[str, Any]:
    paper = {
        "type": "object",
        "required": ["key", "title"],
        "properties": {
            "key": {"type": "string"},
            "title": {"type": "string"},
            "abstract": {"type": "string"},
            "authors": {"type": "array", "items": {"type": "string"}},
            "year": {"type": "integer"},
            "venue": {"type": "string"},
            "doi": {"type": "string"},
            "url": {"type": "string"},
            "arxiv_id": {"type": "string"},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "entry_type": {"type": "string", "default": "article"},
            "title_derived": {"type": "boolean"},
            "extra": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
            "origin": {"type": "string"},
            "format": {"type": "string"},
        },
    }
    problems = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "line": {"type": "integer"},
                "reason": {"type": "string"},
            },
        },
    }
    report = {
        "type": "object",
        "properties": {
            "added": {"type": "array", "items": {"type": "string"}},
            "updated": {"type": "array", "items": {"type": "string"}},
            "unchanged": {"type": "array", "items": {"type": "string"}},
            "failed": problems,
            "skipped": {"type": "array", "items": {"type": "string"}},
            "warnings": problems,
        },
    }
    search_body = {
        "type": "object",
        "description": "Either `query` (text, cleaned as the CLI cleans it) or `terms` (weighted words, "
        "as the language server sends them).",
        "properties": {
            "query": {"type": "string", "maxLength": 100000},
            "terms": {"type": "object", "additionalProperties": {"type": "number"}},
            "k": {"type": "integer", "minimum": 1, "maximum": 200, "default": 10},
            "year_from": {"type": "integer"},
            "year_to": {"type": "integer"},
            "author": {"type": "string"},
            "exclude": {"type": "array", "items": {"type": "string"}},
            "meaning": {
                "type": "string",
                "maxLength": 100000,
                "description": "the text whose sentence vector re-ranks BM25's candidates "
                "(default: `query`); with `terms` alone the ranking is BM25's",
            },
            "semantic": {
                "type": "boolean",
                "description": "false: rank by BM25 alone (default: the server's setting)",
            },
            "statistics": {
                "type": "boolean",
                "description": "with `terms`: also return the index's word statistics for them",
            },
        },
    }
    hit = {
        "type": "object",
        "properties": {"paper": _ref("Paper"), "score": {"type": "number"}, "rank": {"type": "integer"}},
    }
    key_path = [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}]
    keys = _json({"type": "object", "properties": {"keys": {"type": "array", "items": {"type": "string"}}}})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "papercite",
            "version": VERSION,
            "description": "One index of paper abstracts for a team: search by the sentence you are "
            "writing, look papers up by key, add and remove them.",
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Paper": paper, "Report": report, "Hit": hit},
            "responses": {
                "Error": _json(
                    {
                        "type": "object",
                        "required": ["error", "code"],
                        "properties": {
                            "error": {"type": "string"},
                            "code": {"type": "string"},
                            "key": {"type": "string"},
                            "suggestions": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "An error, in words (`error`) and as a name (`code`)",
                )
            },
        },
        "paths": {
            "/healthz": {
                "get": _operation(
                    "Whether the server is up, and how many papers it holds",
                    None,
                    _json({"type": "object", "properties": {"ok": {}, "papers": {"type": "integer"}}}),
                )
            },
            "/v1/search": {
                "post": _operation(
                    "The best papers for a text or weighted terms",
                    "read",
                    _json(
                        {
                            "type": "object",
                            "properties": {
                                "hits": {"type": "array", "items": _ref("Hit")},
                                "statistics": {
                                    "type": "object",
                                    "properties": {
                                        "documents": {"type": "integer"},
                                        "doc_freq": {
                                            "type": "object",
                                            "additionalProperties": {"type": "integer"},
                                        },
                                    },
                                },
                            },
                        }
                    ),
                    requestBody={"required": True, "content": {"application/json": {"schema": search_body}}},
                )
            },
            "/v1/similarities": {
                "post": _operation(
                    "Cosine of a citing text's sentence vector with each key's (keys without one left "
                    "out); null when the server does not fuse, or the vector is not ready within `wait`",
                    "read",
                    _json(
                        {
                            "type": "object",
                            "properties": {
                                "similarities": {
                                    "type": ["object", "null"],
                                    "additionalProperties": {"type": "number"},
                                }
                            },
                        }
                    ),
                    requestBody={
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["text", "keys"],
                                    "properties": {
                                        "text": {"type": "string", "maxLength": 100_000},
                                        "keys": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                            "maxItems": 2000,
                                        },
                                        "wait": {
                                            "type": "number",
                                            "minimum": 0,
                                            "maximum": 0.2,
                                            "default": 0.05,
                                        },
                                    },
                                }
                            }
                        },
                    },
                )
            },
            "/v1/papers/{key}": {
                "get": _operation(
                    "One paper (404 `unknown_key` with `suggestions`)",
                    "read",
                    _json({"type": "object", "properties": {"paper": _ref("Paper")}}),
                    parameters=key_path,
                )
            },
            "/v1/papers/{key}/bibtex": {
                "get": _operation(
                    "One paper's BibTeX entry",
                    "read",
                    {
                        "description": "OK",
                        "content": {"application/x-bibtex": {"schema": {"type": "string"}}},
                    },
                    parameters=key_path,
                )
            },
            "/v1/papers/lookup": {
                "post": _operation(
                    "The papers of these keys that the index holds",
                    "read",
                    _json(
                        {
                            "type": "object",
                            "properties": {
                                "papers": {"type": "object", "additionalProperties": _ref("Paper")}
                            },
                        }
                    ),
                    requestBody=_KEYS_BODY,
                )
            },
            "/v1/papers/match": {
                "post": _operation(
                    "The key the index holds each of these papers under (same DOI, arXiv id, or title "
                    "and first author), null where none",
                    "read",
                    _json(
                        {
                            "type": "object",
                            "properties": {"keys": {"type": "array", "items": {"type": ["string", "null"]}}},
                        }
                    ),
                    requestBody=_PAPERS_BODY,
                )
            },
            "/v1/keys": {
                "get": _operation(
                    "Keys starting with a prefix, in key order",
                    "read",
                    keys,
                    parameters=[
                        {"name": "prefix", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 2000}},
                    ],
                )
            },
            "/v1/keys/near": {
                "get": _operation(
                    "Keys sharing a key's first letters: the pool for 'did you mean'",
                    "read",
                    keys,
                    parameters=[
                        {"name": "key", "in": "query", "required": True, "schema": {"type": "string"}}
                    ],
                )
            },
            "/v1/stats": {"get": _operation("What the index holds", "read", _json({"type": "object"}))},
            "/v1/changes": {
                "get": _operation(
                    "A number that moves whenever papers are added, changed or removed",
                    "read",
                    _json({"type": "object", "properties": {"change": {"type": "integer"}}}),
                )
            },
            "/v1/ingest": {
                "post": _operation(
                    "Add the papers of one file (BibTeX, CSL-JSON, JSON Lines, arXiv metadata)",
                    "write",
                    _json(_ref("Report")),
                    parameters=[
                        {
                            "name": "name",
                            "in": "query",
                            "description": "how the report names the file",
                            "schema": {"type": "string"},
                        }
                    ],
                    requestBody={
                        "required": True,
                        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                    },
                )
            },
            "/v1/papers": {
                "post": _operation(
                    "Add papers given as records",
                    "write",
                    _json(_ref("Report")),
                    requestBody=_PAPERS_BODY,
                )
            },
            "/v1/papers/remove": {
                "post": _operation(
                    "Remove papers by key (404 `unknown_key` if one is not there; then none is removed)",
                    "write",
                    _json({"type": "object", "properties": {"removed": {"type": "array"}}}),
                    requestBody=_KEYS_BODY,
                )
            },
            "/v1/reindex": {
                "post": _operation(
                    "Rebuild the search index from the store",
                    "write",
                    _json({"type": "object", "properties": {"papers": {"type": "integer"}}}),
                )
            },
        },
    }
