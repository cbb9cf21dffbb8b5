"""Named, ordered schema migrations. Each runs once, inside a transaction; never edit a landed one."""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_papers",
        """
        CREATE TABLE papers (
            key TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            abstract TEXT NOT NULL DEFAULT '',
            authors TEXT NOT NULL DEFAULT '[]',
            year INTEGER,
            venue TEXT NOT NULL DEFAULT '',
            doi TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            arxiv_id TEXT NOT NULL DEFAULT '',
            keywords TEXT NOT NULL DEFAULT '[]',
            entry_type TEXT NOT NULL DEFAULT 'article',
            title_derived INTEGER NOT NULL DEFAULT 0,
            extra TEXT NOT NULL DEFAULT '[]',
            identity TEXT NOT NULL,
            added_at TEXT NOT NULL DEFAULT (datetime('now')),
            updated_at TEXT NOT NULL DEFAULT (datetime('now'))
        );
        CREATE INDEX papers_doi ON papers (doi) WHERE doi != '';
        CREATE INDEX papers_arxiv_id ON papers (arxiv_id) WHERE arxiv_id != '';
        CREATE INDEX papers_identity ON papers (identity);
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
    (
        "0002_provenance",
        """
        CREATE TABLE provenance (
            key TEXT NOT NULL REFERENCES papers (key) ON DELETE CASCADE,
            origin TEXT NOT NULL,
            format TEXT NOT NULL,
            seen_at TEXT NOT NULL DEFAULT (datetime('now')),
            PRIMARY KEY (key, origin)
        );
        """,
    ),
    (
        "0003_change_log",
        # What the search index still has to apply; AUTOINCREMENT keeps seq rising after trims.
        """
        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert', 'remove'))
        );
        INSERT INTO changes (key, op) SELECT key, 'upsert' FROM papers;
        """,
    ),
    (
        "0004_tokens",
        # Who may use `papercite serve`: only a hash of each token is kept (tokens are 32 random
        # bytes, so a plain SHA-256 cannot be reversed by guessing).
        """
        CREATE TABLE tokens (
            name TEXT PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        );
        """,
    ),
    (
        "0005_rate_buckets",
        # Per-token request counts shared by every `serve` node over one PostgreSQL store
        # (api/store_rate.py); a folder's server keeps them in a file in its home instead.
        """
        CREATE TABLE rate_buckets (
            name TEXT PRIMARY KEY,
            tokens REAL NOT NULL,
            at REAL NOT NULL,
            allowed INTEGER NOT NULL
        );
        """,
    ),
    (
        "0006_follows",
        # Slack channels following topics, and what their digests need (see core/follows.py).
        # `arrivals` numbers papers in the order they entered the store: the change log is trimmed
        # once the index has applied it, so "new since the last digest" needs an order of its own.
        # Times are ISO 8601 in UTC, written by the caller's clock, so they compare as text.
        """
        CREATE TABLE arrivals (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL
        );
        CREATE TABLE follows (
            channel TEXT NOT NULL,
            number INTEGER NOT NULL,
            query TEXT NOT NULL DEFAULT '',
            by_library INTEGER NOT NULL DEFAULT 0,
            at_minute INTEGER NOT NULL DEFAULT 540,
            weekly INTEGER NOT NULL DEFAULT 0,
            time_zone TEXT NOT NULL DEFAULT 'UTC',
            created_by TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            last_digest_at TEXT NOT NULL,
            last_arrival INTEGER NOT NULL,
            PRIMARY KEY (channel, number)
        );
        CREATE TABLE channel_papers (
            channel TEXT NOT NULL,
            key TEXT NOT NULL,
            how TEXT NOT NULL,
            PRIMARY KEY (channel, key)
        );
        CREATE TABLE digest_shown (
            channel TEXT NOT NULL,
            key TEXT NOT NULL,
            shown_at TEXT NOT NULL,
            PRIMARY KEY (channel, key)
        );
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            until TEXT NOT NULL
        );
        """,
    ),
    (
        "0007_web_sources",
        # The web sources' answers and pacing slots of nodes sharing a PostgreSQL store, so that a
        # lookup made through one node is cached for all and arXiv's pace holds across them (see
        # core/sources/shared_state.py). A folder's home keeps them in sources.sqlite3 instead,
        # apart from the store: an ingest's long write must not hold up a harvest's next request.
        """
        CREATE TABLE source_pace (
            host TEXT PRIMARY KEY,
            next_at REAL NOT NULL
        );
        CREATE TABLE source_responses (
            url TEXT PRIMARY KEY,
            body BLOB NOT NULL,
            fetched_at REAL NOT NULL
        );
        """,
    ),
)
