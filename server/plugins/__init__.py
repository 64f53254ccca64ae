"""The plugin platform: hookspecs (the plugin API), discovery, per-organization installations,
encrypted secrets and inbound webhooks."""
