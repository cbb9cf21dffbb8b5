"""JSON-RPC as the LSP specification asks for it, whatever a client sends.

pygls reads frames with a loop that has no answer for a message it cannot read: a request with
invalid params (`position.line: -1`, no `textDocument`) fails inside its JSON decoder, before the
request id is known, and is never answered; a header it does not understand is skipped while the
bytes that follow are taken for more headers, so a bad `Content-Length` leaves a process that no
longer reads anything. Here a frame is cut by `FrameReader` (bytes in, bodies out, pure) and each
body is judged by `PaperciteProtocol.receive` before pygls dispatches it:

- invalid JSON → −32700; not a JSON-RPC message → −32600; params that do not fit the method → −32602,
  each naming the problem;
- a request before `initialize` → −32002, after `shutdown` → −32600; notifications then are dropped;
- `exit` ends the session with 0 after `shutdown`, 1 without;
- text is read as UTF-8 with bad bytes replaced (and said so), and unpaired surrogates escaped in
  JSON strings become U+FFFD (one UTF-16 unit each, so positions still agree).

A framing error cannot be answered (nothing tells where the next message starts): the transport
(server/transport.py) ends the session with a line on stderr, and the editor, which sees the server
exit, can start it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import cattrs
from cattrs.v import format_exception
from lsprotocol import types
from lsprotocol.types import ResponseErrorMessage
from pygls.exceptions import (
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcRequestCancelled,
)
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
)

from core.log_lines import as_warning_line
from core.records import without_surrogates

log = logging.getLogger("papercite.server")

# A header line is a few dozen bytes; a message is at most a document and its change. A 1 MB
# document travels as about 1.1 MB of JSON; 64 MiB leaves room without letting one Content-Length
# make the server wait for (and hold) gigabytes.
MAX_HEADER_LINE = 8 * 1024
MAX_HEADERS = 32
MAX_CONTENT_LENGTH = 64 * 1024 * 1024
# LSP's deepest messages (workspace edits, nested symbols) nest a dozen levels; past this a message
# is refused before any recursive code (cattrs, pygls) walks it.
MAX_DEPTH = 64
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_LENGTH = re.compile(rb"[0-9]{1,30}")
_LEADING_ID = re.compile(
    r'\A\s*\{(?:\s*"(?:jsonrpc|method)"\s*:\s*"[^"\\]*"\s*,)*\s*"id"\s*:\s*(-?[0-9]{1,15}|"[^"\\]{0,100}")\s*[,}]'
)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002


# Errors that are the client's: answered with their code, worth a line in the log but no traceback.
CLIENT_ERRORS = (JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcMethodNotFound, JsonRpcRequestCancelled)


_UNKNOWN_CANCEL = 'Cancel notification for unknown message id "%s"'


class ClientErrorsInOneLine(logging.Filter):
    """pygls logs a refused request with its traceback, as if it were a failure of the server, and
    a warning for every cancel that arrives after its answer."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _UNKNOWN_CANCEL:
            # A cancel that crossed its request's answer is routine (VS Code cancels on every cursor
            # move); a storm of them wrote a warning each (20,000 lines for 20,000 cancels).
            return False
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, CLIENT_ERRORS):
            as_warning_line(record, str(error))
        return True


class FramingError(Exception):
    """The byte stream cannot be read as LSP messages any more."""


class FrameReader:
    """LSP base-protocol framing: `Name: value\\r\\n` headers, a blank line, `Content-Length` bytes."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._length: int | None = None  # of the body being read, once its headers are done
        self._headers: dict[bytes, bytes] = {}

    @property
    def idle(self) -> bool:
        """Between messages: nothing of a next one has arrived."""
        return not self._buffer and self._length is None and not self._headers

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The bodies completed by `data`, in order; FramingError where the stream goes wrong."""
        self._buffer += data
        while True:
            if self._length is not None:
                if len(self._buffer) < self._length:
                    return
                body = bytes(self._buffer[: self._length])
                del self._buffer[: self._length]
                self._length = None
                yield body
                continue
            newline = self._buffer.find(b"\n")
            if newline < 0:
                self._check_partial(bytes(self._buffer))
                return
            line = bytes(self._buffer[:newline]).removesuffix(b"\r")
            del self._buffer[: newline + 1]
            if line:
                self._header(line)
            elif self._headers:
                self._length = self._content_length()
                self._headers = {}
            # A blank line with no header before it carries nothing; it is skipped.

    def _check_partial(self, partial: bytes) -> None:
        """Reject a header line as soon as it cannot become one, not when its newline comes."""
        if len(partial) > MAX_HEADER_LINE:
            raise FramingError(f"a header line longer than {MAX_HEADER_LINE} bytes: {_shown(partial)}")
        name = partial.split(b":", 1)[0].removesuffix(b"\r")
        if name and not _TOKEN.fullmatch(name):
            raise FramingError(f"not a message header: {_shown(partial)}")

    def _header(self, line: bytes) -> None:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise FramingError(f"not a message header: {_shown(line)}")
        if len(self._headers) >= MAX_HEADERS:
            raise FramingError(f"more than {MAX_HEADERS} header lines in one message")
        key = name.lower()
        value = value.strip()
        if key in self._headers and self._headers[key] != value:
            raise FramingError(f"two different {name.decode()} headers in one message")
        self._headers[key] = value

    def _content_length(self) -> int:
        value = self._headers.get(b"content-length")
        if value is None:
            found = ", ".join(name.decode() for name in self._headers)
            raise FramingError(f"a message without a Content-Length header (headers: {found})")
        if not _LENGTH.fullmatch(value):
            raise FramingError(f"Content-Length is not a number of bytes: {_shown(value)}")
        length = int(value)
        if length > MAX_CONTENT_LENGTH:
            raise FramingError(
                f"Content-Length {length} is more than papercite reads in one message ({MAX_CONTENT_LENGTH})"
            )
        return length


def _shown(data: bytes, limit: int = 60) -> str:
    text = repr(data[:limit])[2:-1]
    return f"'{text}…'" if len(data) > limit else f"'{text}'"


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON `value` nests more than `limit` arrays and objects (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _problem(error: BaseException, wanted: type | None) -> str:
    # lsprotocol's validators say what they wanted ("Position.line should be in range ..."); keep it.
    if type(error) is ValueError and str(error):
        return str(error).rstrip(".")
    return format_exception(error, wanted)


def describe_invalid(error: BaseException) -> str:
    """What cattrs found wrong with a message, in the protocol's own names (`params.textDocument`)."""
    if isinstance(error, cattrs.BaseValidationError):
        problems = cattrs.transform_error(error, path="$", format_exception=_problem)
        text = "; ".join(problems[:3]) + ("; …" if len(problems) > 3 else "")
        text = text.replace("@ $.", "@ ")
        return re.sub(r"(?<=[. ])[a-z]+(?:_[a-z0-9]+)+(?=[.\[]|$|;)", lambda m: _camel(m.group(0)), text)
    return str(error) or type(error).__name__


def _valid_id(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


class PaperciteProtocol(LanguageServerProtocol):
    """pygls's protocol, with the lifecycle and the error replies the specification names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before pygls's __init__, which reads every attribute (properties too) to find its features.
        self.initialize_seen = False
        self.shutdown_requested = False
        self.unanswered: set[int | str] = set()  # ids of the client's requests still being served
        self.exit_code: int | None = None
        # Set by the transport: ends the session with an exit code.
        self.on_exit: Callable[[int], None] = lambda code: None
        super().__init__(*args, **kwargs)

    @property
    def is_shut_down(self) -> bool:
        """A shutdown request came (answered or not): from then on only `exit` is expected."""
        return self.shutdown_requested or self._shutdown

    def finish(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
            self.on_exit(code)

    def reply_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})

    def receive(self, body: bytes) -> None:
        """One message body from the client: answered, dispatched, or (a notification) dropped."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            text = body.decode("utf-8", "replace")
            log.warning("a message from the editor was not valid UTF-8: %s", error)
            self._tell(
                "papercite read a message from the editor that was not valid UTF-8 (bad bytes replaced)"
            )
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            log.warning("a message from the editor was not JSON: %s", error)
            # JSON-RPC answers an unreadable message with a null id; when the id leads the message
            # (as editors write it) it is given back, so the editor's request does not wait forever.
            leading = _LEADING_ID.match(text[:300])
            msg_id = json.loads(leading.group(1)) if leading else None
            self.reply_error(msg_id, PARSE_ERROR, f"Parse error: the message is not JSON ({error})")
            return
        if _deeper_than(data, MAX_DEPTH):
            msg_id = data.get("id") if isinstance(data, dict) else None
            self.reply_error(
                msg_id if _valid_id(msg_id) else None,
                INVALID_REQUEST,
                f"Invalid request: nested deeper than {MAX_DEPTH} levels",
            )
            return
        if _SURROGATE_ESCAPE.search(text):
            data = without_surrogates(data)
        self.dispatch(data)

    def dispatch(self, data: Any) -> None:
        if not isinstance(data, dict):
            kind = "a batch (a JSON array)" if isinstance(data, list) else f"a JSON {type(data).__name__}"
            self.reply_error(None, INVALID_REQUEST, f"Invalid request: {kind} is not an LSP message")
            return
        has_id, msg_id, method = "id" in data, data.get("id"), data.get("method")
        if has_id and not _valid_id(msg_id):
            self.reply_error(
                None, INVALID_REQUEST, f"Invalid request: the id {msg_id!r} is not a number or string"
            )
            return
        answer = msg_id if has_id else None
        if data.get("jsonrpc") != "2.0" or (method is not None and not isinstance(method, str)):
            if has_id:
                self.reply_error(answer, INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message")
            else:
                log.warning("dropped a message that is not JSON-RPC 2.0")
            return
        if method is None:  # the client's answer to a request of ours
            if has_id:
                self._structured(data, None)
            return
        params = data.get("params")
        if method == types.CANCEL_REQUEST and not (isinstance(params, dict) and _valid_id(params.get("id"))):
            log.warning("dropped a $/cancelRequest without a request id")
            return
        if method == types.EXIT:
            self.finish(0 if self.is_shut_down else 1)
            return
        if not has_id:
            if not self.initialize_seen or self.is_shut_down:
                log.info(
                    "dropped %s: %s", method, "after shutdown" if self.is_shut_down else "before initialize"
                )
                return
            self._structured(data, None)
            return
        if self.is_shut_down:
            self.reply_error(answer, INVALID_REQUEST, f"Invalid request: {method} after shutdown")
        elif method == types.INITIALIZE and self.initialize_seen:
            self.reply_error(answer, INVALID_REQUEST, "Invalid request: initialize was already sent")
        elif method != types.INITIALIZE and not self.initialize_seen:
            self.reply_error(
                answer, SERVER_NOT_INITIALIZED, f"Server not initialized: {method} before initialize"
            )
        else:
            self._structured(data, msg_id)

    def _structured(self, data: dict[str, Any], msg_id: int | str | None) -> None:
        """Typed by lsprotocol, then handed to pygls; a request whose params do not fit gets −32602."""
        method = data.get("method")
        try:
            message: Any = self._converter.structure(data, self._message_type(data))
        except Exception as error:
            if method is None:  # an answer we cannot read still ends the wait for it
                waiting = self._request_futures.pop(data["id"], None)
                if waiting is not None and not waiting.done():
                    waiting.set_exception(
                        JsonRpcInternalError(f"unreadable answer: {describe_invalid(error)}")
                    )
            if msg_id is None:
                log.warning(
                    "dropped %s with invalid params: %s", method or "a response", describe_invalid(error)
                )
                return
            self.reply_error(
                msg_id, INVALID_PARAMS, f"Invalid params for {method}: {describe_invalid(error)}"
            )
            return
        if method == types.INITIALIZE:
            self.initialize_seen = True
        elif method == types.SHUTDOWN:
            self.shutdown_requested = True
        if msg_id is not None:
            self.unanswered.add(msg_id)
        self.handle_message(message)

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        self.unanswered.discard(msg_id)
        super()._send_response(msg_id, result, error)

    async def answer_pending(self, seconds: float) -> None:
        """Let the requests already read be answered (for a while), as when the stream ends."""
        for _ in range(int(seconds / 0.01)):
            if not self.unanswered:
                return
            await asyncio.sleep(0.01)

    def _message_type(self, data: dict[str, Any]) -> type:
        """The lsprotocol class of a message (pygls's own choice, without its traceback logging)."""
        method = data.get("method")
        if method is not None:
            fallback = JsonRPCRequestMessage if "id" in data else JsonRPCNotification
            return self.get_message_type(method) or fallback
        if "error" in data:
            return ResponseErrorMessage
        return self._result_types.pop(data["id"], None) or JsonRPCResponseMessage

    def _tell(self, message: str) -> None:
        self.notify(
            types.WINDOW_SHOW_MESSAGE,
            types.ShowMessageParams(type=types.MessageType.Warning, message=message),
        )
