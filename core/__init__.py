"""papercite core: records, ingestion formats, cite keys, store, index and search."""
