"""Fakes that subclass the real interfaces, scripted by data, for scenario tests."""
