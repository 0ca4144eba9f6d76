"""The BLIP-2 caption family, on a tiny random BLIP-2 saved the way the Hub ships the real one.

The tiny model has the real architecture (ViT, Q-Former, T5 encoder-decoder) and a real processor
(Blip image processor, a fast tokenizer with the `<image>` token), so loading, preprocessing an odd
frame size, generation and decoding all run as they will with blip2-flan-t5-xl; only the words are
random. The real model's shape is checked without allocating it (meta device).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from models.caption import (
    CAPTION_PROMPT,
    Blip2Captioner,
    CaptionOptions,
    Placement,
    clean_caption,
    collapse_repeats,
    flan_t5_xl_config,
    resolve_placement,
)
from models.caption import blip2 as blip2_module
from models.caption import placement as placement_module
from tests.tiny_blip2 import save_tiny_blip2

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test


@pytest.fixture(scope="module")
def tiny_blip2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_blip2(tmp_path_factory.mktemp("tiny-blip2"))


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine as a CPU-only one, also where the tests run on a GPU box."""
    monkeypatch.setattr(placement_module, "cuda_available", lambda: False)


def test_caption_runs_end_to_end_on_an_odd_frame(tiny_blip2: Path, no_cuda: None) -> None:
    captioner = Blip2Captioner(CaptionOptions(model=str(tiny_blip2), device="cpu", max_new_tokens=12))
    assert captioner.backend == "blip2 cpu fp32"
    assert captioner.source == str(tiny_blip2)
    assert captioner.fallback_reason is None
    frame = np.random.default_rng(0).integers(0, 256, (481, 641, 3), dtype=np.uint8)
    caption = captioner.caption(frame)
    assert isinstance(caption, str)
    assert "<" not in caption and caption == caption.strip()
    tokens = captioner._processor.tokenizer(caption, add_special_tokens=False).input_ids
    assert len(tokens) <= 12
    assert captioner.caption(np.dstack([frame, frame[..., :1]])) is not None  # BGRA is read as BGR


def test_caption_rejects_what_is_not_a_frame(tiny_blip2: Path, no_cuda: None) -> None:
    captioner = Blip2Captioner(CaptionOptions(model=str(tiny_blip2), device="cpu", max_new_tokens=2))
    with pytest.raises(ValueError, match="HxWx3"):
        captioner.caption(np.zeros((48, 64), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        captioner.caption(np.zeros((48, 64, 3), np.float32))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a man holding dumbbells in a living room", "a man holding dumbbells in a living room"),
        ("  a man   squatting in a gym.  ", "a man squatting in a gym"),
        (f"{CAPTION_PROMPT} a woman holding a kettlebell", "a woman holding a kettlebell"),
        ("Question: what is the person doing? Answer: squatting in a garden", "squatting in a garden"),
        ("answer: lifting weights", "lifting weights"),
        ("a man a man holding holding holding dumbbells", "a man holding dumbbells"),
        ("in a gym in a gym in a gym", "in a gym"),
        ("a man holding dumbbells in a", "a man holding dumbbells"),
        ("a man holding dumbbells, and", "a man holding dumbbells"),
        ("a woman squatting. She is in a garden. She", "a woman squatting"),
        ("a man doing push ups <pad> </s>", "a man doing push ups"),
        ("", ""),
        ("   ", ""),
        ("yes", ""),
        ("Unanswerable", ""),
        ("a a a", ""),
        ("the", ""),
        ("?", ""),
        ("Question: what is the person doing", ""),
    ],
)
def test_clean_caption(raw: str, expected: str) -> None:
    assert clean_caption(raw, CAPTION_PROMPT) == expected


def test_collapse_repeats_keeps_the_longest_phrase_once() -> None:
    assert collapse_repeats("a man a man in a gym".split()) == "a man in a gym".split()
    assert collapse_repeats("Gym, gym. gym".split()) == ["Gym,"]
    assert collapse_repeats("a man holding a dumbbell".split()) == "a man holding a dumbbell".split()


def test_auto_on_a_cpu_machine_is_fp32_without_touching_bitsandbytes(
    monkeypatch: pytest.MonkeyPatch, no_cuda: None
) -> None:
    def must_not_run() -> str | None:
        raise AssertionError("bitsandbytes was looked for on a CPU machine")

    monkeypatch.setattr(placement_module, "bitsandbytes_problem", must_not_run)
    assert resolve_placement(CaptionOptions()) == Placement("cpu", "fp32")
    assert resolve_placement(CaptionOptions(device="cpu", quantization="4bit")).precision == "fp32"
    assert "bitsandbytes" not in sys.modules


def test_cuda_placement_follows_what_bitsandbytes_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(placement_module, "cuda_available", lambda: True)
    monkeypatch.setattr(placement_module, "bitsandbytes_problem", lambda: None)
    assert resolve_placement(CaptionOptions()) == Placement("cuda", "4bit")
    assert resolve_placement(CaptionOptions(device="cuda:1", quantization="8bit")) == Placement("cuda:1", "8bit")
    assert resolve_placement(CaptionOptions(quantization="none")) == Placement("cuda", "fp16")
    monkeypatch.setattr(placement_module, "bitsandbytes_problem", lambda: "bitsandbytes does not import")
    fallback = resolve_placement(CaptionOptions())
    assert (fallback.device, fallback.precision) == ("cuda", "fp16")
    assert "bitsandbytes does not import" in (fallback.fallback_reason or "")
    with pytest.raises(RuntimeError, match="needs bitsandbytes"):
        resolve_placement(CaptionOptions(quantization="4bit"))
    with pytest.raises(ValueError, match="device"):
        CaptionOptions(device="gpu")


def test_cuda_asked_without_cuda_runs_on_the_cpu_and_says_why(tiny_blip2: Path, no_cuda: None) -> None:
    captioner = Blip2Captioner(CaptionOptions(model=str(tiny_blip2), device="cuda", max_new_tokens=2))
    assert captioner.backend == "blip2 cpu fp32"
    assert "no CUDA device" in (captioner.fallback_reason or "")


def test_cuda_out_of_memory_at_load_falls_back_to_the_cpu(
    tiny_blip2: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(placement_module, "cuda_available", lambda: True)
    real_load = blip2_module._load
    tried: list[str] = []

    def load(directory: Path, placement: Placement, threads: int | None):  # noqa: ANN202 - as _load
        tried.append(placement.device)
        if placement.device != "cpu":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 7.88 GiB")
        return real_load(directory, placement, threads)

    monkeypatch.setattr(blip2_module, "_load", load)
    captioner = Blip2Captioner(CaptionOptions(model=str(tiny_blip2), quantization="none", max_new_tokens=2))
    assert tried == ["cuda", "cpu"]
    assert captioner.backend == "blip2 cpu fp32"
    assert "out of memory" in (captioner.fallback_reason or "")


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        Blip2Captioner(CaptionOptions(model=str(tmp_path / "no-such-model"), device="cpu"))


def test_uncached_hub_model_says_how_to_fetch_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="python -m models.prepare --profile full"):
        Blip2Captioner(CaptionOptions(cache_dir=tmp_path, device="cpu"))


def test_flan_t5_xl_config_has_the_real_model_sizes() -> None:
    config = flan_t5_xl_config()
    vision, qformer, text = config.vision_config, config.qformer_config, config.text_config
    assert (vision.hidden_size, vision.num_hidden_layers, vision.intermediate_size) == (1408, 39, 6144)
    assert (vision.image_size, vision.patch_size) == (224, 14)
    assert (qformer.hidden_size, qformer.num_hidden_layers, qformer.encoder_hidden_size) == (768, 12, 1408)
    assert (text.d_model, text.d_ff, text.num_layers, text.num_heads, text.vocab_size) == (2048, 5120, 24, 32, 32128)
    assert text.is_gated_act and not text.scale_decoder_outputs and not config.use_decoder_only_language_model
    assert (config.num_query_tokens, config.image_token_index) == (32, 32100)

    from transformers import Blip2ForConditionalGeneration

    with torch.device("meta"):
        model = Blip2ForConditionalGeneration(config)
    sizes = {name: sum(p.numel() for p in getattr(model, name).parameters())
             for name in ("vision_model", "qformer", "language_model")}
    assert sizes == {"vision_model": 985_952_256, "qformer": 105_137_664, "language_model": 2_783_959_040}
    # Built from a config, transformers ties T5's LM head to its embeddings; the checkpoint keeps its
    # own (flan-t5 trains them apart, and loading leaves them untied), which brings it to 3.94 B.
    head = model.language_model.lm_head.weight.numel()
    total = sum(p.numel() for p in model.parameters()) + head
    assert total == 3_942_446_592


def test_prepare_full_without_the_hub_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    from models.caption import prepare_full

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="blip2-flan-t5-xl.*python -m models.prepare --profile full"):
        prepare_full(tmp_path)
