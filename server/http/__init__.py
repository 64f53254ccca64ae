"""The HTTP layer shared by every endpoint: bounded request bodies, safe JSON, CORS."""
