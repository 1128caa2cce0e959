"""`voicebot serve`: many conversations at once over WebSockets (protocol.py), each on its
own worker thread (session.py), sharing the loaded models (engines.py)."""
