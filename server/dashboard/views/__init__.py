"""The dashboard's pages, one module each. All read-only (GET): actions live in the
rectification and administration apps, which these pages link and post to."""
