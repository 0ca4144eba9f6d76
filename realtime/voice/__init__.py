"""The voice side of a session: listening (VAD, ASR), answering (retrieval, LLM), speaking (TTS)."""
