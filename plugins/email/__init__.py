"""E-mail over SMTP (plugins/email/plugin.py)."""
