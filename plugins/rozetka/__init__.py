"""Built-in Rozetka Seller API plugin (marketplace): see plugins/rozetka/plugin.py and docs/marketplaces.md."""
