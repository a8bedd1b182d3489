"""Reflex state classes, one module per page. They hold UI state and call services only."""
