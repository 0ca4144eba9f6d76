"""BLIP-2 scene captions: one camera frame in, one short sentence about the person out.

Pose analysis measures how the body moves but not what the person holds or where they are; a caption
every few seconds ("a man holding dumbbells in a living room") gives the coach that context as one
more fact. The model answers a question prompt (`CaptionOptions.prompt`), and the answer is cleaned
(`clean_caption`) so that only a plain, complete phrase reaches the LLM.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models.caption.clean import clean_caption
from models.caption.options import CaptionOptions
from models.caption.placement import Placement, resolve_placement
from models.caption.sources import model_directory

log = logging.getLogger(__name__)

NO_REPEAT_NGRAM = 3
"""Generation never repeats a 3-token phrase: greedy decoding can fall into a loop ("in a gym in a
gym ..."), and blocking it costs less than decoding it up to the token cap and cleaning it out."""


class Blip2Captioner:
    """A loaded BLIP-2 (processor and model) that captions BGR frames.

    Thread-safe: `caption` is called from a worker thread, and one lock serialises generation (the
    model keeps no per-call state, but two generations at once would only share the same GPU or
    cores, and finish later each). `backend`, `source` and `fallback_reason` describe what was
    loaded, for /health.
    """

    def __init__(self, options: CaptionOptions | None = None) -> None:
        self.options = options or CaptionOptions()
        directory = model_directory(self.options)
        placement = resolve_placement(self.options)
        loaded, oom = None, None
        try:
            loaded = _load(directory, placement, self.options.threads)
        except Exception as exc:
            if placement.device == "cpu" or not _is_cuda_oom(exc):
                raise
            oom = _first_line(exc)
        if loaded is None:
            # Out of the except block, so the traceback no longer holds the half-loaded model.
            _release_cuda()
            reason = f"CUDA ran out of memory loading BLIP-2 at {placement.precision} ({oom}); on the CPU instead"
            placement = Placement("cpu", "fp32", reason)
            loaded = _load(directory, placement, self.options.threads)
        self._processor, self._model = loaded
        if placement.fallback_reason:
            log.warning("BLIP-2 captioner: %s", placement.fallback_reason)
        self.placement = placement
        self.backend = f"blip2 {placement.device} {placement.precision}"
        self.source = str(directory)
        self.fallback_reason = placement.fallback_reason
        self._lock = threading.Lock()
        log.info("BLIP-2 captioner ready: %s from %s", self.backend, self.source)

    def caption(self, image_bgr: np.ndarray) -> str:
        """A short caption of the frame (any size, BGR or BGRA uint8 as OpenCV gives it); "" when the
        answer is empty or degenerate."""
        import torch
        from PIL import Image

        rgb = Image.fromarray(_to_rgb(image_bgr))
        prompt = self.options.prompt
        dtype = torch.float32 if self.placement.precision == "fp32" else torch.float16
        # The processor is inside the lock too: a fast tokenizer is not safe to share between threads.
        with self._lock, torch.inference_mode():
            inputs = self._processor(images=rgb, text=prompt or None, return_tensors="pt")
            inputs = inputs.to(self.placement.device, dtype)  # casts pixel_values only: token ids stay integers
            tokens = self._model.generate(
                **inputs,
                max_new_tokens=self.options.max_new_tokens,
                num_beams=self.options.num_beams,
                do_sample=False,
                no_repeat_ngram_size=NO_REPEAT_NGRAM,
            )
            answer = self._processor.batch_decode(tokens, skip_special_tokens=True)[0]
        return clean_caption(answer, prompt)


def _load(directory: Path, placement: Placement, threads: int | None) -> tuple[Any, Any]:
    """Processor and model from `directory`, placed and quantised as `placement` says."""
    import torch
    from transformers import Blip2ForConditionalGeneration, Blip2Processor

    if placement.device == "cpu" and threads:
        torch.set_num_threads(threads)
    kwargs: dict[str, Any] = {"dtype": torch.float32 if placement.precision == "fp32" else torch.float16}
    if placement.precision in ("4bit", "8bit"):
        kwargs["quantization_config"] = _bnb_config(placement.precision)
    if placement.device != "cpu" and importlib.util.find_spec("accelerate"):
        # Straight to the GPU (bitsandbytes needs this, quantising as it places); without accelerate
        # the fp16 model is built in host memory and moved after.
        kwargs["device_map"] = {"": placement.device}
    try:
        processor = Blip2Processor.from_pretrained(directory)
        model = Blip2ForConditionalGeneration.from_pretrained(directory, **kwargs)
        if "device_map" not in kwargs:
            model = model.to(placement.device)
    except Exception as exc:
        if placement.device != "cpu" and _is_cuda_oom(exc):
            raise  # the caller retries on the CPU
        raise RuntimeError(
            f"cannot load BLIP-2 from {directory} ({placement.device} {placement.precision}): "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    return processor, model.eval()


def _bnb_config(precision: str) -> Any:
    """bitsandbytes settings: NF4 weights with fp16 compute (QLoRA's format), or LLM.int8()."""
    import torch
    from transformers import BitsAndBytesConfig

    if precision == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16)


def _to_rgb(image_bgr: np.ndarray) -> np.ndarray:
    """An HxWx3 RGB copy of an OpenCV BGR or BGRA frame; ValueError for anything else."""
    image = np.asarray(image_bgr)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an HxWx3 BGR frame, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 frame, got {image.dtype}")
    return np.ascontiguousarray(image[..., 2::-1])


def _is_cuda_oom(exc: BaseException) -> bool:
    """Whether loading failed for want of GPU memory (torch's OOM error, or bitsandbytes' message)."""
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _release_cuda() -> None:
    """Return what a failed load left on the GPU, so pose inference keeps its memory."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
