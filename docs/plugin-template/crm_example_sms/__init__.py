"""Example SMS gateway plugin for the CRM (a template: copy, rename, adapt)."""
