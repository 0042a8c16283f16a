"""Decisions: the decision log (ingest, outcomes, queries, timeline pages)."""
