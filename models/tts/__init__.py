"""Speech synthesis: Piper (embedded) and XTTS-v2 (full) behind `SpeechSynthesizer`, a cache of the
short phrases already said, and the text side of speaking: a normaliser for what a voice cannot say
and a chunker for streamed LLM text.

    tts = PiperSynthesizer(embedded_options(weights_dir()))
    chunker = SentenceChunker()
    for delta in chat.stream(messages):
        for piece in chunker.push(delta):
            for chunk in tts.synthesize(piece):   # AudioChunk: int16 @ tts.sample_rate
                ...                               # models.audio.StreamResampler(tts.sample_rate) -> 48 kHz
"""

from models.tts.chunker import SentenceChunker
from models.tts.normalize import normalize_for_speech
from models.tts.options import TtsOptions, XttsOptions
from models.tts.phrase_cache import PhraseCache
from models.tts.piper_backend import PiperSynthesizer
from models.tts.prepare import embedded_options, embedded_voice_path, prepare_embedded
from models.tts.protocol import AudioChunk, SpeechSynthesizer
from models.tts.xtts import XttsSynthesizer

__all__ = [
    "AudioChunk",
    "PhraseCache",
    "PiperSynthesizer",
    "SentenceChunker",
    "SpeechSynthesizer",
    "TtsOptions",
    "XttsOptions",
    "XttsSynthesizer",
    "embedded_options",
    "embedded_voice_path",
    "normalize_for_speech",
    "prepare_embedded",
]
