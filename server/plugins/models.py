"""Plugin installations per organization (filled in by the plugin platform work)."""
