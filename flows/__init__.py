"""Prefect flows of Log Gardener and its `gardener` command line."""
