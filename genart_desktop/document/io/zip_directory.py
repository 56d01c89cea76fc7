"""Size up a zip's central directory from its end record before :mod:`zipfile` parses it.

``zipfile.ZipFile`` reads every central-directory entry into Python objects as it opens the archive, so a small
file claiming millions of entries (zip64 allows 2**64) costs seconds and gigabytes before any member count could be
checked. The end-of-central-directory record (and its zip64 twin) states the entry count and the directory's size;
reading those few bytes first lets a hostile archive be refused at once. Anything malformed is left for
``zipfile`` to report.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from genart_desktop.core.errors import InputError

_END = struct.Struct("<4s4H2LH")  # signature, disk, directory disk, entries here, entries, size, offset, comment
_END_SIGNATURE = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")  # zip64 locator: signature, disk, record offset, disks
_LOCATOR_SIGNATURE = b"PK\x06\x07"
_END64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end: ..., entries here, entries, directory size, offset
_END64_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF


def directory_extent(handle: BinaryIO) -> tuple[int, int] | None:
    """(entry count, central directory bytes) as the archive's end records state them, or None when there is no
    end record to read (not a zip, or truncated). ``handle`` must be seekable; its position is not kept."""
    handle.seek(0, 2)
    size = handle.tell()
    tail_size = min(size, _END.size + _MAX_COMMENT)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or at + _END.size > len(tail):
        return None
    _, _, _, _, entries, directory_size, _, _ = _END.unpack_from(tail, at)
    # Like zipfile, look for a zip64 locator and record directly before the end record.
    end_offset = size - tail_size + at
    if end_offset < _LOCATOR.size + _END64.size:
        return entries, directory_size
    handle.seek(end_offset - _LOCATOR.size - _END64.size)
    record = handle.read(_END64.size + _LOCATOR.size)
    if record[_END64.size:_END64.size + 4] != _LOCATOR_SIGNATURE or record[:4] != _END64_SIGNATURE:
        return entries, directory_size
    fields = _END64.unpack_from(record)
    return fields[7], fields[8]  # zipfile, too, takes the zip64 record's values when there is one


def check_directory(handle: BinaryIO, name: str, max_entries: int, max_directory_bytes: int) -> None:
    """Refuse (one :class:`InputError` line naming ``name``) an archive whose end records declare more than
    ``max_entries`` entries or a central directory larger than ``max_directory_bytes``."""
    extent = directory_extent(handle)
    handle.seek(0)
    if extent is None:
        return
    entries, directory_size = extent
    if entries > max_entries:
        raise InputError(f"Cannot open {name}: it holds {entries:,} files, more than {max_entries:,}.")
    if directory_size > max_directory_bytes:
        raise InputError(f"Cannot open {name}: its table of contents is {directory_size:,} bytes, more than "
                         f"{max_directory_bytes:,} (far more files than an OpenRaster image holds).")
