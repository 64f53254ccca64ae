"""Plugins used by the plugin platform's tests (tests/test_plugins*.py)."""
