"""The charter as code: its rules (rules.py), the five steps every answer goes through
(steps.py; answering/path.py runs them), the charter in force and its decision records
(book.py, records.py), the model catalogue (catalogue.py), the evaluation scores the steps
read (scores.py) and the transparency page's data (transparency.py)."""
