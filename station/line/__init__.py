"""The line: every station's journal replicated to one PostgreSQL database, and the checks that span stations.

SQLite stays each station's system of record; the line database is a replica fed by store and forward
(``replicator``), described by ``schema``; ``throwaway_pg`` starts a private server for tests, the demo and the
benchmark.
"""
