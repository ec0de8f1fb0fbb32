"""Names used outside the block that declares them: `i` after the `for` that declares it,
`value` after the `if` block that declared it. A compiler refuses such code; an edit from the
model that adds such a use would not build, so it is not offered (assist/edits.verify).
Likewise a constant assigned again (JavaScript's `const`: a TypeError when it runs; Rust's
`let` without `mut`: it does not build).

The rules are per language, for block-scoped languages only (Python, Ruby, Lua, PHP and Bash
scope by function or not at all, so none apply there): which nodes open a scope, and which
declare names (with the fields that hold the names; the rest, such as an initial value or a
type, are not searched). A name is looked up by its text. A use is reported only when a
function around it declares the name and no declaration of it encloses the use; a name
declared nowhere in the file (an import, a global from elsewhere, a builtin), at file level,
only in other functions (it may be a global of the same name) or by a construct visible
beyond its block (a function's or a class's name, an import, `var`) is never reported. Checked
for false alarms on the 3,958 JavaScript files and 1,824 C, C++ and TypeScript files of the
development machine (none). The check is meant to be compared before and after an edit: only
uses the edit adds count; the uses already there are known problems for a fix.

Python has no block scopes, but every name it reads must be bound somewhere: a read of a name
that nothing in the file binds (no assignment, parameter, loop or `with` target, `def`,
`class`, import, `global`, pattern capture) and that is no builtin is a NameError when it
runs. Where a file could bind names unseen (`from m import *`, a call of `globals` or
`exec`) or does not parse, nothing is reported; names in annotations are left alone (with
postponed evaluation they are never looked up)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from tree_sitter import Language, Node, Query, QueryCursor

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
    functions: frozenset[str] = frozenset()
    """Node types of functions. A use is reported only inside a function that declares the
    name (in a block that does not hold the use): a name declared in another function may
    be a global of the same name, declared in a header or the environment."""
    named_everywhere: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    """Node type -> the fields of names it declares that are never reported: a function's or
    a class's name, an import (visible beyond the block that holds them, or everywhere)."""
    wide: Callable[[Node], bool] | None = None
    """Whether a declaration is visible in the whole function (a `for (var x in xs)`)."""
    assignments: dict[str, str] = field(default_factory=dict)
    """Node type -> the field of the name it assigns (`x = ...`, `x += ...`, `x++`)."""
    constant: Callable[[Node, Node], bool] | None = None
    """Whether a declaration makes this name node of it a constant (`const`, a `let`
    without `mut`): assigning it again does not build (or, in JavaScript, throws)."""


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
    functions=frozenset({"function_definition"}),
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
    functions=frozenset({"function_definition", "lambda_expression"}),
    scopes=_C.scopes | {"for_range_loop", "lambda_expression", "catch_clause"},
    declarations={
        **_C.declarations,
        "optional_parameter_declaration": ("declarator",),
        "for_range_loop": ("declarator",),
    },
)


def _js_constant(declaration: Node, _name: Node) -> bool:
    """`const a = 1`, `for (const x of xs)`."""
    holder = declaration.parent if declaration.type == "variable_declarator" else declaration
    return holder is not None and any(c.type == "const" for c in holder.children[:3])


def _rust_constant(declaration: Node, name: Node) -> bool:
    """A binding without `mut`; a `let` without a value may be assigned once, later."""
    if declaration.type == "let_declaration" and declaration.child_by_field_name("value") is None:
        return False
    if any(c.type == "mutable_specifier" for c in declaration.children):
        return False
    node: Node | None = name
    while node is not None and node != declaration:
        if node.type == "mut_pattern":
            return False
        node = node.parent
    return True


_JS_FUNCTIONS = frozenset(
    {
        "function_declaration", "function_expression", "function", "arrow_function",
        "method_definition", "generator_function_declaration", "generator_function",
    }
)  # fmt: skip
_JS_NAMED_EVERYWHERE: dict[str, tuple[str, ...] | None] = {
    "import_statement": None,
    "function_declaration": ("name",),
    "generator_function_declaration": ("name",),
    "function_expression": ("name",),
    "class_declaration": ("name",),
    "class": ("name",),
}
_JAVASCRIPT = ScopeRules(
    functions=_JS_FUNCTIONS,
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
    named_everywhere=_JS_NAMED_EVERYWHERE,
    wide=lambda declaration: any(c.type == "var" for c in declaration.children[:3]),
    assignments={
        "assignment_expression": "left",
        "augmented_assignment_expression": "left",
        "update_expression": "argument",
    },
    constant=_js_constant,
)
_TYPESCRIPT = ScopeRules(
    functions=_JS_FUNCTIONS,
    scopes=_JAVASCRIPT.scopes,
    declarations={
        **_JAVASCRIPT.declarations,
        "required_parameter": ("pattern",),
        "optional_parameter": ("pattern",),
    },
    function_wide=_JAVASCRIPT.function_wide,
    named_everywhere=_JS_NAMED_EVERYWHERE,
    wide=_JAVASCRIPT.wide,
    assignments=_JAVASCRIPT.assignments,
    constant=_js_constant,
)
_RUST = ScopeRules(
    functions=frozenset({"function_item", "closure_expression"}),
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
    assignments={"assignment_expression": "left", "compound_assignment_expr": "left"},
    constant=_rust_constant,
)
_JAVA = ScopeRules(
    functions=frozenset({"method_declaration", "constructor_declaration", "lambda_expression"}),
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
    functions=frozenset({"function_declaration", "method_declaration", "func_literal"}),
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
    kind: Literal["outside", "unbound", "constant"] = "outside"
    """Used outside every block that declares it; bound nowhere in the file (Python);
    assigned again though declared constant."""

    @property
    def why(self) -> str:
        return _WHY[self.kind]

    def problem(self) -> str:
        """As a known problem, like a compiler's message (problems.py adds the line)."""
        verb = "assigned" if self.kind == "constant" else "used"
        return f"`{self.name}` is {verb} {self.why}"


_WHY = {
    "outside": "outside the block that declares it",
    "unbound": "but nothing in the file defines it",
    "constant": "though it is declared constant (`const`, or a `let` without `mut`)",
}


def out_of_scope_uses(doc: Document, start: int, end: int) -> list[OutOfScope]:
    """Uses in [start, end) of names that this file declares, none of whose declarations
    encloses the use, or that assign again a name declared constant; in Python, of names
    nothing binds (in document order)."""
    rules = RULES.get(doc.language_name or "")
    doc.reparse()
    if doc.tree is None:
        return []
    if doc.language_name == "python":
        return _unbound_python(doc, start, end)
    if rules is None:
        return []
    root = doc.tree.root_node
    homes: dict[str, list[tuple[int, int]]] = {}
    """name -> the span of the function around each of its declarations."""
    bindings: dict[str, list[tuple[int, int, int, bool]]] = {}
    """name -> (scope start, scope end, where declared, constant) of each declaration."""
    declared: set[int] = set()
    everywhere: set[str] = set()
    wide_names: set[str] = set()
    for declaration in _walk(root):
        named = rules.named_everywhere.get(declaration.type, ())
        if named != ():
            for name_node in _declared_names(declaration, named, doc.source):
                name = doc.source[name_node.start_byte : name_node.end_byte].decode(
                    "utf-8", "replace"
                )
                everywhere.add(name)
                wide_names.add(name)
        fields = rules.declarations.get(declaration.type, ())
        if fields == ():
            continue
        parent = declaration.parent
        wide = (parent is not None and parent.type in rules.function_wide) or (
            rules.wide is not None and rules.wide(declaration)
        )
        scope = _scope_of(declaration, rules, root)
        home = _enclosing(declaration, rules.functions)
        for name_node in _declared_names(declaration, fields, doc.source):
            name = doc.source[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
            declared.add(name_node.start_byte)
            if wide or scope is root:
                everywhere.add(name)
            if wide:
                wide_names.add(name)
            if home is not None:
                homes.setdefault(name, []).append((home.start_byte, home.end_byte))
            constant = rules.constant is not None and rules.constant(declaration, name_node)
            bindings.setdefault(name, []).append(
                (scope.start_byte, scope.end_byte, name_node.start_byte, constant)
            )
    found: list[OutOfScope] = []
    for node in _walk(root, start, end):
        if node.type != "identifier" or node.start_byte in declared:
            continue
        if not start <= node.start_byte < end or not _is_use(node):
            continue
        name = doc.source[node.start_byte : node.end_byte].decode("utf-8", "replace")
        seen = bindings.get(name)
        if seen is None:
            continue
        at = node.start_byte
        if (
            name not in everywhere
            and not any(a <= at < b for a, b, _where, _constant in seen)
            and any(a <= at < b for a, b in homes.get(name, ()))
        ):
            found.append(OutOfScope(name, node.start_point.row))
        elif (
            name not in wide_names  # a `var` of the same name may shadow it: left alone
            and _assigned(node, rules)
            and _nearest_is_constant(seen, at)
        ):
            found.append(OutOfScope(name, node.start_point.row, "constant"))
    return found


def _assigned(node: Node, rules: ScopeRules) -> bool:
    """Whether this identifier is the whole target of an assignment (not `a.b = ...`)."""
    parent = node.parent
    target = rules.assignments.get(parent.type) if parent is not None else None
    return target is not None and parent is not None and parent.child_by_field_name(target) == node


def _nearest_is_constant(bindings: list[tuple[int, int, int, bool]], at: int) -> bool:
    """Whether the declaration a use at `at` sees (the last one before it among those whose
    scope holds it: an inner block's shadows an outer one) is constant."""
    seen = [(where, constant) for a, b, where, constant in bindings if a <= at < b and where < at]
    return bool(seen) and max(seen)[1]


def _walk(node: Node, start: int = 0, end: int | None = None) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if end is not None and (current.end_byte <= start or current.start_byte >= end):
            continue
        yield current
        stack.extend(reversed(current.named_children))


def _enclosing(node: Node, types: frozenset[str]) -> Node | None:
    """The innermost node of one of `types` that holds `node` (itself included)."""
    current: Node | None = node
    while current is not None and current.type not in types:
        current = current.parent
    return current


def _scope_of(declaration: Node, rules: ScopeRules, root: Node) -> Node:
    node: Node | None = declaration
    while node is not None:
        if node.type in rules.scopes:
            return node
        node = node.parent
    return root


def _declared_names(
    declaration: Node, fields: tuple[str, ...] | None, source: bytes
) -> Iterator[Node]:
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
            text = source[node.start_byte : node.end_byte]  # not node.text: far slower
            if not text[:1].isupper():
                yield node
            continue
        if "comment" in node.type:
            continue
        if node.type == "pair_pattern":  # `{key: name}` declares its value, `name`
            stack.extend(node.children_by_field_name("value"))
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
    bound = None if root.has_error else _python_bindings(doc, root)
    if bound is None:
        return []
    found: list[OutOfScope] = []
    for node in _walk(root, start, end):
        if node.type != "identifier" or not start <= node.start_byte < end:
            continue
        text = doc.source[node.start_byte : node.end_byte]
        name = text.decode("utf-8", "replace")
        if text not in bound and name not in _PYTHON_KNOWN and _python_reads(node):
            found.append(OutOfScope(name, node.start_point.row, "unbound"))
    return found


_DYNAMIC_BYTES = frozenset(name.encode() for name in _PYTHON_DYNAMIC)


_PYTHON_BINDINGS_QUERY = "\n".join(
    [f"({kind} {field}: (_) @bound)" for kind, field in _PYTHON_BINDING_FIELDS.items()]
    + [f"({kind}) @bound" for kind in sorted(_PYTHON_BINDING_NODES)]
    + ["(wildcard_import) @unseen", "(call function: (identifier) @called)"]
)
"""Where the tables above bind names, and what could bind them unseen, found by tree-sitter
(in C: a walk of the whole tree in Python takes half a second on an 11,000-line file)."""


@cache
def _python_query(language: Language) -> Query:
    return Query(language, _PYTHON_BINDINGS_QUERY)


def _python_bindings(doc: Document, root: Node) -> set[bytes] | None:
    """The names the file binds anywhere (see the tables above); None when it could bind
    names unseen."""
    assert doc.language is not None
    source = doc.source  # sliced: a node's `text` costs tens of microseconds
    captures = QueryCursor(_python_query(doc.language.language)).captures(root)
    if captures.get("unseen") or any(
        source[n.start_byte : n.end_byte] in _DYNAMIC_BYTES for n in captures.get("called", [])
    ):
        return None
    bound: set[bytes] = set()
    for target in captures.get("bound", []):
        names = [target] if target.type == "identifier" else _walk(target)
        bound.update(source[n.start_byte : n.end_byte] for n in names if n.type == "identifier")
    return bound


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
