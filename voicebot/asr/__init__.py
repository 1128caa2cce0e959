"""Speech recognition backends and the LocalAgreement streaming policy."""
