"""One module per CLI subcommand: `register(subparsers)` and `run(args) -> int`.

Modules here import nothing heavy at the top, so `voicebot --help` is instant.
"""
