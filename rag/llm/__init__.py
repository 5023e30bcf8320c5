"""Language-model writers: the writer protocol and versioned prompts (``llms``), one adapter per SDK (llama.cpp,
OpenAI-compatible), and the packaged local models."""
