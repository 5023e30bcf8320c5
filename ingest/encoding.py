"""charset-normalizer adapter: decode a text file that is not UTF-8, or say why it cannot be decoded with confidence.

UTF-8 (with or without a byte-order mark) is read as is. Anything else goes to charset-normalizer, restricted to the
encodings of the WHATWG Encoding Standard (what browsers decode, so what web-era news was written in): without the
restriction, short Windows-1252 text with curly quotes came out as Mac Roman or DOS cp852 ("ôfinalö"). Among the
candidates charset-normalizer keeps, those within ``MESS_MARGIN`` of the least "messy" decoding compete on language
coherence, then on mess; a tie (short texts often are one: "Crème brûlée" decodes to plausible words as cp1250,
cp1252, cp1257) goes to Windows-1252, browsers' default for undeclared legacy pages, which also reads Latin-1 text.
Tried on short English, French, German and Russian paragraphs: all decoded right. One- or two-line Czech and Polish
texts can come out in a neighbouring code page (cp1252, cp1257): too little text for statistics to tell them apart.
The ingest report names the encoding used, so that a wrong guess is visible and the file can be re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from charset_normalizer import from_bytes

# Python codec names of the WHATWG Encoding Standard's encodings (ISO-8859-1 and ASCII are windows-1252 there).
WHATWG_ENCODINGS = [
    "utf_8",
    "utf_16",
    "cp866",
    "iso8859_2",
    "iso8859_3",
    "iso8859_4",
    "iso8859_5",
    "iso8859_6",
    "iso8859_7",
    "iso8859_8",
    "iso8859_10",
    "iso8859_13",
    "iso8859_14",
    "iso8859_15",
    "iso8859_16",
    "koi8_r",
    "koi8_u",
    "mac_roman",
    "mac_cyrillic",
    "cp874",
    "cp1250",
    "cp1251",
    "cp1252",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "gb18030",
    "big5",
    "euc_jp",
    "iso2022_jp",
    "shift_jis",
    "euc_kr",
]
DEFAULT_LEGACY = "cp1252"
# Mess ratios within this much of the least messy candidate count as equal. The cp1252 reading of a short paragraph
# with curly quotes, € and an em dash scored 0.019 against Mac Roman's 0.0 (whose "ìfinalî" reads as letters); wrong
# Central European readings of Polish and Czech text scored 0.034 and more above the right one.
MESS_MARGIN = 0.03


class UndecodableText(ValueError):
    """The bytes are not text in any encoding that can be told with confidence; the message says so."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str | None  # the legacy encoding it was decoded from; None for UTF-8


def decode_text(data: bytes) -> DecodedText:
    try:
        return DecodedText(data.decode("utf-8-sig"), None)
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    matches = list(from_bytes(data, cp_isolation=WHATWG_ENCODINGS))
    if not matches:
        raise UndecodableText(
            f"not UTF-8 (byte {first_bad}) and no text encoding fits it: binary data, or re-encode the file as UTF-8"
        )
    least_mess = min(m.chaos for m in matches)
    close = [m for m in matches if m.chaos <= least_mess + MESS_MARGIN]
    best = min(
        close, key=lambda m: (-round(m.coherence, 3), m.chaos, DEFAULT_LEGACY not in m.could_be_from_charset)
    )
    text = str(best)
    if "\x00" in text:
        raise UndecodableText(f"not UTF-8 (byte {first_bad}) and it holds NUL characters: not a text file")
    # Encodings that decode these bytes to the same text are one candidate; name the common one.
    encoding = DEFAULT_LEGACY if DEFAULT_LEGACY in best.could_be_from_charset else best.encoding
    return DecodedText(text, encoding)
