"""Voice activity detection backends and the pure endpointing state machine."""
