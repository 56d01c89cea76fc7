"""The style figures: zero distance to oneself, the ratio's meaning, and the nearest-painting vote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genart_desktop.training.commands.style_match import painting_of  # noqa: E402
from genart_desktop.training.style import squeezenet  # noqa: E402

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
needs_h5 = pytest.mark.skipif(not (SHARED / "weights" / squeezenet.WEIGHTS_FILE).is_file(),
                              reason="SqueezeNet weights (shared data) missing")


def test_a_card_names_its_painting():
    card = {"provenance": {"data": "content photos from ../shared/data/photos; style image "
                                   "../shared/data/styles/van_gogh_starry_night.jpg"}}
    assert painting_of(card) == "van_gogh_starry_night.jpg"
    assert painting_of({"provenance": {"data": "photos"}}) is None


def _pictures():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:128]
    stripes = np.stack([(np.sin(xx / 2.0) > 0) * 230, 20 + 0 * xx, (np.sin(yy / 3.0) > 0) * 200], -1)
    smooth = np.stack([xx * 2, yy * 2, 128 + 0 * xx], -1)
    noise = rng.integers(0, 256, (96, 128, 3))
    return [a.astype(np.uint8) for a in (stripes, smooth, noise)]


@needs_h5
def test_distances_are_zero_to_oneself_and_the_ratio_rewards_moving_toward_the_style():
    from genart_desktop.training.evaluation.style_figures import FeatureJudge, judge_pair, style_distance

    judge = FeatureJudge()
    stripes, smooth, _ = _pictures()
    target = judge.signature(stripes)
    assert style_distance(target, target) == 0
    assert judge_pair(judge, smooth, stripes, target).style_ratio == pytest.approx(0.0, abs=1e-6)
    assert judge_pair(judge, smooth, smooth, target).style_ratio == pytest.approx(1.0)
    assert judge_pair(judge, smooth, smooth, target).content == 0


@needs_h5
def test_the_nearest_painting_is_the_one_the_outputs_look_like():
    from genart_desktop.training.evaluation.style_figures import FeatureJudge, nearest_painting

    judge = FeatureJudge()
    stripes, smooth, noise = _pictures()
    paintings = {"stripes": judge.signature(stripes), "noise": judge.signature(noise)}
    result = nearest_painting(judge, lambda rgb: stripes, [smooth, noise], paintings)
    assert result["nearest"] == "stripes" and result["votes"] == {"stripes": 2}
