"""Log records of a client's mistake, made into one warning line."""

from __future__ import annotations

import logging


def as_warning_line(record: logging.LogRecord, detail: str) -> None:
    """`record`, an error logged with a traceback for something a client sent, as one WARNING line
    ending in `detail`: any client could otherwise fill the log with tracebacks."""
    record.msg, record.args = f"{record.getMessage()}: {detail}", ()
    record.exc_info, record.exc_text = None, None
    record.levelno, record.levelname = logging.WARNING, "WARNING"
