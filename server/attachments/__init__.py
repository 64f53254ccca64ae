"""Files attached to accounts, orders, deals, tickets and conversation messages (docs/attachments.md)."""
