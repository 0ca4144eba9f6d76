"""Model families: one subpackage per family, each a small `Protocol` with real backends.

Nothing here imports `realtime` or `coaching`: models know nothing of sessions or exercises.
A family's weights live under `models.paths.weights_dir()`, filled once by `python -m models.prepare`.
"""
