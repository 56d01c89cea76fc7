"""``genart screenshot-tour OUTDIR``: the app offscreen at 1440x900 with a demo document, each dock in its main
states, one PNG per state.

Why: the docks' sizes and states are what a new user meets first; a tour that anyone (and the test suite) can run
shows at a glance whether every main action is in view without scrolling. The shipped models are used when they are
installed; a state that needs a model still gets its picture (showing the dock's empty state), so the tour always
writes every picture.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SIZE = (1440, 900)
JOB_WAIT_S = 60.0


def demo_pixels(width: int, height: int) -> dict[str, np.ndarray]:
    """A dusk landscape in three layers (sky, sun, hills), drawn with numpy so the tour needs no strokes."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (y / height)[..., None]
    sky = np.empty((height, width, 4), np.uint8)
    sky[..., :3] = (np.array([38, 62, 120], np.float32) * (1 - t) + np.array([246, 178, 120], np.float32) * t)
    sky[..., 3] = 255
    sun = np.zeros((height, width, 4), np.uint8)
    inside = np.clip(60.0 - np.hypot(x - width * 0.7, y - height * 0.42), 0, 1.5) / 1.5
    sun[..., :3], sun[..., 3] = (255, 226, 150), (inside * 255).astype(np.uint8)
    hills = np.zeros((height, width, 4), np.uint8)
    for index, (colour, base, amp) in enumerate((((83, 112, 92), 0.62, 0.05), ((48, 78, 66), 0.72, 0.04),
                                                ((26, 44, 40), 0.84, 0.03))):
        ridge = height * (base + amp * np.sin(x / (width / 6.0) + index * 1.7))
        land = y >= ridge
        hills[land, :3], hills[land, 3] = colour, 255
    return {"Sky": sky, "Sun": sun, "Hills": hills}


class Tour:
    """Drives one window through the states and writes ``NN-name.png`` files into ``outdir``."""

    def __init__(self, outdir: Path, app, window) -> None:
        self.outdir, self.app, self.window = outdir, app, window
        self.written: list[Path] = []

    # -- helpers ---------------------------------------------------------------------------------------------------
    def settle(self, seconds: float = 0.15) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def wait_until(self, done: Callable[[], bool], timeout_s: float = JOB_WAIT_S) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            self.app.processEvents()
            if done():
                return True
            time.sleep(0.02)
        return done()

    def shoot(self, name: str, widget=None) -> Path:
        self.settle()
        path = self.outdir / f"{len(self.written) + 1:02d}-{name}.png"
        if not (widget or self.window).grab().save(str(path)):
            raise OSError(f"Could not write {path.name}")
        self.written.append(path)
        return path

    def raise_dock(self, title: str):
        dock = self.window.docks.get(title)
        if dock is not None:
            dock.show()
            dock.raise_()
        self.settle()
        return dock.widget() if dock is not None else None

    # -- the tour ----------------------------------------------------------------------------------------------------
    def demo_document(self) -> None:
        window = self.window
        window.files.new(1024, 640)
        doc = window.document
        for name, pixels in demo_pixels(doc.width, doc.height).items():
            doc.add_layer(name, pixels=pixels)
        doc.mark_clean()
        for colour in ((63, 92, 78), (20, 22, 30), (255, 226, 150), (232, 96, 64)):
            window.color_panel.remember(colour)
        window.color_panel.set_color((232, 96, 64))
        window.canvas.fit_to_view()

    def run(self) -> list[Path]:
        self.demo_document()
        self.shoot("painting")
        self.style_states()
        self.diffusion_states()
        self.explorer_states()
        self.jobs_state()
        self.help_page()
        return self.written

    def style_states(self) -> None:
        panel = self.raise_dock("Style")
        self.shoot("style-palette")
        models = [m.id for m in panel.controller.models()] if panel is not None else []
        if models:
            panel.choose_style(models[0])
            self.wait_until(lambda: panel.last_preview is not None, 30)
        self.shoot("style-preview")

    def diffusion_states(self) -> None:
        panel = self.raise_dock("Diffusion")
        self.shoot("diffusion-ready")
        if panel is None or panel.model_combo.count() == 0:
            self.shoot("diffusion-results")
            return
        panel.prompt_edit.setPlainText("red heart")
        panel.batch_spin.setValue(3)
        panel.generate()
        self.wait_until(lambda: self.window.statusBar().currentMessage().startswith("Working"), 10)
        self.shoot("diffusion-working")
        self.wait_until(lambda: not panel.busy)
        self.shoot("diffusion-results")

    def explorer_states(self) -> None:
        panel = self.raise_dock("Latent Explorer")
        if panel is not None:
            self.wait_until(lambda: panel.shown_grid is not None, 30)
        self.shoot("explorer-grid")
        if panel is None:
            return
        added = []
        try:
            if panel.controller.state.space is not None:  # three bookmarks (with thumbnails), two ticked
                for seed in (11, 12, 13):
                    panel.use_seed(seed)
                    self.wait_until(lambda: not panel.busy, 10)
                    mark = panel.bookmarks.add(f"Favourite {seed - 10}")
                    if mark is not None:
                        added.append(mark.bookmark_id)
                panel.tick_bookmarks(added[:2])
                self.wait_until(lambda: not panel.busy, 10)
            self.explorer_tabs(panel)
        finally:  # the tour's bookmarks must not stay in the user's library
            for bookmark_id in added:
                panel.controller.bookmarks.delete(bookmark_id, self.window.document)

    def explorer_tabs(self, panel) -> None:
        from PySide6.QtWidgets import QScrollArea

        scroll = panel.findChild(QScrollArea)
        for index, title in enumerate(("directions", "bookmarks", "breed", "animate")):
            panel.tabs.setCurrentIndex(index)
            if title == "animate":
                panel.animate.scrubber.setValue(500)
            self.wait_until(lambda: not panel.busy, 10)
            self.settle()
            if scroll is not None:
                scroll.ensureWidgetVisible(panel.tabs, 0, 0)  # the tab pages sit under the grid
            self.shoot(f"explorer-{title}")

    def jobs_state(self) -> None:
        """The Jobs dock on its own, listing what the tour ran."""
        dock = self.window.docks.get("Jobs")
        self.shoot("jobs", dock)

    def help_page(self) -> None:
        self.window.show_help("quick-start")
        dialog = self.window.help_dialog
        self.settle(0.3)
        self.shoot("help-quick-start", dialog)
        dialog.close()


def run_tour(outdir: str | os.PathLike[str], models: bool = True) -> list[Path]:
    """Open the app offscreen in its first-run layout, write the pictures and close it again; returns the files
    written. The user's remembered layout is neither used nor overwritten."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from genart_desktop.ui.app import create_main_window, ensure_application
    from genart_desktop.ui.preferences import Preferences

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    app = ensure_application([])
    window = create_main_window(None if models else _no_models(), restore=False)
    with tempfile.TemporaryDirectory() as scratch:
        window.preferences = Preferences(Path(scratch) / "tour.ini")
        window.resize(*SIZE)
        window.show()
        try:
            return Tour(outdir, app, window).run()
        finally:
            if window.document is not None:
                window.document.mark_clean()
            panel = getattr(window, "diffusion_panel", None)
            if panel is not None:
                panel.controller.adopt([], [])  # the tour's results are not the user's work: close without asking
            window.close()


def _no_models():
    from genart_desktop.engine.registry import ModelRegistry

    return ModelRegistry(roots=[])


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="genart screenshot-tour",
                                     description="Write PNG pictures of every dock in its main states.")
    parser.add_argument("outdir", help="the folder for the pictures (created when missing)")
    options = parser.parse_args(args)
    written = run_tour(options.outdir)
    print(f"Wrote {len(written)} pictures to {options.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
