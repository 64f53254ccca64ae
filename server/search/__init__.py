"""Search: one box over accounts, contacts, orders, deals and tickets (docs/search.md)."""
