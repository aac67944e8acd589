"""Runs: the one lifecycle every kind of run goes through (spec -> key, open or resume, record, finish),
its provenance, and the typed reading of the records it saves."""
