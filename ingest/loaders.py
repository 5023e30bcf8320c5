"""Read article records from files: .json (object, array or {"articles": [...]}), .jsonl, .txt and .html.

JSON is UTF-8 (as RFC 8259 requires); a .txt or .html file in a legacy encoding (Windows-1252, Latin-1, ...) is
decoded by ``ingest.encoding`` and its records carry a ``Decoding`` that says from what.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.encoding import UndecodableText, decode_text
from ingest.html import extract_article
from ingest.plaintext import split_plain_text

SUFFIXES = {".json", ".jsonl", ".txt", ".html", ".htm"}
DETECTED_SUFFIXES = {".txt", ".html", ".htm"}  # the file types whose encoding is detected when not UTF-8


class UnsupportedFile(ValueError):
    pass


@dataclass(frozen=True)
class Decoding:
    """A file that was not UTF-8 and was decoded from ``encoding`` (a Python codec name, e.g. cp1252)."""

    file: str
    encoding: str


@dataclass(frozen=True)
class Record:
    """One article record read from a file, or the reason it could not be read."""

    origin: str
    data: dict[str, Any] | None
    error: str | None = None
    decoded: Decoding | None = None  # set when the file was decoded from a legacy encoding


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to read, in a stable order; directories contribute their supported files. Fails before any read."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UnsupportedFile(f"{path}: no such file or directory")
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.suffix.lower() in SUFFIXES:
            files.append(path)
        else:
            raise UnsupportedFile(
                f"{path}: unsupported file type {path.suffix or '(none)'!r}; use {', '.join(sorted(SUFFIXES))}"
            )
    return files


def read_records(path: Path) -> Iterator[Record]:
    suffix = path.suffix.lower()
    data = path.read_bytes()
    decoded: Decoding | None = None
    if suffix in DETECTED_SUFFIXES:
        try:
            found = decode_text(data)
        except UndecodableText as exc:
            yield Record(str(path), None, str(exc))
            return
        text = found.text
        decoded = Decoding(str(path), found.encoding) if found.encoding else None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield Record(str(path), None, f"not UTF-8 text (byte {exc.start}): re-encode the file as UTF-8")
            return
    if suffix == ".json":
        yield from _json_records(path, text)
    elif suffix == ".jsonl":
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            origin = f"{path}:{line_no}"
            try:
                yield _as_record(origin, json.loads(line))
            except json.JSONDecodeError as exc:
                yield Record(origin, None, f"malformed JSON: {exc.msg} at column {exc.colno}")
    elif suffix == ".txt":
        plain = split_plain_text(text)
        record = {"title": plain.title, "body": plain.body, "url": path.resolve().as_uri()}
        if plain.category:
            record["category"] = plain.category
        yield Record(str(path), record, decoded=decoded)
    else:
        page = extract_article(text, url=path.resolve().as_uri())
        if not page["body"].strip():
            yield Record(str(path), None, "no article text found in the HTML", decoded)
        else:
            yield Record(str(path), page, decoded=decoded)


def _json_records(path: Path, text: str) -> Iterator[Record]:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Record(str(path), None, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return
    if isinstance(parsed, dict) and isinstance(parsed.get("articles"), list):
        parsed = parsed["articles"]
    if isinstance(parsed, list):
        for index, item in enumerate(parsed):
            yield _as_record(f"{path}[{index}]", item)
    else:
        yield _as_record(str(path), parsed)


def _as_record(origin: str, item: Any) -> Record:
    if not isinstance(item, dict):
        return Record(origin, None, f"an article must be a JSON object, got {type(item).__name__}")
    return Record(origin, item)
