import json

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.training.cli import main
from genart_desktop.training.data.builder import build_dataset
from genart_desktop.training.data.store import read_dataset
from tests.training._fixtures import make_image_folder


def _mixed_modes(folder):
    folder.mkdir()
    rgba = np.zeros((30, 50, 4), np.uint8)
    rgba[5:25, 10:40] = (200, 30, 30, 255)  # opaque red box on transparent
    Image.fromarray(rgba, "RGBA").save(folder / "alpha.png")
    Image.new("P", (20, 20), 3).save(folder / "palette.png")
    deep = (np.arange(400, dtype=np.uint16).reshape(20, 20) * 150).astype("<u2")
    Image.frombytes("I;16", (20, 20), deep.tobytes()).save(folder / "deep.png")
    Image.new("CMYK", (24, 24), (0, 255, 255, 0)).save(folder / "cmyk.jpg")
    (folder / "sub").mkdir()
    Image.new("L", (33, 21), 90).save(folder / "sub" / "grey.webp")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_builds_every_mode_and_skips_broken_files(tmp_path):
    src = _mixed_modes(tmp_path / "src")
    messages = []
    report = build_dataset(src, tmp_path / "out", 16, "pad", (0, 0, 255), report=messages.append)
    assert report.count == 5
    assert [s for s, _ in report.skipped] == ["broken.png"]
    assert any("broken.png" in m for m in messages)
    images, meta = read_dataset(tmp_path / "out")
    assert images.shape == (5, 16, 16, 3) and images.dtype == np.uint8
    assert meta["count"] == 5 and meta["resolution"] == 16 and meta["fit"] == "pad"
    assert {item["source"] for item in meta["items"]} == {"alpha.png", "cmyk.jpg", "deep.png", "palette.png",
                                                           "sub/grey.webp"}
    assert all(len(item["sha256"]) == 64 for item in meta["items"])
    alpha = images[[i["source"] for i in meta["items"]].index("alpha.png")]
    assert tuple(alpha[0, 0]) == (0, 0, 255)  # transparent corner and padding take the background colour
    assert alpha[8, 8, 0] > 150 and alpha[8, 8, 2] < 80  # the opaque red box survives
    assert meta["skipped"][0]["source"] == "broken.png"


def test_crop_fills_the_square(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    Image.new("RGB", (60, 20), (10, 200, 10)).save(src / "wide.png")
    build_dataset(src, tmp_path / "out", 8, "crop")
    images, _ = read_dataset(tmp_path / "out")
    assert (images[0] == (10, 200, 10)).all()


def test_captions_from_csv_and_text_sidecars(tmp_path):
    src = make_image_folder(tmp_path / "src", 4)
    (src / "img01.txt").write_text("a small red disc\n")
    sidecar = tmp_path / "captions.csv"
    sidecar.write_text("file,caption,label\nimg00.png,blue square,square\nimg02.png,green square,square\n")
    build_dataset(src, tmp_path / "out", 16, captions=sidecar)
    _, meta = read_dataset(tmp_path / "out")
    captions = {i["source"]: i.get("caption") for i in meta["items"]}
    assert captions == {"img00.png": "blue square", "img01.png": "a small red disc", "img02.png": "green square",
                        "img03.png": None}
    assert meta["labels"] == ["square"]
    assert "square" in meta["vocabulary"] and "disc" in meta["vocabulary"]


def test_json_captions(tmp_path):
    src = make_image_folder(tmp_path / "src", 2)
    sidecar = tmp_path / "c.json"
    sidecar.write_text(json.dumps({"img00.png": "one", "img01.png": {"caption": "two", "label": "b"}}))
    build_dataset(src, tmp_path / "out", 16, captions=sidecar)
    _, meta = read_dataset(tmp_path / "out")
    assert [i["caption"] for i in meta["items"]] == ["one", "two"]


def test_bad_folders_give_clear_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        build_dataset(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="No images"):
        build_dataset(tmp_path / "empty", tmp_path / "out")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"nope")
    (bad / "b.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="None of the 2 files"):
        build_dataset(bad, tmp_path / "out", report=lambda m: None)
    assert not (tmp_path / "out").exists()


def test_cli_reports_errors_and_bad_flags(tmp_path, capsys):
    assert main(["dataset", str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err
    src = make_image_folder(tmp_path / "src", 3)
    assert main(["dataset", str(src), str(tmp_path / "out"), "--background", "mauve-ish"]) == 2
    assert "colour" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dataset", str(src), str(tmp_path / "out"), "--fit", "stretch"])
    assert main(["dataset", str(src), str(tmp_path / "out"), "--resolution", "24"]) == 0
    assert read_dataset(tmp_path / "out")[0].shape == (3, 24, 24, 3)


def test_torch_dataset_and_sampler(tmp_path):
    torch = pytest.importorskip("torch")
    from genart_desktop.training.data.cached import BatchSampler, ImageDataset

    src = make_image_folder(tmp_path / "src", 10)
    build_dataset(src, tmp_path / "out", 16)
    dataset = ImageDataset.load(tmp_path / "out")
    assert len(dataset) == 10 and dataset[0].shape == (3, 16, 16)
    x = dataset.batch(torch.arange(4))
    assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
    sampler = BatchSampler(10, 4, seed=3)
    first_epoch = torch.cat([sampler.indices(s) for s in range(5)])[:10]
    assert sorted(first_epoch.tolist()) == list(range(10))  # each image once per epoch
    assert torch.equal(BatchSampler(10, 4, seed=3).indices(7), sampler.indices(7))  # depends only on step
    train, held = dataset.split(0.2, seed=1)
    assert len(train) == 8 and len(held) == 2


def test_random_crops_and_exclusions_make_many_scenes_from_few_photos(tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    left_right = np.zeros((60, 120, 3), np.uint8)
    left_right[:, 60:] = 255  # black left half, white right half: crops differ in brightness
    Image.fromarray(left_right).save(src / "a.png")
    Image.fromarray(left_right).save(src / "held.png")
    (tmp_path / "held.txt").write_text("# held-out split\nheld.png\n")
    from genart_desktop.training.data.builder import read_exclusions
    report = build_dataset(src, tmp_path / "ds", 16, crops=12, min_crop=0.5, exclude=read_exclusions(tmp_path / "held.txt"))
    assert report.count == 12
    images, meta = read_dataset(tmp_path / "ds")
    assert images.shape == (12, 16, 16, 3)
    assert {item["source"] for item in meta["items"]} == {"a.png"}
    assert meta["excluded"] == ["held.png"] and meta["crops"]["per_file"] == 12
    for item in meta["items"]:
        left, top, side = item["crop"]
        assert 30 <= side <= 60 and left + side <= 120 and top + side <= 60
    assert len({round(float(tile.mean())) for tile in images}) > 3  # crops land in different places
    again = build_dataset(src, tmp_path / "ds2", 16, crops=12, min_crop=0.5, exclude={"held.png"})
    assert np.array_equal(read_dataset(tmp_path / "ds2")[0], images) and again.count == 12  # seeded: repeatable
    with pytest.raises(InputError, match="--crops"):
        build_dataset(src, tmp_path / "ds3", 16, crops=0)
    with pytest.raises(InputError, match="exclusion list"):
        read_exclusions(tmp_path / "missing.txt")
