"""The charter as code: its rules (rules.py), the five steps every answer goes through
(steps.py, path.py), the answer cache, the decision records and the transparency page."""
