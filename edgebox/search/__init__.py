"""Search and similar cases: SQLite FTS5 and embedding vectors, fused by
reciprocal rank.

`embed` loads the sentence-embedding model that is on this box (never a hub
download); `index` chunks and embeds documents and answers queries. The SQL
is in `edgebox.store`.
"""
