"""Nova Poshta (Ukraine) delivery plugin: waybills, tracking, cities and branches.

Registered like any third-party plugin, under the ``crm.plugins`` entry point ``novaposhta``
(see pyproject.toml); the hooks are in ``plugins.novaposhta.plugin``."""
