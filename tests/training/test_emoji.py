import json

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.training.cli import main
from genart_desktop.training.data.emoji import FONT_CANDIDATES, find_font, parse_emoji_test
from genart_desktop.training.data.store import read_dataset

SAMPLE = """# group: Smileys & Emotion
# subgroup: face-smiling
1F600                                                  ; fully-qualified     # 😀 E1.0 grinning face
263A                                                   ; unqualified         # ☺ E0.6 smiling face
# group: Flags
# subgroup: country-flag
1F1E9 1F1EA                                            ; fully-qualified     # 🇩🇪 E2.0 flag: Germany
"""


def test_parse_emoji_test_keeps_fully_qualified_entries():
    entries = parse_emoji_test(SAMPLE)
    assert [(e.text, e.name, e.group, e.subgroup) for e in entries] == [
        ("\U0001F600", "grinning face", "Smileys & Emotion", "face-smiling"),
        ("\U0001F1E9\U0001F1EA", "flag: Germany", "Flags", "country-flag"),
    ]


def test_missing_font_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        find_font(str(tmp_path / "none.ttf"))


@pytest.mark.skipif(not any(__import__("os").path.isfile(p) for p in FONT_CANDIDATES),
                    reason="Noto Color Emoji is not installed (apt-get install fonts-noto-color-emoji)")
def test_renders_captioned_emoji_with_licence(tmp_path):
    listing = tmp_path / "emoji-test.txt"
    listing.write_text(SAMPLE, encoding="utf-8")
    out = tmp_path / "emoji"
    assert main(["dataset-emoji", str(out), "--resolution", "16", "--emoji-list", str(listing),
                 "--min-word-count", "1"]) == 0
    images, meta = read_dataset(out)
    assert images.shape == (2, 16, 16, 3)
    assert [i["caption"] for i in meta["items"]] == ["grinning face", "flag: germany"]
    assert meta["labels"] == ["Flags", "Smileys & Emotion"]
    assert "SIL Open Font License 1.1" in meta["license"]
    assert len(meta["provenance"]["font_sha256"]) == 64
    assert {"face", "flag", "germany", "grinning"} <= set(meta["vocabulary"])
    face = images[0].astype(int)
    assert (np.abs(face - 255).sum(-1) > 60).mean() > 0.3  # the glyph was drawn, not a blank tile
    assert tuple(images[0][0, 0]) == (255, 255, 255)  # corners keep the white background
    json.dumps(meta)


def test_bad_resolution(tmp_path, capsys):
    assert main(["dataset-emoji", str(tmp_path / "e"), "--resolution", "4"]) == 2
    assert "--resolution" in capsys.readouterr().err


@pytest.mark.skipif(not any(__import__("os").path.isfile(p) for p in FONT_CANDIDATES),
                    reason="Noto Color Emoji is not installed (apt-get install fonts-noto-color-emoji)")
def test_background_none_keeps_the_fonts_alpha_premultiplied(tmp_path, capsys):
    listing = tmp_path / "emoji-test.txt"
    listing.write_text(SAMPLE, encoding="utf-8")
    common = ["--resolution", "16", "--emoji-list", str(listing), "--min-word-count", "1"]
    assert main(["dataset-emoji", str(tmp_path / "rgba"), *common, "--background", "none"]) == 0
    assert "RGBA emoji" in capsys.readouterr().out
    assert main(["dataset-emoji", str(tmp_path / "white"), *common]) == 0
    rgba, meta = read_dataset(tmp_path / "rgba")
    white, _ = read_dataset(tmp_path / "white")
    assert rgba.shape == (2, 16, 16, 4) and (meta["channels"], meta["alpha"], meta["background"]) == (
        4, "premultiplied", None)
    assert (rgba[:, 0, 0] == 0).all()  # the corners are transparent, not white
    assert (rgba[..., 3] == 255).mean() > 0.2 and (rgba[..., :3] <= rgba[..., 3:]).all()  # premultiplied
    over_white = rgba[..., :3].astype(int) + 255 - rgba[..., 3:].astype(int)  # the same pictures seen on white
    assert np.abs(over_white - white.astype(int)).max() <= 2


def test_the_store_refuses_channels_that_disagree_with_the_description(tmp_path):
    from genart_desktop.training.data.store import write_dataset

    write_dataset(tmp_path / "d", np.zeros((1, 8, 8, 4), np.uint8), [{"source": "a"}], {})
    meta_path = tmp_path / "d" / "dataset.json"
    meta = json.loads(meta_path.read_text())
    assert (meta["channels"], meta["alpha"]) == (4, "premultiplied")
    meta_path.write_text(json.dumps({**meta, "alpha": "straight"}))
    with pytest.raises(InputError, match="premultiplied"):
        read_dataset(tmp_path / "d")
    meta_path.write_text(json.dumps({k: v for k, v in meta.items() if k not in ("channels", "alpha")}))
    with pytest.raises(InputError, match="RGB images"):
        read_dataset(tmp_path / "d")
    with pytest.raises(InputError, match="3\\|4"):
        write_dataset(tmp_path / "e", np.zeros((1, 8, 8, 2), np.uint8), [{"source": "a"}], {})
