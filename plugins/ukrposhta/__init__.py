"""Ukrposhta (Ukraine) delivery plugin: tracking of parcels by barcode only.

Registered under the ``crm.plugins`` entry point ``ukrposhta`` (see pyproject.toml); the hooks
are in ``plugins.ukrposhta.plugin``. Parcels are created in Ukrposhta's own cabinet or at a
branch and attached to orders with ``registerShipment`` (docs/delivery.md)."""
