"""The setup step that fills models/weights: `python -m models.prepare [--profile full] [--offline]`.

Each family prepares itself (`prepare_embedded(weights)` / `prepare_full(weights)` in its package:
download, export, assemble, verify); this module only runs them in order, with one progress bar,
and says clearly which one failed. Every step is idempotent, so a second run only checks what is
there. The full profile runs the embedded steps first (they are its CPU fallbacks and the small
models it shares), then fetches the Hub's models into the libraries' caches under the models
directory, where the server's full profile loads them from.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time

from tqdm import tqdm

from models.paths import pin_caches, weights_dir

# family -> (module, its function taking the weights directory). Order: cheap first, the LLM last.
EMBEDDED_STEPS: dict[str, tuple[str, str]] = {
    "vad": ("models.vad", "prepare_embedded"),
    "turn": ("models.turn", "prepare_embedded"),
    "tts": ("models.tts", "prepare_embedded"),
    "asr": ("models.asr", "prepare_embedded"),
    "asr_multilingual": ("models.asr.prepare", "prepare_multilingual"),
    "embeddings": ("models.embeddings", "prepare_embedded"),
    "pose": ("models.pose", "prepare_embedded"),
    "llm": ("models.llm", "prepare_embedded"),
}
# family -> module with prepare_full(weights: Path): the full profile's Hub (and vendor) downloads.
FULL_STEPS: dict[str, str] = {
    "pose": "models.pose.prepare",
    "embeddings": "models.embeddings.prepare",
    "asr": "models.asr.prepare",
    "llm": "models.llm.sources",
    "tts": "models.tts.xtts_prepare",
    "lifting": "models.lifting.prepare",
    "video": "models.video.prepare",
    "caption": "models.caption.prepare",
}


def prepare(only: list[str] | None = None, profile: str = "embedded") -> list[str]:
    """Run the selected steps of the profile; returns the steps that failed (each already logged)."""
    weights = weights_dir()
    steps = [(family, family, *step) for family, step in EMBEDDED_STEPS.items()]
    if profile == "full":
        steps += [(family, f"{family} (full)", module, "prepare_full") for family, module in FULL_STEPS.items()]
    steps = [step for step in steps if not only or step[0] in only]
    failed: list[str] = []
    with tqdm(total=len(steps), desc="models", unit="step", disable=None) as bar:
        for _, name, module_name, function in steps:
            bar.set_postfix_str(name)
            t0 = time.monotonic()
            try:
                getattr(importlib.import_module(module_name), function)(weights)
            except Exception as exc:  # one family failing must not hide the others
                logging.getLogger(__name__).error("preparing %s failed: %s", name, exc)
                failed.append(name)
            else:
                logging.getLogger(__name__).debug("%s ready in %.1f s", name, time.monotonic() - t0)
            bar.update()
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["embedded", "full"], default="embedded",
                        help="full: also fetch the full profile's models from the Hugging Face Hub and vendors")
    parser.add_argument("--offline", action="store_true",
                        help="reach no hub: check and finish from what the models directory already holds")
    parser.add_argument("--only", nargs="*", choices=sorted({*EMBEDDED_STEPS, *FULL_STEPS}),
                        help="prepare only these families")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    pin_caches(offline=args.offline or args.profile == "embedded")
    failed = prepare(args.only, args.profile)
    if failed:
        print(f"could not prepare: {', '.join(failed)} (the server reports them as unavailable)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
