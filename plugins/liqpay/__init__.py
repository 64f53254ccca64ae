"""LiqPay (PrivatBank) acquiring plugin: checkout links, signed server callbacks, status and
refunds. Registered under the ``crm.plugins`` entry point ``liqpay``; hooks in
``plugins.liqpay.plugin``. docs/payments.md explains the setup."""
