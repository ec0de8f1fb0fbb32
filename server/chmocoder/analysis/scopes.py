"""Names used outside the block that declares them: `i` after the `for` that declares it,
`value` after the `if` block that declared it. A compiler refuses such code; an edit from the
model that adds such a use would not build, so it is not offered (assist/edits.verify).

The rules are per language, for block-scoped languages only (Python, Ruby, Lua, PHP and Bash
scope by function or not at all, so none apply there): which nodes open a scope, and which
declare names (with the fields that hold the names; the rest, such as an initial value or a
type, are not searched). A name is looked up by its text. A use is reported only when the name
is declared in this file and no declaration of it encloses the use; a name declared nowhere
in the file (an import, a global from elsewhere, a builtin) is never reported. The check is
meant to be compared before and after an edit: only uses the edit adds count.

Python has no block scopes, but every name it reads must be bound somewhere: a read of a name
that nothing in the file binds (no assignment, parameter, loop or `with` target, `def`,
`class`, import, `global`, pattern capture) and that is no builtin is a NameError when it
runs. Where a file could bind names unseen (`from m import *`, a call of `globals` or
`exec`) or does not parse, nothing is reported; names in annotations are left alone (with postponed
evaluation they are never looked up)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from chmocoder.analysis.document import Document


@dataclass(frozen=True)
class ScopeRules:
    scopes: frozenset[str]
    """Node types that open a scope; a declaration is visible within its nearest one
    (itself included: a `for` declares its variable for itself)."""
    declarations: dict[str, tuple[str, ...] | None]
    """Node type -> the fields that hold the names it declares (None: all but SKIPPED)."""
    function_wide: frozenset[str] = frozenset()
    """Parents of a declaration that make it visible in the whole function (JavaScript's
    `var`): such a name is never reported."""


SKIPPED = frozenset(
    {
        "type",
        "value",
        "default_value",
        "size",
        "right",
        "body",
        "arguments",
        "function",
        "condition",
        "alternative",
        "dimensions",
        "return_type",
        "parameters",
    }
)
"""Fields of a declaration that hold no declared name (the value, the type, the body)."""

NOT_A_USE = frozenset({"function", "macro", "name", "field", "type", "label", "property"})
"""Fields of an identifier's parent where the identifier is not a variable read: a called
function, a macro, a method or field name."""

_C = ScopeRules(
    scopes=frozenset({"compound_statement", "for_statement", "function_definition"}),
    declarations={
        "declaration": None,
        "parameter_declaration": None,
        "preproc_def": ("name",),
        "preproc_function_def": ("name",),
        "enumerator": ("name",),
    },
)
_CPP = ScopeRules(
    scopes=_C.scopes | {"for_range_loop", "lambda_expression", "catch_clause"},
    declarations={
        **_C.declarations,
        "optional_parameter_declaration": ("declarator",),
        "for_range_loop": ("declarator",),
    },
)
_JAVASCRIPT = ScopeRules(
    scopes=frozenset(
        {
            "statement_block",
            "for_statement",
            "for_in_statement",
            "function_declaration",
            "function_expression",
            "function",
            "arrow_function",
            "method_definition",
            "catch_clause",
            "generator_function_declaration",
            "class_body",
        }
    ),
    declarations={
        "variable_declarator": ("name",),
        "formal_parameters": None,
        "for_in_statement": ("left",),
        "catch_clause": ("parameter",),
        "arrow_function": ("parameter",),
    },
    function_wide=frozenset({"variable_declaration"}),
)
_TYPESCRIPT = ScopeRules(
    scopes=_JAVASCRIPT.scopes,
    declarations={
        **_JAVASCRIPT.declarations,
        "required_parameter": ("pattern",),
        "optional_parameter": ("pattern",),
    },
    function_wide=_JAVASCRIPT.function_wide,
)
_RUST = ScopeRules(
    scopes=frozenset(
        {
            "block",
            "for_expression",
            "match_arm",
            "closure_expression",
            "function_item",
            "if_expression",
            "while_expression",
        }
    ),
    declarations={
        "let_declaration": ("pattern",),
        "parameter": ("pattern",),
        "closure_parameters": None,
        "for_expression": ("pattern",),
        "match_arm": ("pattern",),
        "let_condition": ("pattern",),
    },
)
_JAVA = ScopeRules(
    scopes=frozenset(
        {
            "block",
            "for_statement",
            "enhanced_for_statement",
            "method_declaration",
            "constructor_declaration",
            "lambda_expression",
            "catch_clause",
            "class_body",
            "switch_block_statement_group",
            "try_with_resources_statement",
        }
    ),
    declarations={
        "local_variable_declaration": ("declarator",),
        "field_declaration": ("declarator",),
        "formal_parameter": ("name",),
        "catch_formal_parameter": ("name",),
        "enhanced_for_statement": ("name",),
        "resource": ("name",),
        "inferred_parameters": None,
    },
)
_GO = ScopeRules(
    scopes=frozenset(
        {
            "block",
            "for_statement",
            "if_statement",
            "function_declaration",
            "method_declaration",
            "func_literal",
            "expression_case",
            "default_case",
            "type_case",
            "communication_case",
            "expression_switch_statement",
            "type_switch_statement",
        }
    ),
    declarations={
        "short_var_declaration": ("left",),
        "var_spec": ("name",),
        "const_spec": ("name",),
        "parameter_declaration": ("name",),
        "range_clause": ("left",),
    },
)

RULES: dict[str, ScopeRules] = {
    "c": _C,
    "cpp": _CPP,
    "javascript": _JAVASCRIPT,
    "typescript": _TYPESCRIPT,
    "tsx": _TYPESCRIPT,
    "rust": _RUST,
    "java": _JAVA,
    "go": _GO,
}

_NAMES = frozenset({"identifier", "shorthand_property_identifier_pattern"})


@dataclass(frozen=True)
class OutOfScope:
    name: str
    row: int
    """0-based row of the use."""
    declared: bool = True
    """False: nothing in the file declares or binds the name (Python)."""

    @property
    def why(self) -> str:
        if self.declared:
            return "outside the block that declares it"
        return "but nothing in the file defines it"

    def problem(self) -> str:
        """As a known problem in a fix's prompt, like a compiler's message."""
        return f"line {self.row + 1}: `{self.name}` is used {self.why}"


def out_of_scope_uses(doc: Document, start: int, end: int) -> list[OutOfScope]:
    """Uses in [start, end) of names that this file declares, none of whose declarations
    encloses the use; in Python, of names nothing binds (in document order)."""
    rules = RULES.get(doc.language_name or "")
    doc.reparse()
    if doc.tree is None:
        return []
    if doc.language_name == "python":
        return _unbound_python(doc, start, end)
    if rules is None:
        return []
    root = doc.tree.root_node
    scopes: dict[str, list[tuple[int, int]]] = {}
    declared: set[int] = set()
    everywhere: set[str] = set()
    for declaration in _walk(root):
        fields = rules.declarations.get(declaration.type, ())
        if fields == ():
            continue
        parent = declaration.parent
        wide = parent is not None and parent.type in rules.function_wide
        scope = _scope_of(declaration, rules, root)
        for name_node in _declared_names(declaration, fields):
            name = doc.source[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
            declared.add(name_node.start_byte)
            if wide or scope is root:
                everywhere.add(name)
            scopes.setdefault(name, []).append((scope.start_byte, scope.end_byte))
    found: list[OutOfScope] = []
    for node in _walk(root, start, end):
        if node.type != "identifier" or node.start_byte in declared:
            continue
        if not start <= node.start_byte < end or not _is_use(node):
            continue
        name = doc.source[node.start_byte : node.end_byte].decode("utf-8", "replace")
        within = scopes.get(name)
        if within is None or name in everywhere:
            continue
        if not any(a <= node.start_byte < b for a, b in within):
            found.append(OutOfScope(name, node.start_point.row))
    return found


def _walk(node: Node, start: int = 0, end: int | None = None) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if end is not None and (current.end_byte <= start or current.start_byte >= end):
            continue
        yield current
        stack.extend(reversed(current.named_children))


def _scope_of(declaration: Node, rules: ScopeRules, root: Node) -> Node:
    node: Node | None = declaration
    while node is not None:
        if node.type in rules.scopes:
            return node
        node = node.parent
    return root


def _declared_names(declaration: Node, fields: tuple[str, ...] | None) -> Iterator[Node]:
    """The name nodes a declaration declares: in its `fields` (all but SKIPPED if None),
    through patterns and declarators, not into values or types. A capitalised name in a
    pattern is a constant or an enum variant, not a new variable."""
    if fields is None:
        starts = [
            c
            for i, c in enumerate(declaration.children)
            if c.is_named and declaration.field_name_for_child(i) not in SKIPPED
        ]
    else:
        starts = [c for f in fields for c in declaration.children_by_field_name(f)]
    stack = list(reversed(starts))
    while stack:
        node = stack.pop()
        if node.type in _NAMES:
            text = node.text or b""
            if not text[:1].isupper():
                yield node
            continue
        if "comment" in node.type:
            continue
        stack.extend(
            c
            for i, c in reversed(list(enumerate(node.children)))
            if c.is_named and node.field_name_for_child(i) not in SKIPPED
        )


def _is_use(node: Node) -> bool:
    """An identifier that reads a variable: not a called function's or a method's name, not
    a path's segment (`a::b`), a field or a label."""
    parent = node.parent
    if parent is None:
        return False
    if "scoped" in parent.type or (
        parent.type in ("field_access", "method_invocation")
        and parent.child_by_field_name("object") != node
    ):
        return False
    for i, child in enumerate(parent.children):
        if child == node:
            return parent.field_name_for_child(i) not in NOT_A_USE
    return True


_PYTHON_BINDING_FIELDS = {
    "assignment": "left",
    "augmented_assignment": "left",
    "for_statement": "left",
    "for_in_clause": "left",
    "function_definition": "name",
    "class_definition": "name",
    "named_expression": "name",
    "as_pattern": "alias",
    "aliased_import": "alias",
    "type_alias_statement": "left",
}
"""Python nodes whose field binds the names under it (a subscript or attribute target binds
nothing, but counting its names too only reports less)."""
_PYTHON_BINDING_NODES = frozenset(
    {
        "parameters", "lambda_parameters", "import_statement", "import_from_statement",
        "future_import_statement", "global_statement", "nonlocal_statement", "case_pattern",
        "type_parameter", "as_pattern_target",
    }
)  # fmt: skip
"""Python nodes all of whose names are bound (a default value or an annotation inside a
parameter list included, which only reports less)."""
_PYTHON_NOT_A_READ = {"attribute": "attribute", "keyword_argument": "name"}
"""An identifier in this field of this node reads no variable (`x.attr`, `f(key=1)`)."""
_PYTHON_KNOWN = frozenset(dir(builtins)) | {
    "__file__", "__name__", "__doc__", "__spec__", "__loader__", "__package__", "__path__",
    "__builtins__", "__cached__", "__annotations__", "__dict__", "__module__", "__qualname__",
    "__class__", "__debug__", "_", "get_ipython",
    # builtins of later Pythons than the server's
    "aiter", "anext", "EncodingWarning", "BaseExceptionGroup", "ExceptionGroup",
    "PythonFinalizationError", "_IncompleteInputError",
}  # fmt: skip
"""Names that are bound without a binding in the file: builtins, a module's and a class
body's implicit names, `_` (gettext installs it as a builtin) and IPython's `get_ipython`."""
_PYTHON_DYNAMIC = frozenset({"globals", "exec"})
"""Called anywhere in the file, these may bind names the parse tree does not show."""


def _unbound_python(doc: Document, start: int, end: int) -> list[OutOfScope]:
    assert doc.tree is not None
    root = doc.tree.root_node
    if root.has_error:
        return []
    bound: set[bytes] = set()
    reads: list[Node] = []
    for node in _walk(root):
        if node.type == "wildcard_import":
            return []
        if node.type == "identifier":
            if _python_bound_here(node):
                bound.add(node.text or b"")
            elif start <= node.start_byte < end and _python_reads(node):
                reads.append(node)
        elif node.type == "call":
            function = node.child_by_field_name("function")
            if function is not None and (function.text or b"") in _DYNAMIC_BYTES:
                return []
    found: list[OutOfScope] = []
    for node in reads:
        name = (node.text or b"").decode("utf-8", "replace")
        if node.text not in bound and name not in _PYTHON_KNOWN:
            found.append(OutOfScope(name, node.start_point.row, declared=False))
    return found


_DYNAMIC_BYTES = frozenset(name.encode() for name in _PYTHON_DYNAMIC)


def _python_bound_here(node: Node) -> bool:
    """Whether this identifier sits where Python binds a name (see the tables above)."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in _PYTHON_BINDING_NODES:
            return True
        field = _PYTHON_BINDING_FIELDS.get(parent.type)
        if field is not None and parent.child_by_field_name(field) == child:
            return True
        if parent.type in ("block", "module", "call", "argument_list", "lambda"):
            return False
        child, parent = parent, parent.parent
    return False


def _python_reads(node: Node) -> bool:
    """Whether this identifier reads a variable (not `x.attr`'s `attr`, not a keyword's name,
    not in an annotation)."""
    parent = node.parent
    if parent is None:
        return False
    field = _PYTHON_NOT_A_READ.get(parent.type)
    if field is not None and parent.child_by_field_name(field) == node:
        return False
    while parent is not None and parent.type not in ("block", "module"):
        if parent.type == "type":
            return False
        parent = parent.parent
    return True
