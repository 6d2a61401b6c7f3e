"""Store-and-forward sync: the device client and the central server.

Depends on the core (`edgebox`); the core never imports it. `payload` is the
protocol both sides share; `client`, `loop` and `documents` run on the clinic
box; `server`, `central_db` and `central_documents` are the central server;
`cli` holds the `edgebox sync` and `edgebox central` commands.
"""
