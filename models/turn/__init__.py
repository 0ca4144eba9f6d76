"""End of turn: Pipecat's Smart Turn v3.2 model (onnxruntime), judging whether a pause ends a turn.

Usage (one `SmartTurn` per process): `SmartTurn(embedded_model_path(weights_dir())).probability(audio)`
on the turn's 16 kHz audio up to the pause. How a pause is judged lives with the voice loop
(`realtime/voice/turn_end.py`).
"""

from models.turn.options import TurnOptions
from models.turn.prepare import embedded_model_path, prepare_embedded
from models.turn.smart_turn import SmartTurn

__all__ = ["SmartTurn", "TurnOptions", "embedded_model_path", "prepare_embedded"]
