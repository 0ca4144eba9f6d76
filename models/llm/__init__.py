"""Chat LLMs behind the `ChatModel` protocol: llama.cpp for local GGUFs, HTTP for OpenAI-compatible servers.

    chat = LlamaCppChat(embedded_options(weights_dir()))      # one per process
    for delta in chat.stream(messages, stop_event=barge_in):   # in a worker thread
        ...
"""

from models.llm.llama import LlamaCppChat, fold_system_into_first_user
from models.llm.openai_compat import OpenAICompatibleChat
from models.llm.options import GenerationOptions, LlmOptions, RemoteChatOptions
from models.llm.prepare import GGUF_SHA256, embedded_model_path, prepare_embedded
from models.llm.protocol import ChatModel
from models.llm.sources import DEFAULT_FULL_MODEL, FULL_MODELS, embedded_options, full_options, options_for

__all__ = [
    "DEFAULT_FULL_MODEL",
    "FULL_MODELS",
    "GGUF_SHA256",
    "ChatModel",
    "GenerationOptions",
    "LlamaCppChat",
    "LlmOptions",
    "OpenAICompatibleChat",
    "RemoteChatOptions",
    "embedded_model_path",
    "embedded_options",
    "fold_system_into_first_user",
    "full_options",
    "options_for",
    "prepare_embedded",
]
