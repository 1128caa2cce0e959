"""Benchmarks behind `voicebot bench <name>`: one module per benchmark with
`register(parser)` and `run(args) -> int`, like the commands."""
