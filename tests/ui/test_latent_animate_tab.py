import types

import pytest

from genart_desktop.engine.latent import animation
from genart_desktop.ui.latent_animate_tab import AnimateTab
from genart_desktop.workspace.latent import mp4


class Host:
    """Just enough of ExplorerHost to build the tab."""

    controller = types.SimpleNamespace(scrub_ready=None, exported=None, model_changed=None)

    def bind(self, bindings):
        self.bindings = bindings


@pytest.mark.parametrize("encoder", [None, mp4.Encoder("/usr/bin/ffmpeg", mp4.FROM_PATH)])
def test_mp4_choice_says_which_ffmpeg_or_what_to_install(qtbot, monkeypatch, encoder):
    monkeypatch.setattr(mp4, "find_encoder", lambda: encoder)
    tab = AnimateTab(Host())
    qtbot.addWidget(tab)
    item = tab.format.model().item(tab.format.findData(mp4.MP4))
    if encoder is None:
        assert not item.isEnabled()
        assert item.toolTip() == tab.mp4_note.text() == mp4.UNAVAILABLE
        assert "sudo apt install ffmpeg" in mp4.UNAVAILABLE and "genart-desktop[mp4]" in mp4.UNAVAILABLE
    else:
        assert item.isEnabled()
        assert tab.mp4_note.text() == "MP4 is written by the system's ffmpeg (/usr/bin/ffmpeg)."


def test_pillow_formats_are_always_offered(qtbot, monkeypatch):
    monkeypatch.setattr(mp4, "find_encoder", lambda: None)
    tab = AnimateTab(Host())
    qtbot.addWidget(tab)
    for fmt in animation.FORMATS:
        assert tab.format.model().item(tab.format.findData(fmt)).isEnabled()
