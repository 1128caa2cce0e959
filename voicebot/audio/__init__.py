"""Audio sources (microphone, WAV replay), sinks (speaker, WAV) and format conversion."""
