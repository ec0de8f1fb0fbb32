"""Every diagnostic the server shows, from its two sources (syntax problems, review
findings), and the one way they reach the client: pushed (publishDiagnostics), or, for a
client that pulls them (textDocument/diagnostic), answered when asked and refreshed."""

from __future__ import annotations

from lsprotocol import types

from chmocoder.analysis.document import Document
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.lsp.convert import byte_range, to_range
from chmocoder.lsp.server import ChmoServer

SOURCE = "chmocoder"


def syntax_diagnostics(ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
    diagnostics = [
        types.Diagnostic(
            range=to_range(doc, problem.span, ls.encoding),
            message=problem.message,
            severity=types.DiagnosticSeverity.Error,
            source=SOURCE,
            code="syntax",
        )
        for problem in syntax_problems(doc)
    ]
    if doc.refusal:
        diagnostics.append(
            types.Diagnostic(
                range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                message=doc.refusal,
                severity=types.DiagnosticSeverity.Information,
                source=SOURCE,
                code="not-parsed",
            )
        )
    return diagnostics


_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def review_diagnostics(ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
    state = ls.reviews.get(doc.uri)
    if state is None or not state.by_key:
        return []
    result = []
    for finding in state.findings(doc):
        start, end = doc.row_span(finding.row)
        line = doc.source[start:end].rstrip(b"\r")
        start += len(line) - len(line.lstrip())  # the line's text, not its indentation
        result.append(
            types.Diagnostic(
                range=byte_range(doc, start, start + len(line.lstrip()), ls.encoding),
                message=finding.message,
                severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Information),
                source=SOURCE,
                code="review",
                data={"suggestion": finding.suggestion, "definition": finding.definition},
            )
        )
    return result


def all_diagnostics(ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
    return syntax_diagnostics(ls, doc) + review_diagnostics(ls, doc)


def pulls_diagnostics(ls: ChmoServer) -> bool:
    """Whether the client asks for diagnostics itself (textDocument/diagnostic)."""
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.diagnostic)


def publish(ls: ChmoServer, doc: Document) -> None:
    """Push diagnostics; a client that pulls them is asked to pull again instead, so it
    does not show everything twice (its pulled and pushed diagnostics are kept apart)."""
    if pulls_diagnostics(ls):
        workspace = ls.client_capabilities.workspace
        if workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
            ls.workspace_diagnostic_refresh(None)
        return
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=doc.uri, version=doc.version, diagnostics=all_diagnostics(ls, doc)
        )
    )


def register(server: ChmoServer) -> None:
    options = types.DiagnosticOptions(
        identifier="chmocoder", inter_file_dependencies=False, workspace_diagnostics=False
    )

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, options)
    def pull(
        ls: ChmoServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        doc = ls.document(params.text_document.uri)
        items = all_diagnostics(ls, doc) if doc is not None else []
        return types.RelatedFullDocumentDiagnosticReport(items=items)
