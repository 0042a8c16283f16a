"""Signals: cross-agent signals (publish, inbox, acknowledge, flow pages)."""
