"""BLIP-2 configurations built offline: the real blip2-flan-t5-xl shape, and a tiny one for tests.

`flan_t5_xl_config()` lets a GPU machine without the Hub time a model of the real shape (random
weights cost the same as trained ones), and lets tests check sizes without allocating: build it under
`torch.device("meta")`. The numbers are those of the checkpoint's config.json on the Hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: `import models.caption` stays light for the server's start-up
    from transformers import Blip2Config

FLAN_T5_XL_IMAGE_TOKEN = 32100
"""The `<image>` token the Hub processor appends to flan-t5's 32100-token vocabulary."""


def flan_t5_xl_config() -> Blip2Config:
    """Salesforce/blip2-flan-t5-xl: EVA ViT-g/14 at 224 px, a 12-layer Q-Former with 32 queries, Flan-T5-XL."""
    from transformers import Blip2Config, Blip2QFormerConfig, Blip2VisionConfig, T5Config

    vision = Blip2VisionConfig(
        hidden_size=1408,
        intermediate_size=6144,
        num_hidden_layers=39,
        num_attention_heads=16,
        image_size=224,
        patch_size=14,
        hidden_act="gelu",
        layer_norm_eps=1e-6,
        qkv_bias=True,
    )
    qformer = Blip2QFormerConfig(
        vocab_size=30522,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        cross_attention_frequency=2,
        encoder_hidden_size=1408,
    )
    text = T5Config(
        vocab_size=32128,
        d_model=2048,
        d_kv=64,
        d_ff=5120,
        num_layers=24,
        num_decoder_layers=24,
        num_heads=32,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu",
        layer_norm_epsilon=1e-6,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
        # T5 v1.1 / Flan: an untied LM head, and no rescaling of the decoder output before it.
        tie_word_embeddings=False,
    )
    return Blip2Config(
        vision_config=vision.to_dict(),
        qformer_config=qformer.to_dict(),
        text_config=text.to_dict(),
        num_query_tokens=32,
        image_text_hidden_size=256,
        image_token_index=FLAN_T5_XL_IMAGE_TOKEN,
    )


def tiny_config(vocab_size: int, image_token_index: int, image_size: int = 30) -> Blip2Config:
    """The same architecture (T5 text model) a few thousand parameters big, for tests on the CPU.

    `vocab_size` and `image_token_index` come from the tokenizer the test builds; `image_size` must be
    a multiple of the 15-pixel patch.
    """
    from transformers import Blip2Config, Blip2QFormerConfig, Blip2VisionConfig, T5Config

    vision = Blip2VisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=image_size,
        patch_size=15,
    )
    qformer = Blip2QFormerConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        cross_attention_frequency=1,
    )
    text = T5Config(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        feed_forward_proj="gated-gelu",
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        tie_word_embeddings=False,
    )
    return Blip2Config(
        vision_config=vision.to_dict(),
        qformer_config=qformer.to_dict(),
        text_config=text.to_dict(),
        num_query_tokens=4,
        image_token_index=image_token_index,
    )
