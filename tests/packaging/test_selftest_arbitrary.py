"""`genart self-test` runs an arbitrary-style model folder (issue 19) like the palette does."""

from __future__ import annotations

import pytest

from genart_desktop.cli import selftest
from genart_desktop.core.errors import ModelError
from genart_desktop.engine.registry import ModelRegistry
from tests.fixtures_arbitrary_style import MODEL_ID, arbitrary_folder


def test_the_arbitrary_style_family_has_a_self_test(tmp_path):
    arbitrary_folder(tmp_path)
    registry = ModelRegistry(roots=[(tmp_path, "user")])
    detail = selftest.FAMILY_RUNS["style-arbitrary"](registry, registry.get(MODEL_ID))
    assert "6 channels" in detail and "3 presets" in detail


def test_a_broken_presets_file_fails_the_self_test(tmp_path):
    arbitrary_folder(tmp_path, presets={"format": "genart-style-presets/1", "presets": [{"id": "x"}]})
    registry = ModelRegistry(roots=[(tmp_path, "user")])
    with pytest.raises(ModelError, match="presets.json"):
        selftest.run_style_arbitrary(registry, registry.get(MODEL_ID))
