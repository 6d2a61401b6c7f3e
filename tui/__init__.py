"""The Textual terminal UI for field staff.

Depends on the core (`edgebox`); the core never imports it. Filled by the UI issue.
"""
