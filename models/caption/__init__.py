"""Scene captions: BLIP-2 (flan-t5-xl by default) describes what the person does, holds and where.

    prepare_full(weights_dir())  # setup, once, where the Hub can be reached (15.8 GB)
    captioner = Blip2Captioner(full_options(weights_dir()))
    captioner.caption(frame_bgr)  # "a man holding dumbbells in a living room", or ""
"""

from models.caption.blip2 import Blip2Captioner
from models.caption.clean import clean_caption, collapse_repeats
from models.caption.config import flan_t5_xl_config, tiny_config
from models.caption.options import BLIP2_FLAN_T5_XL, CAPTION_PROMPT, CaptionOptions, full_options
from models.caption.placement import Placement, resolve_placement
from models.caption.prepare import prepare_full

__all__ = [
    "BLIP2_FLAN_T5_XL",
    "CAPTION_PROMPT",
    "Blip2Captioner",
    "CaptionOptions",
    "Placement",
    "clean_caption",
    "collapse_repeats",
    "flan_t5_xl_config",
    "full_options",
    "prepare_full",
    "resolve_placement",
    "tiny_config",
]
