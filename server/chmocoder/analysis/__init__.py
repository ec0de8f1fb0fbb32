"""Pure tree-sitter work: documents, languages, queries, context and the workspace index.

Nothing here imports pygls or lsprotocol, and positions are byte offsets and
(row, byte column) points, as tree-sitter counts them.
"""
