"""Speech recognition: faster-whisper behind the `SpeechRecognizer` protocol, with a hallucination guard.

    asr = FasterWhisperRecognizer(embedded_options(weights_dir()))
    asr.transcribe(utterance_16k_float32, final=True).text
"""

from models.asr.guard import clean_text, is_repetition_loop, rejection_reason, said_once
from models.asr.options import FITNESS_PROMPT, AsrOptions, embedded_options, full_options
from models.asr.prepare import embedded_model_dir, prepare_embedded
from models.asr.protocol import SpeechRecognizer, Transcript
from models.asr.whisper import FasterWhisperRecognizer

__all__ = [
    "FITNESS_PROMPT",
    "AsrOptions",
    "FasterWhisperRecognizer",
    "SpeechRecognizer",
    "Transcript",
    "clean_text",
    "embedded_model_dir",
    "embedded_options",
    "full_options",
    "is_repetition_loop",
    "said_once",
    "prepare_embedded",
    "rejection_reason",
]
