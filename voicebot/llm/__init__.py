"""Local LLM backends that stream text deltas, and the chat history."""
