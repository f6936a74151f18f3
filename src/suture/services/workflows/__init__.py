"""Process managers: workflows across systems with persisted state per business key
(DESIGN.md §4). Each step is a bus handler, so it commits its effects, the event that starts
the next step and its tracking row together: a crash between steps resumes at the next one,
exactly once. ``usage.py``: usage → inventory → replenishment → cost → expected charge.
"""
