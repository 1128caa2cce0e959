"""Text-to-speech backends that yield audio chunks."""
