"""End of turn: Pipecat's Smart Turn v3.2 model (onnxruntime) hears whether a pause ends a turn,
and a language model reads whether the words heard end a sentence (`SentenceEnd`).

Usage (one of each per process): `SmartTurn(embedded_model_path(weights_dir())).probability(audio)`
on the turn's 16 kHz audio up to the pause; `SentenceEnd(gguf_path).probability(transcript)`. How a
pause is judged lives with the voice loop (`realtime/voice/turn_end.py`).
"""

from models.turn.options import TurnOptions
from models.turn.prepare import embedded_model_path, prepare_embedded
from models.turn.sentence_end import SentenceEnd
from models.turn.smart_turn import SmartTurn

__all__ = ["SentenceEnd", "SmartTurn", "TurnOptions", "embedded_model_path", "prepare_embedded"]
