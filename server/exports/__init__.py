"""Exports: a main list with its filters as CSV or XLSX, and an owner's full organization export
(JSON lines in a zip), built by a background job, stored in the database, downloaded through an
expiring link. See docs/import-export.md."""
