from PIL import Image

from genart_desktop.training.diffusion.export import _photo_source_licence


def _photo_folder(folder):
    folder.mkdir()
    rows = ["file,author,license,attribution_required,original_url",
            "a.jpg,Ann,CC-BY-4.0,yes,https://example.org/a", "b.jpg,Bob,CC0-1.0,no,", "held.jpg,Hal,CC-BY-2.0,yes,"]
    (folder / "photos.csv").write_text("\n".join(rows) + "\n")
    for name in ("a.jpg", "b.jpg", "held.jpg"):
        Image.new("RGB", (8, 8)).save(folder / name)
    return folder


def test_a_diffusion_model_cut_from_photos_credits_them_without_the_held_out_ones(tmp_path):
    folder = _photo_folder(tmp_path / "photos")
    text, attribution = _photo_source_licence({"source_dir": str(folder), "excluded": ["held.jpg"]})
    assert "2 from photos/" in text and "CC-BY-4.0 1" in text and "CC-BY-2.0" not in text
    assert "a.jpg: by Ann, CC-BY-4.0, https://example.org/a" in attribution and "held.jpg" not in attribution
    assert _photo_source_licence({"source_dir": str(tmp_path)}) == ("", "")  # no photos.csv: the dataset's own
    assert _photo_source_licence({}) == ("", "")
