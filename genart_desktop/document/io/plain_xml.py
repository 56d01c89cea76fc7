"""XML from untrusted files parsed with no DTD at all: no entities, internal or external, in any encoding.

A byte search for ``<!DOCTYPE`` misses UTF-16 (every other byte is zero), and expat then expands entities freely:
a few megabytes become hundreds. Here the expat parser itself refuses the document the moment it meets a DOCTYPE
or an entity declaration, whatever the encoding, and builds an :mod:`xml.etree` tree from what remains.
"""

from __future__ import annotations

from typing import NoReturn
from xml.etree import ElementTree as ET
from xml.parsers import expat

from genart_desktop.core.errors import InputError

_NO_DTD = "declares a DTD or entities, which OpenRaster files do not need"


class _Refused(Exception):
    """Raised inside an expat handler; expat stops and re-raises it."""


def _refuse(*_: object) -> NoReturn:
    raise _Refused(_NO_DTD)


def parse_plain_xml(data: bytes, name: str) -> ET.Element:
    """The root element of ``data``; :class:`InputError` naming ``name`` when it is malformed or declares a DTD."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
        return builder.close()
    except _Refused as exc:
        raise InputError(f"{name} {exc}.") from None
    except expat.ExpatError as exc:
        raise InputError(f"{name} is malformed ({expat.errors.messages.get(exc.code, exc)} at line {exc.lineno}, "
                         f"column {exc.offset}).") from None
    except (AssertionError, IndexError) as exc:  # TreeBuilder's complaints about unbalanced tags
        raise InputError(f"{name} is malformed ({exc}).") from None
