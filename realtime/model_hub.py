"""The server's models: loaded once per process in the background, shared by every session.

The server answers HTTP at once; families load in the background and report loading / ready /
unavailable (with the reason) to the health registry, so a session started early gets vision or
voice as soon as they are there and the demo shows what is missing. They load in two lanes at
once: the small families a session needs first one after another, and the knowledge base and
the LLM (the biggest file, then a prefill that computes for seconds) beside them, so reading the
LLM from a cold disk overlaps everything else (benchmarks/startup.py). Model calls
are blocking and CPU-bound: each family gets its own small worker pool so pose never waits behind
an LLM reply, and none of them ever runs on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from models.health import FamilyStatus, HealthRegistry, ModelState
from models.paths import weights_dir
from realtime.analysis_load import AnalysisLoad
from realtime.config import Settings
from realtime.cpu_share import CpuShare
from realtime.priority import lower_thread_priority
from realtime.scene import LoadedLifting, LoadedVideo
from realtime.voice.responder import build_messages

log = logging.getLogger(__name__)

# Load order within each lane: what a session needs first (cheap and visible) first. The scene
# families (realtime/scene.py) are the full profile's: their weights come from the Hub.
LANES = (("pose", "action", "vad", "turn", "tts", "asr"), ("knowledge", "llm", "sentence_end"))
SCENE_LANE = ("lifting", "video", "caption")
FAMILIES = tuple(family for lane in LANES for family in lane)


# Full-profile families whose embedded model stands in when the full one cannot load (weights not
# fetched, no Hub, no GPU, licence not accepted): a smaller model is better than none.
EMBEDDED_FALLBACKS = ("pose", "asr", "tts", "llm")


def families_for(profile: str) -> tuple[str, ...]:
    """The families a profile loads at start."""
    return FAMILIES + SCENE_LANE if profile == "full" else FAMILIES


class ModelHub:
    """Holds one instance per family (None until ready) and the worker pools that run them."""

    def __init__(self, settings: Settings, health: HealthRegistry) -> None:
        self.settings = settings
        self.health = health
        self.pose: Any = None
        self.action: Any = None
        self.vad: Any = None
        self.turn: Any = None
        self.sentence_end: Any = None
        self.asr: Any = None
        self.tts: Any = None
        self.llm: Any = None
        self.knowledge: Any = None
        self.lifting: LoadedLifting | None = None
        self.video: LoadedVideo | None = None
        self.caption: Any = None
        # The pose model is loaded on a worker too, so the threads its runtime starts inherit the priority.
        self.vision_pool = ThreadPoolExecutor(settings.vision_workers, thread_name_prefix="vision",
                                              initializer=lower_thread_priority, initargs=(settings.vision_nice,))
        self.vision_streams = 0  # sessions whose vision loop runs (changed on the event loop only)
        self.asr_pool = ThreadPoolExecutor(2, thread_name_prefix="asr")  # a final beside a partial
        # Replies get a worker of their own: once a reply waits for the model, a prefill reading gives
        # way after its chunk and one waiting leaves. Sharing one pool, two prefills (one reading, a
        # newer one waiting for the lock) could hold both workers, and the reply then waited for a
        # second chunk to be read before it could even ask (0.2-0.3 s in a third of the turns).
        self.prefill_pool = ThreadPoolExecutor(2, thread_name_prefix="llm-prefill")
        self.reply_pool = ThreadPoolExecutor(1, thread_name_prefix="llm-reply")
        self.tts_pool = ThreadPoolExecutor(1, thread_name_prefix="tts")
        # The scene readings (3D lifting, clip features, captions) queue on one worker of their own, at
        # the vision threads' lower priority: they are slower and less urgent than any frame.
        self.scene_pool = ThreadPoolExecutor(1, thread_name_prefix="scene", initializer=lower_thread_priority,
                                             initargs=(settings.vision_nice,))
        self.analysis_load = AnalysisLoad(workers=settings.vision_workers)  # what vision can still give (admission)
        self._loaders: list[threading.Thread] = []
        self._stopping = threading.Event()
        # Voice has priority on a small CPU: conversations claim the cores while they need them,
        # and every session's vision loop backs off (realtime/cpu_share.py).
        self.cpu = CpuShare(settings.cpu)
        self._transcribing = 0
        self._transcribing_lock = threading.Lock()
        self._fact_answerer: Any = None
        self._fact_answerer_lock = threading.Lock()

    @property
    def transcribing(self) -> bool:
        """Whisper is running (it takes one core): the LLM should then read with one thread."""
        return self._transcribing > 0

    async def transcribe(self, audio: Any, final: bool, unclosed: bool = False) -> Any:
        """`asr.transcribe` on the ASR pool, counted while it actually runs (not while it queues,
        and still after its caller has stopped waiting for it)."""
        def run() -> Any:
            with self._transcribing_lock:
                self._transcribing += 1
            try:
                return self.asr.transcribe(audio, final, unclosed)
            finally:
                with self._transcribing_lock:
                    self._transcribing -= 1

        return await asyncio.get_running_loop().run_in_executor(self.asr_pool, run)

    def answer_from_facts(self, question: str, facts: dict[str, Any]) -> Any:
        """`FactAnswerer.answer` (blocking: an embedding), with the knowledge base's embedder. None
        without the knowledge base."""
        knowledge = self.knowledge
        if knowledge is None:
            return None
        return self._fact_answerer_for(knowledge).answer(question, facts)

    def _fact_answerer_for(self, knowledge: Any) -> Any:
        """The fact answerer on `knowledge`'s embedder, made (its example questions embedded) once,
        when the knowledge base loads: ~0.1 s on an idle machine, 0.3-0.4 s beside a browser's
        video, which the first fact question of a fresh server waited for when it was made then."""
        with self._fact_answerer_lock:
            if self._fact_answerer is None:
                from realtime.voice.fact_answers import FactAnswerer

                self._fact_answerer = FactAnswerer(knowledge.embedder.embed)
            return self._fact_answerer

    @property
    def scene_expected(self) -> bool:
        """Whether sessions should read the scene (a scene family is loaded, or will be)."""
        return self.settings.profile == "full" or any(f is not None for f in (self.lifting, self.video, self.caption))

    @property
    def caption_every_s(self) -> float:
        return float(self.settings.models.caption.get("every_s", 5.0))

    def start_loading(self, families: tuple[str, ...] | None = None) -> None:
        """Load `families` (default: the profile's) in the background lanes."""
        families = families_for(self.settings.profile) if families is None else families
        for family in families:
            self.health.set(FamilyStatus(family=family, state=ModelState.LOADING))
        for i, lane in enumerate((*LANES, SCENE_LANE)):
            mine = tuple(f for f in lane if f in families)
            if mine:
                loader = threading.Thread(target=self._load_all, args=(mine,), name=f"model-loader-{i}", daemon=True)
                self._loaders.append(loader)
                loader.start()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until every lane is done (tests and benchmarks); True if they finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for loader in self._loaders:
            loader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(loader.is_alive() for loader in self._loaders)

    def _load_all(self, families: tuple[str, ...]) -> None:
        loaders: dict[str, Callable[[], tuple[Any, str, str]]] = {
            "pose": lambda: self.vision_pool.submit(self._load_pose).result(),  # see vision_pool
            "action": self._load_action, "vad": self._load_vad, "turn": self._load_turn, "asr": self._load_asr,
            "tts": self._load_tts, "knowledge": self._load_knowledge, "llm": self._load_llm,
            "sentence_end": self._load_sentence_end, "lifting": self._load_lifting, "video": self._load_video,
            "caption": self._load_caption,
        }
        for family in families:
            if self._stopping.is_set():
                return
            t0 = time.monotonic()
            try:
                instance, backend, source = loaders[family]()
            except Exception as exc:  # a family that cannot load is reported, never fatal
                reason = f"{type(exc).__name__}: {exc}"
                if (fallback := self._embedded_fallback(family, reason)) is None:
                    log.warning("model family %s unavailable: %s", family, reason)
                    self.health.set(FamilyStatus(family=family, state=ModelState.UNAVAILABLE, reason=reason))
                    continue
                instance, backend, source = fallback
            setattr(self, family, instance)
            self.health.set(FamilyStatus(family=family, state=ModelState.READY, backend=backend, source=source))
            log.info("model family %s ready: %s (%s) in %.1f s", family, backend, source, time.monotonic() - t0)

    def _embedded_fallback(self, family: str, reason: str) -> tuple[Any, str, str] | None:
        """The embedded profile's model, as setup prepared it, for a full-profile family that could
        not load; its backend says so and why. None where there is none (or it fails too)."""
        if not self._full or family not in EMBEDDED_FALLBACKS:
            return None
        loaders: dict[str, Callable[[], tuple[Any, str, str]]] = {
            "pose": lambda: self.vision_pool.submit(self._load_pose, True).result(),
            "asr": lambda: self._load_asr(True), "tts": lambda: self._load_tts(True),
            "llm": lambda: self._load_llm(True),
        }
        try:
            instance, backend, source = loaders[family]()
        except Exception as exc:
            log.warning("model family %s: no embedded fallback either (%s: %s)", family, type(exc).__name__, exc)
            return None
        log.warning("model family %s: the full profile's model is unavailable (%s); the embedded one instead",
                    family, reason)
        return instance, f"{backend} (embedded fallback; the full profile's: {reason[:300]})", source

    # ------------------------------------------------------------------ one loader per family

    @property
    def _full(self) -> bool:
        return self.settings.profile == "full"

    def _overrides(self, family: str, fallback: bool) -> dict[str, Any]:
        """The user's options for a family; none for an embedded fallback (they were for the full model)."""
        return {} if fallback else getattr(self.settings.models, family)

    def _load_pose(self, fallback: bool = False) -> tuple[Any, str, str]:
        from models.pose import PoseOptions, PosePipeline

        base = PoseOptions.for_profile("embedded" if fallback else self.settings.profile)
        options = PoseOptions.model_validate({**base.model_dump(), **self._overrides("pose", fallback)})
        pipeline = PosePipeline(use_fallback=options.backend == "rtmpose", options=options)
        description = f"{pipeline.backend} {options.model}"
        if pipeline.backend == "yolo" and options.refine == "blazepose":
            description += f" (BlazePose refinement off: {pipeline.refine_error})" if pipeline.refine_error \
                else " + BlazePose full landmarks"
        return pipeline, description, pipeline.source

    def _load_action(self) -> tuple[Any, str, str]:
        """The learned skeleton model: exercise recognition and rep progress (ships in the repository)."""
        from coaching.motion import load_default_model
        from models.action.onnx_model import DEFAULT_PATH

        return load_default_model(), "skeleton TCN, onnxruntime CPU", str(DEFAULT_PATH)

    def _load_vad(self) -> tuple[Any, str, str]:
        from models.vad import SileroVad, embedded_model_path

        path = embedded_model_path(weights_dir())
        return SileroVad(path), "silero-vad v6 (onnxruntime)", str(path)

    def _load_turn(self) -> tuple[Any, str, str]:
        from models.turn import SmartTurn, TurnOptions, embedded_model_path

        options = TurnOptions.model_validate(self.settings.models.turn)
        path = embedded_model_path(weights_dir())
        return SmartTurn(path, threads=options.threads), "smart-turn v3.2 (onnxruntime)", str(path)

    def _load_sentence_end(self) -> tuple[Any, str, str]:
        """Whether the words heard end a sentence: the embedded LLM read through a context of its
        own, on the LLM family's weights when that is the embedded GGUF (after it in its lane), else
        on the GGUF loaded for it alone (a remote or full-profile LLM)."""
        from models.llm.prepare import embedded_model_path as llm_path
        from models.turn import SentenceEnd, TurnOptions

        options = TurnOptions.model_validate(self.settings.models.turn)
        path = llm_path(weights_dir())
        llama = getattr(self.llm, "llama", None)
        if llama is not None and Path(llama.model_path) == path:
            return SentenceEnd(llama, threads=options.threads), "llama.cpp, a context on the LLM's weights", str(path)
        return SentenceEnd.from_gguf(path, threads=options.threads), "llama.cpp, weights of its own", str(path)

    def _load_asr(self, fallback: bool = False) -> tuple[Any, str, str]:
        """Whisper. Standing in for the full profile's large-v3, the multilingual base where setup
        prepared it, so the reply still comes in the language the person speaks."""
        from models.asr import AsrOptions, FasterWhisperRecognizer, embedded_options, full_options
        from models.asr.prepare import multilingual_model_dir

        base = full_options(weights_dir()) if self._full and not fallback else embedded_options(weights_dir())
        if fallback and (multilingual := multilingual_model_dir(weights_dir())).is_dir():
            base = base.model_copy(update={"model": str(multilingual), "language": None})
        options = AsrOptions.model_validate({**base.model_dump(), **self._overrides("asr", fallback)})
        recognizer = FasterWhisperRecognizer(options)
        backend = _backend(f"faster-whisper {recognizer.device} {recognizer.compute_type}", recognizer.fallback_reason)
        return recognizer, backend, options.model

    def _load_tts(self, fallback: bool = False) -> tuple[Any, str, str]:
        """The voice, behind a cache of the short phrases it has said (cues repeat: `PhraseCache`)."""
        from models.tts import PhraseCache

        if self._full and not fallback:
            from models.tts import XttsOptions, XttsSynthesizer

            xtts = XttsOptions.model_validate(self.settings.models.tts)
            voice = XttsSynthesizer(xtts)
            backend = _backend(f"xtts-v2 (coqui-tts) {voice.device}", voice.fallback_reason)
            return PhraseCache(voice), backend, str(xtts.model_dir or xtts.model_name)
        from models.tts import PiperSynthesizer, TtsOptions, embedded_options

        base = embedded_options(weights_dir())
        options = TtsOptions.model_validate({**base.model_dump(), **self._overrides("tts", fallback)})
        return PhraseCache(PiperSynthesizer(options)), "piper", str(options.model_path)

    def _load_knowledge(self) -> tuple[Any, str, str]:
        from models.embeddings import EmbeddingOptions
        from rag_index.retriever import Retriever

        embedding = EmbeddingOptions.model_validate(self.settings.models.embeddings)
        retriever = Retriever(embedding=embedding)
        self._fact_answerer_for(retriever)  # ready before the first question, not made in its answer
        return retriever, f"hybrid MiniLM + BM25, {retriever.size} passages", retriever.manifest.model_id

    def _load_llm(self, fallback: bool = False) -> tuple[Any, str, str]:
        remote = self.settings.models.llm_remote
        if remote is not None and not fallback:
            from models.llm import OpenAICompatibleChat, RemoteChatOptions

            options = RemoteChatOptions.model_validate(remote)
            return OpenAICompatibleChat(options), "openai-compatible", f"{options.base_url} {options.model}"
        from models.llm import LlamaCppChat, options_for

        options = options_for("embedded" if fallback else self.settings.profile, weights_dir(),
                              self._overrides("llm", fallback))
        source = str(options.model_path or f"{options.hub_repo}/{options.hub_filename}")
        chat = LlamaCppChat(options)
        # The fixed system prompt goes into the KV cache now, not on the first person's first question.
        chat.prefill(build_messages("", [], None, []))
        return chat, "llama.cpp", source

    def _load_lifting(self) -> tuple[Any, str, str]:
        """MotionBERT-Lite on the GPU when there is one, else the CPU (also when the GPU fails)."""
        from models.devices import place
        from models.lifting import LiftingOptions, load_model

        base = LiftingOptions.for_profile(self.settings.profile)
        options = LiftingOptions.model_validate({**base.model_dump(), **self.settings.models.lifting})
        model = load_model(options, weights_dir()).eval()
        device, fallback = place(model, options.device, "MotionBERT-Lite")
        options = options.model_copy(update={"device": str(device)})  # the sessions' lifters run it there
        source = str(options.checkpoint_path(weights_dir()))
        return LoadedLifting(model, options), _backend(f"MotionBERT-Lite, torch {device}", fallback), source

    def _load_video(self) -> tuple[Any, str, str]:
        """Video Swin with the phase/technique head fitted on its features (without one: features only,
        and the scene reads no clips)."""
        from models.video import ClipFeatures, ClipHead, VideoOptions

        base = VideoOptions.for_profile(self.settings.profile)
        options = VideoOptions.model_validate({**base.model_dump(), **self.settings.models.video})
        features = ClipFeatures(options)
        head_path = options.head_path()
        head = ClipHead.load(head_path) if head_path.is_file() else None
        if head is not None:
            head.check_features(features.feature_config)
        backend = _backend(f"video Swin ({options.arch}, {options.clip_length}x{options.input_size}), torch "
                           f"{features.device}", features.fallback_reason)
        backend += "" if head is not None else "; no head fitted: scripts/train_video_head.py"
        return LoadedVideo(features, head), backend, str(options.checkpoint or options.arch)

    def _load_caption(self) -> tuple[Any, str, str]:
        from models.caption import Blip2Captioner, CaptionOptions, full_options

        options = CaptionOptions.model_validate({**full_options(weights_dir()).model_dump(),
                                                 **self.settings.models.caption})
        captioner = Blip2Captioner(options)
        return captioner, captioner.backend, captioner.source

    def close(self, wait_s: float = 0.0) -> bool:
        """No family starts loading any more and the pools take no new work. `wait_s`: wait that long
        for the families still loading; True when none is. A process must not exit while one loads:
        the loaders run native code (llama.cpp, onnxruntime), and the interpreter finalising under
        them aborted or crashed the process (a Ctrl-C during start-up, 1 run in 3)."""
        self._stopping.set()
        for pool in (self.vision_pool, self.asr_pool, self.prefill_pool, self.reply_pool, self.tts_pool,
                     self.scene_pool):
            pool.shutdown(wait=False, cancel_futures=True)
        return self.wait_loaded(wait_s)


def _backend(name: str, cpu_fallback: str | None) -> str:
    """A family's backend for /health, saying why it runs on the CPU where it was meant not to."""
    return name if cpu_fallback is None else f"{name} (CPU fallback: {cpu_fallback})"
