"""Store-and-forward sync: the device client and the central server.

Depends on the core (`edgebox`); the core never imports it. Filled by the sync issue.
"""
