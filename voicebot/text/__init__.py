"""Text for speech: streaming sentence splitting and clean-up of what a TTS would read."""
