"""The stages and adapters of Log Gardener: plain functions and classes."""
