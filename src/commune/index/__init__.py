"""Search indexes: derived caches, rebuilt from the database when it changes.

Two small contracts (:class:`LexicalIndex`, :class:`VectorIndex`) so engines
can be swapped; the conformance kit in tests/ runs against each.
"""
