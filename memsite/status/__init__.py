"""The system status page: storage backend, tables, TTL, item counts, Redis."""
