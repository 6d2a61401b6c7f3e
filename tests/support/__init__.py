"""Helpers the tests share (and the sync benchmark: the loopback server)."""
