"""CUDA check of the full ("GPU") profile's code paths without Hub weights: llama.cpp through
`models.llm.llama.LlamaCppChat` on a GGUF made here with random weights (one tiny, one with
Mistral-7B's shape in Q4_K), the embedders on `device="cuda"` with a random BERT made here, and the
scene families (MotionBERT-Lite, video Swin-T, BLIP-2 flan-t5-xl) in their real shapes.

Nothing is downloaded: the GGUFs are written with llama.cpp's own `gguf-py` (vendored in the
llama-cpp-python sdist), the BERT with transformers' random init. Random weights give random
text, but the same shapes cost the same time, so the speeds stand for the real models'; the
chat-template checks (prefill reuse) depend only on the template, which is Mistral-7B-v0.2's.

On a GPU machine with CUDA's nvcc, from the repository root (files under .whl/, see below):

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
    python3 benchmarks/cuda_check.py build --src .whl/llama_cpp_python-0.3.36-slim.tar.gz
    python3 benchmarks/cuda_check.py all          # or: probe | llm | embed | families

`.whl/` holds what that machine lacks: pydantic (+ pydantic_core, annotated-types,
typing-inspection, typing_extensions) and diskcache wheels for cp312, and the llama-cpp-python
0.3.36 sdist (`pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36`) repacked
without vendor/llama.cpp's models/, docs/, tests/, tools/ui, other GPU backends and .git (77 MB
-> 8 MB). `build` compiles it with CUDA for sm_90 only (CMAKE_ARGS below; ~minutes on 16 cores)
into <work>/wheels and installs it into --target. A wheel built once can be installed instead
(`pip install --target /tmp/site <wheel>`). `all` writes <work>/results.json and logs/.

Not a test (pytest collects tests/ only); imports every GPU library lazily, so it also runs,
slowly, on a CPU-only llama-cpp-python (`llm --devices cpu --shapes tiny`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WORK = Path(os.environ.get("CUDA_CHECK_WORK", "/tmp/cuda_check"))
CMAKE_ARGS = (
    "-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAVA_BUILD=off -DLLAMA_OPENSSL=off "
    "-DGGML_CUDA_NCCL=off -DGGML_NATIVE=on"
)

FACTS = [
    "Exercise: back squat, set 2.",
    "Reps completed this set: 7.",
    "Depth: hip crease below knee on reps 1-5, above parallel on reps 6 and 7.",
    "Knee valgus (knees caving in) on rep 5 and rep 7, left side worse.",
    "Tempo: 2.1 s down, 0.9 s up on average.",
]
PASSAGES = [
    ("squat-knees-caving", "Knees caving in", ("If the knees drift inward, cue 'spread the floor' and push the knees "
     "out over the middle toes; reduce the load until the knees track the toes on every rep.")),
    ("squat-depth", "Squat depth", ("A full squat brings the hip crease below the top of the knee. Losing depth late "
     "in a set is a sign of fatigue: stop the set one or two reps earlier.")),
    ("squat-tempo", "Tempo", "A controlled descent of about two seconds keeps tension and lets the athlete feel depth."),
]
QUESTIONS = ["How deep was my last squat, and were my knees okay?", "And what should I fix on the next set?"]
REPLY_1 = "You got below parallel on your first five reps, but reps six and seven were shallow. Your knees caved in on reps five and seven."


# --------------------------------------------------------------------------------------------- util

def _load_responder() -> Any:
    """realtime/voice/responder.py (stdlib only) without importing the realtime package."""
    name = "_cuda_check_responder"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "realtime" / "voice" / "responder.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


class _Passage:
    def __init__(self, doc_id: str, title: str, text: str) -> None:
        self.doc_id, self.title, self.text = doc_id, title, text


def _sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    except Exception as exc:  # noqa: BLE001
        return f"({exc})"


def _can_import(name: str) -> str:
    try:
        module = __import__(name)
        return str(getattr(module, "__version__", "yes"))
    except Exception as exc:  # noqa: BLE001
        return f"no ({type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''})"


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) and abs(v) < 1000 else (f"{v:.0f}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- probe

def probe(_args: argparse.Namespace) -> dict[str, Any]:
    info: dict[str, Any] = {
        "gpu": _sh("nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader"),
        "nvcc": _sh("nvcc --version | tail -1"),
        "python": sys.version.split()[0],
        "nproc": os.cpu_count(),
    }
    try:
        import torch
        info["torch"] = f"{torch.__version__} cuda={torch.version.cuda} available={torch.cuda.is_available()}"
    except Exception as exc:  # noqa: BLE001
        info["torch"] = f"no ({exc})"
    try:
        import onnxruntime as ort
        info["onnxruntime"] = f"{ort.__version__} {ort.get_available_providers()}"
        sys.path.insert(0, str(REPO))
        from models.pose.session import resolve_providers
        info["pose providers (auto)"] = resolve_providers(None)
    except Exception as exc:  # noqa: BLE001
        info["onnxruntime"] = f"no ({exc})"
    for name in ("llama_cpp", "ctranslate2", "faster_whisper", "ultralytics", "sentence_transformers", "transformers", "pydantic"):
        info[name] = _can_import(name)
    for key, value in info.items():
        print(f"{key:>22}: {value}")
    return info


# -------------------------------------------------------------------------------------------- build

def build(args: argparse.Namespace) -> dict[str, Any]:
    """Compile the llama-cpp-python sdist with CUDA into a wheel and install it into --target."""
    work = Path(args.work)
    src = Path(args.src)
    if src.is_file():
        dest = work / "src"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        with tarfile.open(src) as tar:
            tar.extractall(dest, filter="data")
        src = next(p for p in dest.iterdir() if (p / "pyproject.toml").is_file())
    env = dict(os.environ)
    nvcc = shutil.which("nvcc") or next((str(p) for p in Path("/usr/local").glob("cuda*/bin/nvcc")), None)
    cmake_args = args.cmake_args + (f" -DCMAKE_CUDA_COMPILER={nvcc}" if nvcc else "")
    env.update(CMAKE_ARGS=cmake_args, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 4), FORCE_CMAKE="1")
    wheels = work / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    log = work / "logs" / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"building {src} with CMAKE_ARGS={cmake_args!r}", flush=True)
    started = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.call(
            [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index",
             "-w", str(wheels), str(src)], env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if rc != 0:
        print(log.read_text()[-6000:])
        raise SystemExit(f"build failed (rc {rc}) after {seconds:.0f} s; log: {log}")
    wheel = max(wheels.glob("llama_cpp_python-*.whl"), key=lambda p: p.stat().st_mtime)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                           "--upgrade", "--target", args.target, str(wheel)])
    result = {"build_s": round(seconds, 1), "wheel": str(wheel), "wheel_mb": round(wheel.stat().st_size / 2**20, 1)}
    print(json.dumps(result))
    return result


# ------------------------------------------------------------------------------------------- GGUFs

def _import_gguf(work: Path) -> Any:
    try:
        import gguf
        return gguf
    except ImportError:
        candidates = sorted((work / "src").glob("*/vendor/llama.cpp/gguf-py"))
        if not candidates:
            raise SystemExit("no gguf package: pip install gguf, or run `build` first (it unpacks the sdist's gguf-py)")
        sys.path.insert(0, str(candidates[0]))
    import gguf
    return gguf


def make_gguf(path: Path, shape: str, template: str, work: Path) -> Path:
    """`tests.tiny_gguf.make_gguf` with a vocabulary for the voice loop's prompts.

    Imported here, in the parent process only: the workers load llama.cpp's CUDA build before
    anything else (with numpy imported first, both workers crashed in llama.cpp's model loading).
    """
    _import_gguf(work)
    sys.path.insert(0, str(REPO))
    from tests import tiny_gguf

    responder = _load_responder()
    texts = [responder.SYSTEM_PROMPT, responder.SUMMARY_REQUEST, *FACTS, *(p[2] for p in PASSAGES), *QUESTIONS, REPLY_1,
             "Measured facts Coaching notes Question INST interrupted"]
    return tiny_gguf.make_gguf(path, shape, template, texts)


# --------------------------------------------------------------------------------------- LLM worker

def _perf(llama: Any) -> dict[str, float]:
    import llama_cpp
    data = llama_cpp.llama_perf_context(llama.ctx)
    return {"t_p_ms": data.t_p_eval_ms, "t_e_ms": data.t_eval_ms, "n_p": data.n_p_eval, "n_e": data.n_eval}


def llm_worker(args: argparse.Namespace) -> None:
    """One model on one device, in its own process (CPU runs hide the GPU), through LlamaCppChat."""
    sys.path.insert(0, str(REPO))
    import llama_cpp
    if args.no_flash_attn:  # LlamaCppChat turns flash attention on with GPU layers: measure without it
        real = llama_cpp.Llama

        def without_flash(*a: Any, **k: Any) -> Any:
            return real(*a, **{**k, "flash_attn": False})

        llama_cpp.Llama = without_flash  # type: ignore[misc]
    from models.llm.llama import LlamaCppChat, common_prefix
    from models.llm.sources import full_options

    responder = _load_responder()
    options = full_options(Path(args.work)).model_copy(update={
        "model_path": Path(args.gguf), "hub_repo": None, "hub_filename": None,
        "n_gpu_layers": args.ngl, "seed": 7, "n_ctx": args.n_ctx,
    })
    res: dict[str, Any] = {"threads": f"{options.threads}/{options.threads_batch}", "n_ctx": options.n_ctx}
    started = time.perf_counter()
    chat = LlamaCppChat(options, verbose=True)
    res["load_s"] = time.perf_counter() - started
    llama = chat.llama
    res["chat_format"] = llama.chat_format

    def sync() -> None:  # llama.cpp decodes asynchronously on CUDA: time only finished work
        llama_cpp.llama_synchronize(llama.ctx)

    # llama-bench style: pp = one batch of random tokens on an empty cache, tg = one token at a time
    rng = random.Random(0)
    toks = [rng.randrange(259, llama.n_vocab()) for _ in range(max(args.pp, args.tg) + 16)]
    llama.reset()
    llama.eval(toks[:16])
    for t in toks[16:24]:
        llama.eval([t])
        sync()
    pp = []
    for _ in range(args.reps):
        llama.reset()
        t0 = time.perf_counter()
        llama.eval(toks[: args.pp])
        sync()
        pp.append(time.perf_counter() - t0)
    res["pp_tok_s"] = args.pp / statistics.median(pp)
    t0 = time.perf_counter()
    for t in toks[: args.tg]:
        llama.eval([t])
        sync()  # generation reads the logits of every token
    res["tg_tok_s"] = args.tg / (time.perf_counter() - t0)
    llama.reset()
    t0 = time.perf_counter()
    for i in range(0, args.pp, 16):  # what prefill does: chunks of PREFILL_CHUNK tokens
        llama.eval(toks[i : min(i + 16, args.pp)])
    sync()
    res["pp_chunk16_tok_s"] = args.pp / (time.perf_counter() - t0)

    # the voice loop's path: prime the system prompt, prefill while the person talks, stream the reply
    passages = [_Passage(*p) for p in PASSAGES]
    llama.reset()
    t0 = time.perf_counter()
    res["prime_tokens"] = chat.prefill([{"role": "system", "content": responder.SYSTEM_PROMPT}])
    sync()
    res["prime_s"] = time.perf_counter() - t0
    history: list[Any] = []
    for turn, question in enumerate(QUESTIONS, 1):
        words = question.split()
        partial = responder.build_messages(" ".join(words[: len(words) // 2]), FACTS, passages, history)
        full = responder.build_messages(question, FACTS, passages, history)
        t0 = time.perf_counter()
        read = chat.prefill(partial)
        sync()
        res[f"t{turn}_prefill_tokens"] = read
        res[f"t{turn}_prefill_s"] = time.perf_counter() - t0
        prefilled = chat._open_prompt_tokens(partial)
        sync()  # flushes llama.cpp's count of queued tokens before resetting it
        llama_cpp.llama_perf_context_reset(llama.ctx)
        t0 = time.perf_counter()
        first = None
        deltas = []
        for delta in chat.stream(full, max_tokens=args.chat_tokens):
            first = first if first is not None else time.perf_counter() - t0
            deltas.append(delta)
        total = time.perf_counter() - t0
        perf = _perf(llama)
        n_gen = perf["n_e"]
        prompt_tokens = llama.n_tokens - n_gen
        common = common_prefix(llama.input_ids[: llama.n_tokens], prefilled)
        res[f"t{turn}_prompt_tokens"] = prompt_tokens
        res[f"t{turn}_stream_read_tokens"] = perf["n_p"]  # prompt tokens the reply itself had to read
        res[f"t{turn}_prefill_reused"] = f"{common}/{len(prefilled)}"
        res[f"t{turn}_ttft_s"] = first if first is not None else float("nan")
        res[f"t{turn}_gen_tokens"] = n_gen
        res[f"t{turn}_gen_tok_s"] = n_gen / (total - first) if first and total > first else float("nan")
        res[f"t{turn}_deltas"] = len(deltas)
        history = [responder.HistoryTurn("user", question), responder.HistoryTurn("assistant", REPLY_1)]
    print("RESULT " + json.dumps(res), flush=True)


def _run_worker(work: Path, name: str, gguf_path: Path, device: str, extra: list[str], timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    if device.startswith("cpu"):
        env["CUDA_VISIBLE_DEVICES"] = ""  # else a CUDA build still sends big CPU batches to the GPU
    cmd = [sys.executable, __file__, "--work", str(work), "_llm_worker", "--gguf", str(gguf_path),
           "--ngl", "0" if device.startswith("cpu") else "-1", *extra]
    if device.endswith("-nofa"):
        cmd.append("--no-flash-attn")
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        rc = "timeout"
    log = work / "logs" / f"llm-{name}-{device}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(out + "\n----- stderr -----\n" + err)
    row: dict[str, Any] = {"model": name, "device": device, "wall_s": round(time.perf_counter() - started, 1)}
    m = re.search(r"offloaded (\d+)/(\d+) layers to GPU", err)
    row["offloaded"] = f"{m.group(1)}/{m.group(2)}" if m else "-"
    m = re.search(r"using device (\S+) \(([^)]*)\)", err)
    row["ggml_device"] = f"{m.group(1)} ({m.group(2)})" if m else "-"
    m = re.search(r"flash_attn\s*=\s*(\S+(?: -> \S+)?)", err)
    row["flash_attn"] = m.group(1) if m else "-"
    result = next((line[7:] for line in out.splitlines() if line.startswith("RESULT ")), None)
    if result is None:
        row["error"] = f"rc={rc}: " + " | ".join(err.strip().splitlines()[-3:])[:400]
    else:
        row.update(json.loads(result))
    print(json.dumps(row), flush=True)
    return row


def _print_llm_table(rows: list[dict[str, Any]]) -> None:
    print("\n## llama.cpp via LlamaCppChat (full-profile options, random weights)\n")
    print(_table(rows, ["model", "device", "offloaded", "flash_attn", "load_s", "pp_tok_s", "tg_tok_s", "pp_chunk16_tok_s",
                        "prime_tokens", "prime_s", "t1_prefill_s", "t1_ttft_s", "t1_gen_tok_s", "t1_prefill_reused",
                        "t1_stream_read_tokens", "t2_prefill_reused", "t2_stream_read_tokens", "t2_ttft_s", "chat_format", "error"]))


def llm(args: argparse.Namespace) -> list[dict[str, Any]]:
    work = Path(args.work)
    (work / "gguf").mkdir(parents=True, exist_ok=True)
    rows = []
    deadline = time.monotonic() + args.budget_s
    plan = []
    shapes = args.shapes.split(",")
    for shape in shapes:
        for template in args.templates.split(","):
            if template != "mistral" and shape != shapes[0]:
                continue  # the template check needs no big model
            devices = args.devices.split(",") if template == "mistral" else [args.devices.split(",")[0]]
            for device in devices:
                if device.endswith("-nofa") and shape != "m7b":
                    continue
                plan.append((shape, template, device))
    for shape, template, device in plan:
        left = deadline - time.monotonic()
        if left < 20:
            rows.append({"model": f"{shape}-{template}", "device": device, "error": "skipped: out of time budget"})
            continue
        path = work / "gguf" / f"{shape}-{template}.gguf"
        if not path.is_file():
            t0 = time.perf_counter()
            make_gguf(path, shape, template, work)
            print(f"wrote {path} ({path.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - t0:.1f} s", flush=True)
        cpu_big = device.startswith("cpu") and shape == "m7b"
        extra = ["--pp", str(128 if cpu_big else 512), "--tg", str(32 if cpu_big else 128),
                 "--reps", "1" if cpu_big else "3", "--chat-tokens", str(24 if cpu_big else 96), "--n-ctx", str(args.n_ctx)]
        rows.append(_run_worker(work, f"{shape}-{template}", path, device, extra, timeout=max(20, min(left, 300))))
    return rows


# ------------------------------------------------------------------------------------- embeddings

def _make_bert(root: Path) -> tuple[Path, Path]:
    """A random BERT with all-MiniLM-L6-v2's shape: a plain checkpoint (the SciBERT path) and a
    sentence-transformers directory around it (the MiniLM torch path)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast
    bert, st_dir = root / "bert", root / "st"
    if (st_dir / "modules.json").is_file():
        return bert, st_dir
    bert.mkdir(parents=True, exist_ok=True)
    words = sorted({w.lower() for t in FACTS + [p[2] for p in PASSAGES] + QUESTIONS for w in re.findall(r"[A-Za-z]+", t)})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [chr(i) for i in range(33, 127)]
    vocab += ["##" + chr(i) for i in range(97, 123)] + [w for w in words if len(w) > 1]
    vocab += [f"[unused{i}]" for i in range(30522 - len(vocab))]
    (bert / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(bert / "vocab.txt"), do_lower_case=True).save_pretrained(bert)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512)
    BertModel(config).save_pretrained(bert)
    from sentence_transformers import SentenceTransformer
    try:
        from sentence_transformers.sentence_transformer.modules import (
            Normalize,
            Pooling,
            Transformer,
        )
    except ImportError:
        from sentence_transformers.models import Normalize, Pooling, Transformer
    transformer = Transformer(str(bert), max_seq_length=256)
    SentenceTransformer(modules=[transformer, Pooling(384, pooling_mode="mean"), Normalize()]).save(str(st_dir))
    return bert, st_dir


def embed(args: argparse.Namespace) -> list[dict[str, Any]]:
    """models.embeddings' torch path (MiniLM and SciBERT loaders) on cuda vs cpu."""
    import numpy as np
    sys.path.insert(0, str(REPO))
    from models.embeddings import EmbeddingOptions, load_minilm, load_scibert
    bert, st_dir = _make_bert(Path(args.work) / "bert")
    passages = [f"{p[2]} (variant {i})" for i in range(86) for p in PASSAGES][:256]
    rows, vectors = [], {}
    devices = ["cuda", "cpu"] if args.devices != "cpu" else ["cpu"]
    for backend, loader, source in (("minilm", load_minilm, st_dir), ("scibert", load_scibert, bert)):
        for device in devices:
            row: dict[str, Any] = {"model": f"load_{backend}, random L6/384 BERT", "device": device}
            try:
                t0 = time.perf_counter()
                embedder = loader(EmbeddingOptions(backend=backend, source=str(source), runtime="torch", device=device))
                row["load_s"] = time.perf_counter() - t0
                row["torch_device"] = str(embedder._model.device)
                for _ in range(3):
                    embedder.embed([QUESTIONS[0]])
                times = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    embedder.embed([QUESTIONS[0]])
                    times.append(time.perf_counter() - t0)
                row["query_ms"] = statistics.median(times) * 1000
                t0 = time.perf_counter()
                vecs = embedder.embed(passages)
                row["batch256_s"] = time.perf_counter() - t0
                vectors[(backend, device)] = vecs
                row["dim"] = int(vecs.shape[1])
            except Exception as exc:  # noqa: BLE001
                row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            rows.append(row)
            print(json.dumps(row), flush=True)
        if (backend, "cuda") in vectors and (backend, "cpu") in vectors:
            cos = np.sum(vectors[(backend, "cuda")] * vectors[(backend, "cpu")], axis=1)
            rows[-2]["min_cos_vs_cpu"] = float(cos.min())
    return rows


# ----------------------------------------------------------------------------------------- families

def _time_calls(call: Any, reps: int, sync: Any) -> float:
    """Median wall ms of `call` after one warm-up (`sync` waits for the device)."""
    call()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _lifting_case(torch: Any, device: Any, tiny: bool) -> tuple[Any, Any, str]:
    from models.lifting import DSTformer, DSTformerConfig, LiftingOptions, MotionLifter

    config = DSTformerConfig(dim_feat=16, dim_rep=32, depth=1, num_heads=2, maxlen=27) if tiny else DSTformerConfig()
    options = LiftingOptions.for_profile("full").model_copy(update={"device": str(device), "window": min(81, config.maxlen)})
    lifter = MotionLifter(DSTformer.from_config(config), options)
    rng = random.Random(0)
    for _ in range(options.window):
        lifter.push(__import__("numpy").array([[rng.uniform(100, 500), rng.uniform(50, 450), 0.9] for _ in range(17)],
                                                dtype="float32"), 640, 480)
    return lifter, lifter.lift, f"MotionBERT-Lite{' (tiny)' if tiny else ''}, {options.window} frames, flip"


def _video_case(torch: Any, device: Any, tiny: bool) -> tuple[Any, Any, str]:
    import numpy as np

    from models.video import ClipFeatures, SwinConfig, VideoOptions, VideoSwin3d, swin3d_t

    options = VideoOptions.for_profile("full").model_copy(update={"device": str(device)})
    backbone = VideoSwin3d(SwinConfig(window_size=(2, 3, 3), embed_dim=8, depths=(2, 1), num_heads=(2, 2))) if tiny \
        else swin3d_t()
    if tiny:
        options = options.model_copy(update={"input_size": 32, "clip_length": 8})
    features = ClipFeatures(options, backbone=backbone)
    crops = np.random.default_rng(0).integers(0, 255, (1, options.clip_length, options.input_size, options.input_size, 3),
                                              dtype=np.uint8)
    return features, lambda: features.features_of_crops(crops), \
        f"video Swin-T{' (tiny)' if tiny else ''}, {options.clip_length}x{options.input_size}"


def _caption_case(torch: Any, device: Any, tiny: bool) -> tuple[Any, Any, str]:
    from transformers import Blip2ForConditionalGeneration

    from models.caption import flan_t5_xl_config, tiny_config

    config = tiny_config(64, 3) if tiny else flan_t5_xl_config()
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    model = Blip2ForConditionalGeneration(config).to(device=device, dtype=dtype).eval()
    size = config.vision_config.image_size
    pixels = torch.rand(1, 3, size, size, device=device, dtype=dtype)
    prompt = torch.tensor([[config.image_token_index] * config.num_query_tokens + [5, 6, 7, 8]], device=device)

    def call() -> Any:
        with torch.inference_mode():
            return model.generate(pixel_values=pixels, input_ids=prompt, max_new_tokens=20, min_new_tokens=20,
                                  do_sample=False)

    return model, call, f"BLIP-2 flan-t5-xl{' (tiny)' if tiny else ''}, 20 tokens, {str(dtype).split('.')[-1]}"


def families(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The scene families (realtime/scene.py) in their real shapes with random weights: load time,
    latency per call as the scene reader makes it, and the GPU memory each holds at its peak."""
    import torch

    sys.path.insert(0, str(REPO))
    cases = {"lifting": _lifting_case, "video": _video_case, "caption": _caption_case}
    rows = []
    for family in args.only.split(","):
        for name in args.devices.split(","):
            device = torch.device("cuda" if name == "gpu" else "cpu")
            row: dict[str, Any] = {"family": family, "device": str(device)}
            try:
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
                sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
                t0 = time.perf_counter()
                holder, call, row["model"] = cases[family](torch, device, args.tiny)
                sync()
                row["load_s"] = time.perf_counter() - t0
                row["call_ms"] = _time_calls(call, args.reps, sync)
                if device.type == "cuda":
                    row["peak_gpu_gb"] = torch.cuda.max_memory_allocated() / 2**30
                del holder
            except Exception as exc:  # noqa: BLE001 - a row says what failed, the others still run
                row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


# ---------------------------------------------------------------------------------------------- all

def run_all(args: argparse.Namespace) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"probe": probe(args)}
    llm_rows = llm(args)
    results["llm"] = llm_rows
    try:
        results["embed"] = embed(args)
    except Exception as exc:  # noqa: BLE001
        results["embed"] = [{"error": f"{type(exc).__name__}: {exc}"}]
    args.only, args.devices, args.reps, args.tiny = "lifting,video,caption", "gpu", 5, False
    results["families"] = families(args)
    (work / "results.json").write_text(json.dumps(results, indent=1, default=str))
    _print_llm_table(llm_rows)
    print("\n## embeddings (models.embeddings torch path)\n")
    print(_table(results["embed"], ["model", "device", "torch_device", "load_s", "query_ms", "batch256_s", "min_cos_vs_cpu", "error"]))
    _print_families(results["families"])


def _print_families(rows: list[dict[str, Any]]) -> None:
    print("\n## scene families (real shapes, random weights)\n")
    print(_table(rows, ["family", "model", "device", "load_s", "call_ms", "peak_gpu_gb", "error"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=str(DEFAULT_WORK))
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("probe")
    b = sub.add_parser("build")
    b.add_argument("--src", required=True, help="llama-cpp-python sdist (.tar.gz) or unpacked directory")
    b.add_argument("--target", default="/tmp/site")
    b.add_argument("--cmake-args", default=CMAKE_ARGS)
    for name in ("llm", "all"):
        p = sub.add_parser(name)
        p.add_argument("--shapes", default="tiny,m7b")
        p.add_argument("--templates", default="mistral,jinja")
        p.add_argument("--devices", default="gpu,gpu-nofa,cpu")
        p.add_argument("--n-ctx", type=int, default=8192)
        p.add_argument("--budget-s", type=float, default=400)
    e = sub.add_parser("embed")
    e.add_argument("--devices", default="gpu,cpu")
    f = sub.add_parser("families", help="the scene families: MotionBERT-Lite, video Swin-T, BLIP-2 flan-t5-xl")
    f.add_argument("--only", default="lifting,video,caption")
    f.add_argument("--devices", default="gpu", help="gpu,cpu (BLIP-2 on the CPU needs ~16 GB and minutes)")
    f.add_argument("--reps", type=int, default=5)
    f.add_argument("--tiny", action="store_true", help="tiny shapes: checks the script itself on a CPU")
    w = sub.add_parser("_llm_worker")
    w.add_argument("--gguf", required=True)
    w.add_argument("--ngl", type=int, default=-1)
    w.add_argument("--pp", type=int, default=512)
    w.add_argument("--tg", type=int, default=128)
    w.add_argument("--reps", type=int, default=3)
    w.add_argument("--chat-tokens", type=int, default=96)
    w.add_argument("--n-ctx", type=int, default=8192)
    w.add_argument("--no-flash-attn", action="store_true")
    args = parser.parse_args()
    {"probe": probe, "build": build, "llm": lambda a: _print_llm_table(llm(a)), "embed": embed, "all": run_all,
     "families": lambda a: _print_families(families(a)), "_llm_worker": llm_worker}[args.cmd](args)


if __name__ == "__main__":
    main()
