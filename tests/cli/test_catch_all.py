"""Whatever a command raises ends as one escaped line on stderr and exit code 2, with the traceback in the user log."""

from __future__ import annotations

import errno
import types

import pytest
from PIL import Image

from genart_desktop import cli
from genart_desktop.core.errors import InputError
from genart_desktop.core.failure import log_path


def _command(monkeypatch, error: BaseException) -> None:
    def run(args):
        raise error

    fake = types.SimpleNamespace(NAME="boom", HELP="fails", add_arguments=lambda parser: None, run=run)
    monkeypatch.setattr(cli, "_subcommands", lambda: {"boom": fake})


@pytest.mark.parametrize("error, line", [
    (OSError(errno.ENAMETOOLONG, "File name too long", "x" * 400),
     "genart: Cannot use " + "x" * 300 + "...: File name too long."),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "out/file.png/\x1b[2Jpic.png"),
     "genart: Cannot use out/file.png/\\x1b[2Jpic.png: Not a directory."),
    (ValueError("Exceeds the limit (4300 digits) for integer string conversion\nsecond line"),
     "genart: ValueError: Exceeds the limit (4300 digits) for integer string conversion"),
    (MemoryError(), "genart: Ran out of memory (the input is too large for this machine); nothing was written."),
    (Image.DecompressionBombError("Image size (200000000 pixels) exceeds limit"),
     "genart: DecompressionBombError: Image size (200000000 pixels) exceeds limit"),
    (InputError("Cannot open a\nExported forged.png"), "genart: Cannot open a\\x0aExported forged.png"),
])
def test_any_exception_is_one_escaped_line(monkeypatch, capsys, error, line):
    _command(monkeypatch, error)
    assert cli.run(["boom"]) == 2
    captured = capsys.readouterr()
    assert captured.err == line + "\n" and captured.out == ""


def test_the_traceback_goes_to_the_log_file(monkeypatch, capsys):
    _command(monkeypatch, KeyError("deep inside"))
    assert cli.run(["boom"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    log = log_path().read_text()
    assert "Traceback" in log and "KeyError: 'deep inside'" in log


def test_ctrl_c_outside_a_job_exits_130(monkeypatch, capsys):
    _command(monkeypatch, KeyboardInterrupt())
    assert cli.run(["boom"]) == 130
    assert capsys.readouterr().err == "genart: interrupted\n"
