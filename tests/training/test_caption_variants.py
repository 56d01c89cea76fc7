"""Caption variants (issue 18): deterministic per (seed, step, item), different across steps, every word in the
vocabulary the model is given, and category prompts shared by several pictures."""

import pytest

from genart_desktop.training.data.caption_variants import SYNONYMS, CaptionVariants, category_words
from genart_desktop.training.data.store import caption_vocabulary, caption_words

ITEMS = [
    {"caption": "grinning face", "label": "Smileys & Emotion", "subgroup": "face-smiling"},
    {"caption": "smiling face with heart-eyes", "label": "Smileys & Emotion", "subgroup": "face-affection"},
    {"caption": "cat face", "label": "Animals & Nature", "subgroup": "animal-mammal"},
    {"caption": "dog face", "label": "Animals & Nature", "subgroup": "animal-mammal"},
    {"caption": "red heart", "label": "Smileys & Emotion", "subgroup": "heart"},
    {"caption": "flag: germany", "label": "Flags", "subgroup": "country-flag"},
    {"source": "no caption"},
]
VOCABULARY = caption_vocabulary([i.get("caption") for i in ITEMS])


def variants(seed=0):
    return CaptionVariants(ITEMS, VOCABULARY, seed)


def test_the_same_seed_and_step_give_the_same_captions_whatever_ran_before():
    first = [variants().captions(step, range(len(ITEMS))) for step in range(30)]
    again = variants()
    again.captions(99, [3, 2, 1])  # other calls in between change nothing
    assert [again.captions(step, range(len(ITEMS))) for step in reversed(range(30))][::-1] == first
    assert variants(seed=1).captions(5, range(6)) != first[5]


def test_captions_differ_across_steps_and_use_only_vocabulary_words():
    table = variants()
    allowed = set(table.vocabulary())
    for index, item in enumerate(ITEMS[:6]):
        seen = {table.caption(step, index) for step in range(60)}
        assert len(seen) >= 4, (item, seen)
        assert item["caption"] in seen  # the name itself stays among them
        assert all(set(caption_words(c)) <= allowed for c in seen)
    assert table.caption(3, 6) is None  # an item without a caption stays unconditioned


def test_vocabulary_keeps_the_datasets_ids_and_adds_categories_and_synonyms():
    words = variants().vocabulary()
    assert words[:len(VOCABULARY)] == tuple(VOCABULARY)
    assert {"animal", "mammal", "smileys", "emotion", "smiling", "affection"} <= set(words)
    assert {"kitty", "puppy", "love", "head", "crimson"} <= set(words)
    assert len(words) == len(set(words))
    assert all(synonym in words for word in VOCABULARY for synonym in SYNONYMS.get(word, ()))


def test_category_prompts_are_shared_by_several_pictures():
    table = variants()
    captions_of = {i: {table.caption(step, i) for step in range(200)} for i in (2, 3)}
    assert "animal mammal" in captions_of[2] & captions_of[3]  # one prompt, two pictures
    assert category_words(ITEMS[1]) == ["face", "affection", "smileys", "emotion"]


@pytest.mark.parametrize("mode,expected", [("off", None), ("on", "text")])
def test_the_trainer_hook_is_inert_when_off(mode, expected):
    torch = pytest.importorskip("torch")
    from genart_desktop.training.diffusion.text import Conditioning
    from genart_desktop.training.diffusion.varied_captions import varied_conditioning

    base = Conditioning.from_dataset("text", {"vocabulary": VOCABULARY}, [i.get("caption") for i in ITEMS], 4)
    conditioning, varied = varied_conditioning(mode, ITEMS, base, seed=0)
    if expected is None:
        assert conditioning is base and varied is None
        return
    rows = varied.rows(7, torch.tensor([0, 2, 6]))
    assert rows.shape == (3, 4) and bool((rows[2] == 0).all())  # no caption: the null row
    assert rows.tolist() == varied.rows(7, torch.tensor([0, 2, 6])).tolist()
    assert bool((rows[:2] >= 2).any()) and not bool((rows == 1).any())  # known words, no UNKNOWN ids
    assert conditioning.vocabulary.words == variants().vocabulary()


@pytest.mark.parametrize("keep_name", [0.0, 0.25, 0.6, 1.0])
def test_keep_name_sets_the_share_of_exact_captions(keep_name):
    table = CaptionVariants(ITEMS, VOCABULARY, 0, keep_name=keep_name)
    index = 1  # five words: a variant almost never equals the name
    exact = sum(table.caption(step, index) == ITEMS[index]["caption"] for step in range(2000)) / 2000
    assert abs(exact - keep_name) < 0.05 + 0.02 * (keep_name == 0.0)


def test_keep_name_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="keep_name"):
        CaptionVariants(ITEMS, VOCABULARY, 0, keep_name=1.5)
