"""Built-in Prom.ua marketplace plugin: see plugins/prom/plugin.py and docs/marketplaces.md."""
