"""The NGO's central server: receives every box's results (and, when a box
sends them, its raw documents), on SQLite or PostgreSQL.

`server` is the ASGI app, `database` every central SQL statement,
`document_store` the raw documents' chunks, `auth` the device tokens,
`clock` each box's clock skew. It shares only the protocol
(`edgebox.sync.payload`) and the errors with the box's sync client, and needs
none of the box's model libraries.
"""
