"""Runnable examples: ``python -m minigrad.examples.train`` trains the tutorial's CNN."""
