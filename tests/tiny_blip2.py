"""A tiny random BLIP-2 (T5 text model) with its processor, saved as `save_pretrained` saves the real
one: what the caption tests and the scene tests load through the real loader."""

from __future__ import annotations

from pathlib import Path

import torch

from models.caption import tiny_config

WORDS = (
    "a man woman person holding dumbbells kettlebell barbell in living room gym garden standing squatting "
    "question what is the doing are they and where answer ? : ,"
).split()


def save_tiny_blip2(folder: Path) -> Path:
    """Build the model and processor and save both into `folder`; returns it."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import (
        Blip2ForConditionalGeneration,
        Blip2Processor,
        BlipImageProcessorPil,
        PreTrainedTokenizerFast,
    )

    vocab = {token: i for i, token in enumerate(["<pad>", "</s>", "<unk>", *WORDS])}
    backend = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    image_processor = BlipImageProcessorPil(size={"height": 30, "width": 30})
    processor = Blip2Processor(image_processor=image_processor, tokenizer=tokenizer, num_query_tokens=4)
    image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
    torch.manual_seed(0)
    model = Blip2ForConditionalGeneration(tiny_config(len(processor.tokenizer), image_token)).eval()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


