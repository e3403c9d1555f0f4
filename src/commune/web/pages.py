"""The pages moved to ``commune.web.routes`` (one router per concern). This name stays only
for api/app.py's ``from commune.web.pages import install`` until it imports
``commune.web.routes``; then this file goes."""

from __future__ import annotations

from commune.web.routes import install

__all__ = ["install"]
