"""OAuth 2 for partners: client credentials, per organization (docs/partners.md)."""
