"""The limits of each number a runner logs by hand (``tendon log``, the check-in page).

Plain tuples in their own module: the command line builds its option ranges from them at start,
without importing the models behind the log (``domain/logbook.py`` checks entries against them).
"""

# inclusive limits (tendon log's option ranges are these)
SETS = (1, 50)
REPS = (1, 500)
SECONDS = (1.0, 3600.0)  # hold or work time per set
LOAD_KG = (0.0, 500.0)  # external load; body weight is implied
PAIN = (0, 10)
REPS_IN_RESERVE = (0, 20)  # reps that could still have been done
RACE_KM = (0.0, 400.0)  # above 0 (exclusive), up to the longest single-stage ultras
RACE_PRIORITIES = ("A", "B", "C")  # A: goal race (tapered for); B: light taper; C: training race
RACE_NAME_MAX_CHARS = 100  # project choice: a label for the plan and the coach, not a document
