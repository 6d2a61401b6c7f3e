"""The NGO's web console: server-rendered pages over the central database.

`app` mounts it and holds what pages share, `access` signs staff in and out
and manages devices and users, `pages` shows clinics and documents,
`security` hashes passwords and tokens, `messages` holds the two languages.
"""
