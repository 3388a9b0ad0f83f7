"""The line dashboard: a read-only web page over the line database (server, queries, CSV export, static page)."""
