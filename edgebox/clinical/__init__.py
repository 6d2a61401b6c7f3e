"""Clinical knowledge that needs no model: the red-flag rules (danger and
priority signs, vital-sign thresholds) and the vital signs read from text.

Read by the triage engine and by the learned models' features alike, so that
a sign or a reading is recognised once and the same way everywhere.
"""
