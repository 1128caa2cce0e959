"""`python -m voicebot` is the same as the `voicebot` command."""

from voicebot.cli import main

raise SystemExit(main())
