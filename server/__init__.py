"""CRM backend: a multi-tenant GraphQL API for online sellers and service companies."""
