"""Thin adapters to the outside world."""
