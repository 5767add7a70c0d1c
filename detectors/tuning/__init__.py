"""Tuning the detectors' thresholds on labelled conversations: the file format and the metrics.

`conversations` reads and writes the JSON Lines file of labelled conversations; `metrics` scores what a
replay of them did against their labels. The replay itself (running each conversation through the real
pipeline) lives with the CLI.
"""
