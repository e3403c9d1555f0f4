"""The open evaluation: run a suite of questions against a deployment and report.

A suite is JSONL (:mod:`.suite`); :mod:`.runner` asks each question through the
same library calls the CLI and the API use; :mod:`.metrics` judges retrieval
(with ranx), answers, citations and refusals; :mod:`.pins` records what is
needed to reproduce a run; :mod:`.report` writes JSON and HTML and compares runs.
"""

from commune.evaluation.suite import Case, Suite, load_suite

__all__ = ["Case", "Suite", "load_suite"]
