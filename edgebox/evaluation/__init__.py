"""Measuring triage on labelled data: `edgebox eval` (`evaluate`), repeated
cross-validation (`crossval`, run by scripts/crossval.py) and the bound any
emergency threshold could reach (`ceiling`). Every figure comes from the
deployed decision path, `edgebox.triage.combine.decide`.
"""
