"""Checkbox (software cash register, ПРРО) fiscal receipts plugin: sale and return receipts for
card payments and cash on delivery, shifts opened on demand and closed daily. Registered under
the ``crm.plugins`` entry point ``checkbox``; hooks in ``plugins.checkbox.plugin``. docs/fiscal.md
explains the setup."""
