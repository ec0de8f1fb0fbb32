"""The tasks: explain, fix, review, docstring, simplify, ask.

Prompt building per task and audience, output parsing, verification of edits.
Returns plain dataclasses; knows nothing of LSP.
"""
