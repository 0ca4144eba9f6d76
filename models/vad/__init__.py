"""Voice activity detection: Silero VAD v6 (onnxruntime) and a streaming end-of-turn segmenter.

Usage (one `SileroVad` per process, one `Segmenter` per voice session):

    vad = SileroVad(embedded_model_path(weights_dir()))
    seg = Segmenter(vad, VadOptions(min_silence_ms=500))
    for event in seg.push(pcm_16k_float32):
        ...  # SpeechStarted -> barge-in; UtteranceEnded -> final ASR
"""

from models.vad.options import VadOptions
from models.vad.prepare import embedded_model_path, prepare_embedded
from models.vad.segmenter import Segmenter, SpeechStarted, UtteranceEnded, VadEvent
from models.vad.silero import SAMPLE_RATE, WINDOW_SAMPLES, SileroStream, SileroVad

__all__ = [
    "SAMPLE_RATE",
    "WINDOW_SAMPLES",
    "Segmenter",
    "SileroStream",
    "SileroVad",
    "SpeechStarted",
    "UtteranceEnded",
    "VadEvent",
    "VadOptions",
    "embedded_model_path",
    "prepare_embedded",
]
