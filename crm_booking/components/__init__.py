"""Reusable UI pieces: the page frame, labelled form fields, feedback blocks, badges."""
