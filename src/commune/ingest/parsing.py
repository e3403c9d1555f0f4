"""Reading files under a time limit: `[limits] max_parse_seconds`.

With a limit, files are parsed in a child process (started once per batch, from a clean
forkserver, so it is safe inside a threaded server); a file that takes longer is stopped,
refused with a one-line error, and the batch goes on with a fresh child. Without a limit
(the default: a child costs about a second per batch), files are parsed in-process; the
costly inputs known (zip bombs, deep HTML, huge files) are refused before parsing anyway.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from commune.errors import IngestError
from commune.ingest.readers import read_file


class Parser:
    def __init__(self, limit_s: float | None) -> None:
        self.limit_s = limit_s
        self.pool: Any = None

    def read(self, data: bytes, path: Path) -> Any:
        if not self.limit_s:
            return read_file(data, path)
        if self.pool is None:
            self.pool = multiprocessing.get_context("forkserver").Pool(1)
        pending = self.pool.apply_async(read_file, (data, path))
        try:
            return pending.get(self.limit_s)
        except multiprocessing.TimeoutError:
            self.pool.terminate()  # the child may be stuck in C code: stop it, start another
            self.pool = None
            raise IngestError(
                f"{path.name}: reading it took more than {self.limit_s:g} s",
                "split the document, or raise [limits] max_parse_seconds",
            ) from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None
