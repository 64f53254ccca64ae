"""`crm worker` that counts the SQL statements it sends, for bench/notifications.py.

    python bench/counting_worker.py worker        # the same arguments as `crm worker`

Every statement Tortoise sends is logged by it at debug level ("tortoise.db_client"); a handler
here counts those that start with a SQL verb (as tests/helpers.py's QueryCounter does) and a
thread writes the running total to BENCH_SQL_COUNT_FILE five times a second, so the bench can
read it before and after its measured phase. Counting costs a log record per statement; the
bench's throughput figures include that cost."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        query = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        if str(query).lstrip()[:6].upper().startswith(VERBS):
            self.count += 1


def main() -> None:
    counter = Counter()
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    logger.propagate = False  # counted, not printed
    target = Path(os.environ["BENCH_SQL_COUNT_FILE"])

    def write() -> None:
        scratch = target.with_suffix(".tmp")
        while True:  # renamed into place: the bench never reads a half-written file
            scratch.write_text(str(counter.count))
            scratch.replace(target)
            time.sleep(0.2)

    threading.Thread(target=write, daemon=True).start()
    from server.cli import app

    sys.argv = ["crm", *sys.argv[1:]]
    app()


if __name__ == "__main__":
    main()
