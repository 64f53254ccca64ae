"""monobank acquiring (Plata by mono) plugin: invoices, webhooks verified with monobank's ECDSA
``X-Sign``, refunds. Registered under the ``crm.plugins`` entry point ``monobank``; hooks in
``plugins.monobank.plugin``. docs/payments.md explains the setup."""
