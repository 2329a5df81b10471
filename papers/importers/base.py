"""What every importer shares: the error it raises and the reading of a file's bytes."""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path

DOWNLOAD_TIMEOUT = 60  # seconds
MAX_DOWNLOAD = 200 * 1024 * 1024  # bytes; a big conference's file is tens of MB

# progress(done, total): called now and then during a long import.
Progress = Callable[[int, int], None]


class ImportFailed(Exception):
    """The file cannot be imported. The message names the record and the problem; nothing was written."""


def progress_printer(write: Callable[[str], None], noun: str, *, verbosity: int = 1) -> Progress:
    """A Progress that writes "  1,500 of 2,260 notes checked…" lines, for files long enough to wait for."""

    def progress(done: int, total: int) -> None:
        if verbosity >= 1 and total > 500:
            write(f"  {done:,} of {total:,} {noun} checked…")

    return progress


def plural(count: int) -> str:
    return "" if count == 1 else "s"


def record_label(index: int, record: object) -> str:
    """'record 5 (id abc)': 1-based, with the record's id when it has one, as a user would look it up."""
    label = f"record {index + 1}"
    if isinstance(record, dict):
        record_id = record.get("id") or record.get("forum") or record.get("uid")
        if isinstance(record_id, str | int) and not isinstance(record_id, bool):
            label += f" (id {printable(str(record_id)[:80])})"
    return label


def printable(text: str) -> str:
    """
    Text fit for a one-line message: each surrogate (a byte that was not UTF-8, or a lone \\ud800 from a
    JSON escape) becomes U+FFFD, which a terminal or a log can write; a line break becomes its escape
    (\\n), so that a message stays on its one line.
    """
    text = SURROGATES.sub("\ufffd", text)
    return LINE_BREAKS.sub(lambda match: match[0].encode("unicode_escape").decode("ascii"), text)


SURROGATES = re.compile("[\ud800-\udfff]")
LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # where str.splitlines() breaks


def excerpt(value: object, limit: int = 80) -> str:
    """A value quoted for a one-line message: repr() of at most limit characters of it, "…" when cut."""
    if isinstance(value, str):
        return repr(value[:limit]) + ("…" if len(value) > limit else "")
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def decode_text(data: bytes) -> str:
    """
    Decode UTF-8 (a BOM is tolerated). Bytes that are not UTF-8 are kept as surrogates so that the
    parser can still tell which record holds them; `find_invalid_text` then names that record.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="surrogateescape")


# No record of any file is nested this deep (a note is 3 levels, a schedule entry 3); deeper is hostile,
# and the walks below, the messages' repr() and Django's JSON fields would each recurse through it.
MAX_DEPTH = 32


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """True when lists or objects in value are nested more than limit levels deep (checked without recursion)."""
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


def has_invalid_text(value: object) -> bool:
    """True when a string anywhere in value holds bytes that were not UTF-8 (checked without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def clean_text(label: str, value: object, name: str, *, max_length: int | None = None, required: bool = False) -> str:
    """
    A record's text field, stripped, or ImportFailed naming the record and the field. Checked here,
    not left to the database, so SQLite and PostgreSQL reject the same files with the same message.
    """
    if value is None:
        if required:
            raise ImportFailed(f"{label}: has no {name}.")
        return ""
    if not isinstance(value, str):
        raise ImportFailed(f"{label}: {name} must be a string, not {type_name(value)}.")
    value = value.strip()
    if required and not value:
        raise ImportFailed(f"{label}: {name} is empty.")
    if "\x00" in value:
        raise ImportFailed(f"{label}: {name} contains a NUL character.")
    if max_length is not None and len(value) > max_length:
        raise ImportFailed(f"{label}: {name} is longer than {max_length:,} characters.")
    return value


# The longest number any file holds is a paper's; Python refuses to read an int of over 4,300 digits
# with a ValueError that is no JSONDecodeError, so longer ones are refused here first, by the record.
MAX_DIGITS = 40


class UnreadableValue(ValueError):
    """Valid to Python's json module but not JSON a file should hold: NaN, Infinity, a number of 40+ digits."""


def _parse_int(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise UnreadableValue(f"holds a number of {len(text.lstrip('-')):,} digits")
    return int(text)


def _parse_constant(name: str) -> float:
    raise UnreadableValue(f"holds {name}, which is not JSON")


# Every importer reads JSON with this decoder and reports what it raises with json_problem().
DECODER = json.JSONDecoder(parse_int=_parse_int, parse_constant=_parse_constant)


def json_problem(error: Exception, text: str) -> str:
    """What is wrong, for a JSONDecodeError, an UnreadableValue or a RecursionError raised by DECODER."""
    if isinstance(error, json.JSONDecodeError):
        truncated = error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string")
        reason = "the file ends in the middle of it (truncated?)" if truncated else error.msg
        return f"invalid JSON at {line_and_column(text, error.pos)}: {reason}"
    if isinstance(error, RecursionError):
        return "nested too deeply to be a record"
    return str(error)


JSON_ERRORS = (json.JSONDecodeError, UnreadableValue, RecursionError)


def too_far_out(moment: date) -> bool:
    """
    True for a date or time in the years 1 or 9999: a time zone can move it past what datetime holds,
    and converting it (to UTC for the database, to the conference's days) raises OverflowError.
    """
    return not 1 < moment.year < 9999


def line_and_column(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def parse_records(text: str, *, list_keys: tuple[str, ...]) -> list:
    """
    Parse a JSON array, JSON Lines, or an object holding the array under one of list_keys.

    Array elements are decoded one at a time so that a truncated or broken file is reported
    against the record where it breaks, not only as a byte offset.
    """
    stripped_start = len(text) - len(text.lstrip())
    if stripped_start == len(text):
        raise ImportFailed("The file is empty.")
    first = text[stripped_start]
    if first == "[":
        return _parse_array(text, stripped_start)
    if first != "{":
        raise ImportFailed(
            f"Not a JSON file ({line_and_column(text, stripped_start)}): expected a JSON array, "
            "JSON Lines, or an object."
        )
    try:
        whole, end = DECODER.raw_decode(text, stripped_start)
    except JSON_ERRORS as error:
        # An object holding the records ({"results": [...]}): name the record that breaks it.
        for key in list_keys:
            found, broken = find_broken_record(text, key, _record_after)
            if broken is not None:
                raise ImportFailed(str(broken)) from None
            if found:
                raise ImportFailed(f"Outside the records: {json_problem(error, text)}.") from None
        raise ImportFailed(f"record 1: {json_problem(error, text)}.") from None
    if not text[end:].strip():
        for key in list_keys:
            if isinstance(whole, dict) and key in whole:
                records = whole[key]
                if not isinstance(records, list):
                    raise ImportFailed(f'"{key}" must be a list of records, not {type_name(records)}.')
                return records
        return [whole]
    return _parse_lines(text)


UNCLOSED = "the file ends before the array is closed (truncated?)"


class BrokenRecord(Exception):
    """An element of a JSON array that cannot be read: its label and what is wrong."""

    def __init__(self, label: str, problem: str):
        super().__init__(f"{label}: {problem}.")
        self.label = label


def _record_after(number: int, records: list) -> str:
    """'record 3 (after id abc)': the id of the record before, since this one could not be read."""
    label = f"record {number}"
    if records and isinstance(records[-1], dict):
        label += f" (after id {printable(str(records[-1].get('id', '?'))[:80])})"
    return label


def _parse_array(text: str, position: int) -> list:
    """The records of a file that is one JSON array starting at position."""
    try:
        records, end = array_records(text, position, _record_after)
    except BrokenRecord as broken:
        raise ImportFailed(str(broken)) from None
    if text[end:].strip():
        raise ImportFailed(f"Unexpected data after the array at {line_and_column(text, end)}.")
    return records


def array_records(text: str, position: int, label_for: Callable[[int, list], str]) -> tuple[list, int]:
    """
    The elements of the JSON array whose "[" is at position, decoded one at a time, and the position
    after its "]". Raises BrokenRecord with label_for(number, records so far) for the one that breaks.
    """
    records: list = []
    position += 1
    length = len(text)

    def skip_space(at: int) -> int:
        while at < length and text[at] in " \t\r\n":
            at += 1
        return at

    position = skip_space(position)
    if position < length and text[position] == "]":
        return records, position + 1
    while True:
        label = label_for(len(records) + 1, records)
        if position >= length:
            raise BrokenRecord(label, f"invalid JSON at {line_and_column(text, length)}: {UNCLOSED}")
        try:
            record, position = DECODER.raw_decode(text, position)
        except JSON_ERRORS as error:
            raise BrokenRecord(label, json_problem(error, text)) from None
        records.append(record)
        position = skip_space(position)
        if position >= length:
            raise BrokenRecord(label, f"invalid JSON at {line_and_column(text, length)}: {UNCLOSED}")
        if text[position] == "]":
            return records, position + 1
        if text[position] != ",":
            raise BrokenRecord(label, f"expected a comma or ] after it at {line_and_column(text, position)}")
        position = skip_space(position + 1)


def find_broken_record(text: str, key: str, label_for: Callable[[int, list], str]) -> tuple[bool, BrokenRecord | None]:
    """
    For a file json cannot read: whether it has a list under key ("key": [...]), and the record of that
    list which cannot be read (None when they all can, and the problem is elsewhere).
    """
    match = re.search(rf'"{re.escape(key)}"\s*:\s*\[', text)
    if match is None:
        return False, None
    try:
        array_records(text, match.end() - 1, label_for)
    except BrokenRecord as broken:
        return True, broken
    return True, None


def _parse_lines(text: str) -> list:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(DECODER.decode(line))
        except json.JSONDecodeError as error:
            raise ImportFailed(f"record {len(records) + 1} (line {number}): invalid JSON: {error.msg}.") from None
        except JSON_ERRORS as error:
            raise ImportFailed(f"record {len(records) + 1} (line {number}): {json_problem(error, line)}.") from None
    return records


def type_name(value: object) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def read_source(path_or_url: str) -> bytes:
    """The bytes of a local file, of an http(s) URL, or of standard input ("-"). Raises ImportFailed."""
    if path_or_url == "-":
        return sys.stdin.buffer.read()
    if re.match(r"^https?://", path_or_url, re.IGNORECASE):
        return _download(path_or_url)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path_or_url):
        raise ImportFailed(f"Cannot read {path_or_url}: only local files and http(s) URLs are supported.")
    try:
        return Path(path_or_url).read_bytes()
    except OSError as error:
        raise ImportFailed(f"Cannot read {path_or_url}: {error.strerror or error}.") from None


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "iclrnotes-schedule-import/1.0"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
            data = response.read(MAX_DOWNLOAD + 1)
    except urllib.error.HTTPError as error:
        raise ImportFailed(f"Cannot download {url}: HTTP {error.code} {error.reason}.") from None
    except urllib.error.URLError as error:
        raise ImportFailed(f"Cannot download {url}: {error.reason}.") from None
    except TimeoutError:
        raise ImportFailed(f"Cannot download {url}: no answer within {DOWNLOAD_TIMEOUT} seconds.") from None
    except (OSError, ValueError) as error:
        raise ImportFailed(f"Cannot download {url}: {error}.") from None
    if len(data) > MAX_DOWNLOAD:
        raise ImportFailed(f"Cannot download {url}: larger than {MAX_DOWNLOAD // (1024 * 1024)} MB.")
    return data
