"""What a compiler would refuse that the parse tree shows, beyond the scopes (scopes.py): a C
standard-library name whose header the file does not include, a Rust type or path that
nothing in the file declares or imports, a Rust function that must return a value and whose
body ends without one, Rust branches (`if`/`else`, `match` arms) of which some give a value
and others nothing (`()`), `()` assigned to a name that holds a value, and in C, JavaScript
and TypeScript a name declared twice in one block (C: "redefinition"; JavaScript: a
SyntaxError before anything runs).

These are what a model's fix gets wrong when it writes code that would need a new `#include`
or `use` (its prompt forbids adding them) or turns an expression into a statement. On the
benchmark's dev cases, the default model's fixes that passed the other checks and did not
build: of the 5 of an earlier full run, the scopes catch 2 and this module the other 3; of
the 3 among every candidate of `candidates.py collect`, this module catches 2 (the third
moves a value and then uses it, which takes a borrow checker), and refuses none of the 142
other candidates. The check is meant to be compared before and after an edit
(assist/edits.verify): only errors the edit adds count, so code that builds in a way this
module cannot see (a header that includes another, a macro that declares items) is never
held against an edit that leaves it alone. It is not told to a fix or a review as a known
problem (problems.py): on code as it stands, a name may come from where a tree cannot look.

Each rule reports only what is certain from the file alone:
- C: a name is reported only if the file declares it nowhere (outside the edit, or as a
  declaration or `#define` within it), the standard says which headers declare it
  (STANDARD_C), none of them is included, and the file includes no other header (its own or
  the system's may include the one needed). Headers (`.h`) are left alone: they rely on what
  their includer included. `bool`, `true` and `false` are left out (keywords since C23,
  gcc 15's default), and so is `NULL` (declared by seven headers). On this machine's 266 C
  files that parse, found in two: an obfuscated K&R program that calls `printf` without
  `<stdio.h>`, and a fragment another file includes.
- Rust: a capitalised name used as a type, a path's first part (`HashMap::new`), a called
  tuple struct or a struct literal's name, that appears nowhere in the file outside the
  edit, is declared nowhere in it and is not in the prelude. A file with a glob import
  (`use x::*`) at its top or `macro_rules!` is left alone, and so is a module with one
  (`mod tests { use super::*; }`). Lower-case path roots may be crates, which need no `use`.
- Rust values: a branch gives nothing when it is an assignment, a loop other than `loop`, or a
  block that ends with a statement (`x = 1;`); it gives a value when it is a literal, a name,
  an operation, a struct, tuple or array. A call, `?`, `loop` and macros other than `panic!`
  and the like may give either, so they are never counted; `return`, `break`, `continue`
  and `panic!` give no type at all.
- Declared twice: C declarations (not prototypes, not `extern`) and JavaScript's `let` and
  `const` of plain names, directly in one block, a function's parameters counting as declared
  in its body's block; `var`, patterns and `switch` cases are left out, and a loop's body is a
  block of its own (C and JavaScript allow `for (int i ...) { int i; }`).
Checked for false alarms definition by definition on the 11,987 definitions of 1,178 Rust
files (the sources of orjson, pydantic-core, jiter and rpds-py with their vendored crates):
none; nor in the benchmark's programs and mutants. A name declared twice: none in the
machine's 14,529 JavaScript and TypeScript files and 266 C files that parse, whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from chmocoder.analysis.document import Document


@dataclass(frozen=True)
class BuildError:
    key: str
    """What is compared before and after an edit (a name, or the kind and the function)."""
    row: int
    """0-based row of the error."""
    message: str
    """What is wrong, as a clause after "it ..." ("uses `LONG_MAX` at line 5, ...")."""


def build_errors(doc: Document, start: int, end: int) -> list[BuildError]:
    """Errors in [start, end) that the compiler would report (in document order)."""
    doc.reparse()
    if doc.tree is None or doc.tree.root_node.has_error:
        return []
    language = doc.language_name
    root = doc.tree.root_node
    if language == "c":
        found = _declared_twice(root, start, end, _C_TWICE)
        if not doc.uri.endswith(".h"):
            found += _missing_headers(doc, start, end)
        return sorted(found, key=lambda e: e.row)
    if language in ("javascript", "typescript", "tsx"):
        return sorted(_declared_twice(root, start, end, _JS_TWICE), key=lambda e: e.row)
    if language == "rust":
        found = _rust_values(doc.tree.root_node, start, end) + _rust_unknown(doc, start, end)
        return sorted(found, key=lambda e: e.row)
    return []


def _walk(node: Node, start: int, end: int) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.end_byte <= start or current.start_byte >= end:
            continue
        yield current
        stack.extend(reversed(current.children))


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _words(source: bytes) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source.decode("utf-8", "replace")))


# --- C: standard names without their header ------------------------------------------------

_C_HEADERS: dict[str, str] = {
    "limits.h": "CHAR_BIT SCHAR_MIN SCHAR_MAX UCHAR_MAX CHAR_MIN CHAR_MAX SHRT_MIN SHRT_MAX "
    "USHRT_MAX INT_MIN INT_MAX UINT_MAX LONG_MIN LONG_MAX ULONG_MAX LLONG_MIN LLONG_MAX "
    "ULLONG_MAX",
    "stdint.h": "int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t intptr_t "
    "uintptr_t intmax_t uintmax_t INT8_MIN INT8_MAX INT16_MIN INT16_MAX INT32_MIN INT32_MAX "
    "INT64_MIN INT64_MAX UINT8_MAX UINT16_MAX UINT32_MAX UINT64_MAX SIZE_MAX INTMAX_MAX "
    "UINTMAX_MAX",
    "stddef.h": "size_t ptrdiff_t offsetof",
    "stdio.h": "printf fprintf sprintf snprintf puts putchar fputs fputc getchar fgets fgetc "
    "scanf sscanf fscanf fopen fclose fread fwrite fflush FILE EOF stdin stdout stderr perror "
    "size_t",
    "stdlib.h": "malloc calloc realloc free abs labs llabs atoi atol atof strtol strtoul "
    "strtoll strtoull strtod qsort bsearch exit abort EXIT_SUCCESS EXIT_FAILURE rand srand "
    "size_t",
    "string.h": "strlen strcpy strncpy strcmp strncmp strcat strncat strchr strrchr strstr "
    "strspn strcspn strtok memcpy memmove memset memcmp memchr size_t",
    "ctype.h": "isdigit isalpha isalnum isspace isupper islower isxdigit ispunct isprint "
    "iscntrl toupper tolower",
    "math.h": "sqrt pow fabs floor ceil round trunc fmod fmin fmax log log2 log10 exp sin cos "
    "tan atan2 hypot INFINITY NAN HUGE_VAL",
    "errno.h": "errno ERANGE EDOM EINVAL",
    "assert.h": "assert",
    "float.h": "FLT_MAX FLT_MIN FLT_EPSILON DBL_MAX DBL_MIN DBL_EPSILON",
}
STANDARD_C: dict[str, frozenset[str]] = {}
"""A standard C name -> the standard headers that declare it (C11, 7.x)."""
for _header, _names in _C_HEADERS.items():
    for _name in _names.split():
        STANDARD_C[_name] = STANDARD_C.get(_name, frozenset()) | {_header}
for _name in _C_HEADERS["stdint.h"].split():  # <inttypes.h> includes <stdint.h>
    STANDARD_C[_name] |= {"inttypes.h"}
STANDARD_HEADERS = frozenset(
    [
        "assert.h",
        "complex.h",
        "ctype.h",
        "errno.h",
        "fenv.h",
        "float.h",
        "inttypes.h",
        "iso646.h",
        "limits.h",
        "locale.h",
        "math.h",
        "setjmp.h",
        "signal.h",
        "stdalign.h",
        "stdarg.h",
        "stdatomic.h",
        "stdbool.h",
        "stddef.h",
        "stdint.h",
        "stdio.h",
        "stdlib.h",
        "stdnoreturn.h",
        "string.h",
        "tgmath.h",
        "threads.h",
        "time.h",
        "uchar.h",
        "wchar.h",
        "wctype.h",
    ]
)
_C_NAMES = frozenset({"identifier", "type_identifier", "primitive_type"})


def _missing_headers(doc: Document, start: int, end: int) -> list[BuildError]:
    assert doc.tree is not None
    included: set[str] = set()
    for node in doc.tree.root_node.children:
        if node.type == "preproc_include":
            path = node.child_by_field_name("path")
            if path is None or path.type != "system_lib_string":
                return []  # its own header may include anything
            header = _text(path).strip("<>").strip()
            if header not in STANDARD_HEADERS:
                return []  # a system header may include the one needed
            included.add(header)
        elif node.type.startswith("preproc_") and node.type != "preproc_def":
            return []  # conditional includes, includes inside #if: not followed
    elsewhere = _words(doc.source[:start] + b" " + doc.source[end:])
    for node in _walk(doc.tree.root_node, start, end):  # what the edited part declares
        field = node.child_by_field_name("declarator") or node.child_by_field_name("name")
        if field is not None and field.type == "identifier":
            elsewhere.add(_text(field))
    found: list[BuildError] = []
    for node in _walk(doc.tree.root_node, start, end):
        if node.type not in _C_NAMES or node.start_byte < start:
            continue
        name = _text(node)
        headers = STANDARD_C.get(name)
        if headers is None or headers & included or name in elsewhere:
            continue
        needed = " or ".join(f"<{h}>" for h in sorted(headers))
        found.append(BuildError(name, node.start_point.row,
                                f"uses `{name}` at line {node.start_point.row + 1}, which needs "
                                f"`#include {needed}`"))  # fmt: skip
    return found


# --- C, JavaScript, TypeScript: a name declared twice in one block ---------------------------


@dataclass(frozen=True)
class TwiceRules:
    blocks: frozenset[str]
    """Node types of a block whose declarations share one scope."""
    declarations: frozenset[str]
    """Node types of the declarations counted (JavaScript's `let`, `const`: not `var`)."""
    bodies: frozenset[str]
    """Node types of functions, whose parameters share the scope of their body's block."""


_C_TWICE = TwiceRules(
    blocks=frozenset({"compound_statement"}),
    declarations=frozenset({"declaration"}),
    bodies=frozenset({"function_definition"}),
)
_JS_TWICE = TwiceRules(
    blocks=frozenset({"statement_block", "program"}),
    declarations=frozenset({"lexical_declaration"}),
    bodies=frozenset(
        {"function_declaration", "function_expression", "function", "arrow_function",
         "method_definition", "generator_function_declaration", "generator_function"}
    ),
)  # fmt: skip


def _declared_twice(root: Node, start: int, end: int, rules: TwiceRules) -> list[BuildError]:
    """A declaration in [start, end) of a name its block (with the function's parameters, for
    a function's body) already declares: C says "redefinition", JavaScript a SyntaxError."""
    found: list[BuildError] = []
    for block in _walk(root, start, end):
        if block.type not in rules.blocks:
            continue
        seen: set[str] = set()
        holder = block.parent
        if holder is not None and holder.type in rules.bodies and block.type != "program":
            parameters = holder.child_by_field_name("parameters") or holder.child_by_field_name(
                "declarator"
            )
            seen |= _parameter_names(parameters)
        for statement in block.named_children:
            if statement.type not in rules.declarations:
                continue
            for name_node in _declarator_names(statement):
                name = _text(name_node)
                if name in seen and start <= name_node.start_byte < end:
                    row = name_node.start_point.row
                    found.append(BuildError(f"twice {name}", row,
                                            f"declares `{name}` at line {row + 1} a second time "
                                            "in the same block"))  # fmt: skip
                seen.add(name)
    return found


def _declarator_names(declaration: Node) -> list[Node]:
    """The names a C declaration (not a function's prototype, not `extern`) or a JavaScript
    `let` or `const` declares (plain names; patterns are left out)."""
    if any(
        c.type == "storage_class_specifier" and _text(c) == "extern" for c in declaration.children
    ):
        return []
    out: list[Node] = []
    for i, child in enumerate(declaration.children):
        field = declaration.field_name_for_child(i)
        if declaration.type == "declaration" and field == "declarator":
            node: Node | None = child
            while node is not None and node.type != "identifier":
                if node.type == "function_declarator":
                    node = None
                    break
                node = node.child_by_field_name("declarator")
            if node is not None:
                out.append(node)
        elif child.type == "variable_declarator":
            name = child.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                out.append(name)
    return out


def _parameter_names(parameters: Node | None) -> set[str]:
    """The plain names of a function's parameters (C's `int n`, `char *s`; JavaScript's `x`,
    `x = 1`, TypeScript's `x: T`)."""
    if parameters is None:
        return set()
    if parameters.type == "function_declarator":
        parameters = parameters.child_by_field_name("parameters")
        if parameters is None:
            return set()
    names: set[str] = set()
    for parameter in parameters.named_children:
        node: Node | None = parameter
        while node is not None and node.type != "identifier":
            node = (
                node.child_by_field_name("declarator")
                or node.child_by_field_name("pattern")
                or node.child_by_field_name("left")
            )
        if node is not None:
            names.add(_text(node))
    return names


# --- Rust: names nothing declares or imports ----------------------------------------------

RUST_PRELUDE = frozenset(
    [
        "Copy",
        "Send",
        "Sized",
        "Sync",
        "Unpin",
        "Drop",
        "Fn",
        "FnMut",
        "FnOnce",
        "Box",
        "ToOwned",
        "Clone",
        "PartialEq",
        "PartialOrd",
        "Eq",
        "Ord",
        "AsRef",
        "AsMut",
        "Into",
        "From",
        "Default",
        "Iterator",
        "Extend",
        "IntoIterator",
        "DoubleEndedIterator",
        "ExactSizeIterator",
        "Option",
        "Some",
        "None",
        "Result",
        "Ok",
        "Err",
        "String",
        "ToString",
        "Vec",
        "TryFrom",
        "TryInto",
        "FromIterator",
        "Self",
    ]
)
"""The names every Rust 2021 module sees without a `use` (std::prelude::rust_2021)."""
_RUST_DECLARING = frozenset(
    {
        "struct_item", "enum_item", "union_item", "trait_item", "type_item", "mod_item",
        "enum_variant", "type_parameters", "associated_type", "const_item", "static_item",
        "use_declaration", "extern_crate_declaration", "function_item", "macro_definition",
        "function_signature_item",
    }
)  # fmt: skip
"""Items whose names are declared, not used (a name inside one is not reported)."""


def _rust_unknown(doc: Document, start: int, end: int) -> list[BuildError]:
    assert doc.tree is not None
    source = doc.source
    if b"macro_rules!" in source:
        return []  # items a macro brings in are not seen
    declared: set[str] = set()
    hidden: list[tuple[int, int]] = []
    """Modules with a glob import (`mod tests { use super::*; }`): not looked into."""
    for node in _walk(doc.tree.root_node, 0, len(source)):
        if node.type in _RUST_DECLARING:
            declared_name = node.child_by_field_name("name")
            if declared_name is not None:
                declared.add(_text(declared_name))
        if node.type in ("type_parameters", "use_declaration"):
            declared |= _words(node.text or b"")
        if node.type == "use_declaration" and any(
            c.type.startswith("use_wildcard") for c in _walk(node, 0, len(source))
        ):
            holder = node.parent
            while holder is not None and holder.type not in ("mod_item", "source_file"):
                holder = holder.parent
            if holder is None or holder.type == "source_file":
                return []
            hidden.append((holder.start_byte, holder.end_byte))
    elsewhere = _words(source[:start] + b" " + source[end:])  # in a macro's input, say
    found: list[BuildError] = []
    for node in _walk(doc.tree.root_node, start, end):
        if node.start_byte < start or node.type not in ("identifier", "type_identifier"):
            continue
        name = _text(node)
        if not name[:1].isupper() or name in RUST_PRELUDE or name in declared | elsewhere:
            continue
        if any(a <= node.start_byte < b for a, b in hidden) or not _rust_names_an_item(node):
            continue
        found.append(BuildError(name, node.start_point.row,
                                f"uses `{name}` at line {node.start_point.row + 1}, which "
                                "nothing in the file declares or imports (`use`)"))  # fmt: skip
    return found


def _rust_names_an_item(node: Node) -> bool:
    """Whether this capitalised name must name a type, an enum or a tuple struct in scope (a
    type, a path's first part, a called name, a struct literal's name) and is not a binding
    in a pattern (an unknown capitalised name there is a new variable)."""
    parent = node.parent
    ancestor = parent
    while ancestor is not None and ancestor.type not in ("block", "source_file"):
        if ancestor.type.endswith("pattern"):
            return False
        ancestor = ancestor.parent
    if parent is None:
        return False
    field = _field_of(node)
    if parent.type in ("scoped_identifier", "scoped_type_identifier"):
        return field == "path"  # `Ordering::Less`: `Less` belongs to `Ordering`
    if node.type == "type_identifier":
        return not (parent.type == "type_binding" and field == "name")  # `Iterator<Item = T>`
    return (parent.type == "call_expression" and field == "function") or (
        parent.type == "struct_expression" and field == "name"
    )


def _field_of(node: Node) -> str | None:
    parent = node.parent
    if parent is None:
        return None
    for i, child in enumerate(parent.children):
        if child == node:
            return parent.field_name_for_child(i)
    return None


# --- Rust: values where one is needed ------------------------------------------------------

Gives = Literal["unit", "value", "never", "unknown"]

_UNIT = frozenset(
    {"assignment_expression", "compound_assignment_expr", "unit_expression", "for_expression",
     "while_expression"}
)  # fmt: skip
_NEVER = frozenset({"return_expression", "break_expression", "continue_expression"})
_DIVERGING_MACROS = frozenset({"panic", "unreachable", "todo", "unimplemented"})
_VALUE = frozenset(
    {
        "identifier", "scoped_identifier", "integer_literal", "float_literal", "string_literal",
        "raw_string_literal", "char_literal", "boolean_literal", "binary_expression",
        "unary_expression", "reference_expression", "struct_expression", "tuple_expression",
        "array_expression", "closure_expression", "range_expression", "type_cast_expression",
        "field_expression", "index_expression",
    }
)  # fmt: skip
_COMMENTS = frozenset({"line_comment", "block_comment", "attribute_item"})


def _no_value(node: Node) -> bool:
    """A comment, an attribute or an item (a nested `fn`, a `use`): not part of a block's
    value, wherever it stands."""
    return (
        node.type in _COMMENTS
        or node.type.endswith("_item")
        or node.type in ("use_declaration", "macro_definition", "empty_statement")
    )


def _gives(node: Node) -> Gives:
    """What an expression gives: nothing (`()`), a value, no type (it diverges), or unknown."""
    kind = node.type
    if kind in _UNIT:
        return "unit"
    if kind in _NEVER:
        return "never"
    if kind in _VALUE:
        return "value"
    if kind == "macro_invocation":
        macro = node.child_by_field_name("macro")
        return "never" if macro is not None and _text(macro) in _DIVERGING_MACROS else "unknown"
    if kind == "block":
        return _block_gives(node)
    if kind == "parenthesized_expression" and node.named_children:
        return _gives(node.named_children[0])
    if kind in ("if_expression", "match_expression"):
        return _join([_gives(b) for b in _branches(node)], complete=_complete(node))
    return "unknown"


def _block_gives(block: Node) -> Gives:
    parts = [c for c in block.named_children if not _no_value(c)]
    if not parts:
        return "unit"
    last = parts[-1]
    if last.type == "expression_statement":
        inner = last.named_children[0] if last.named_children else None
        if inner is None:
            return "unit"
        if last.children[-1].type != ";":  # a block-like expression at the end is the value
            return _gives(inner)
        if _gives(inner) == "never":
            return "never"
        if inner.type in ("loop_expression", "call_expression", "macro_invocation"):
            return "unknown"  # `loop {}`, or a call that never returns (`process::exit(1);`)
        return "unit"
    if last.type == "let_declaration":
        return "unit"
    return _gives(last)


def _branches(node: Node) -> list[Node]:
    """The branches of an `if` (consequence and each `else`) or the values of a `match`."""
    if node.type == "match_expression":
        body = node.child_by_field_name("body")
        arms = [] if body is None else [a for a in body.named_children if a.type == "match_arm"]
        return [v for a in arms if (v := a.child_by_field_name("value")) is not None]
    out: list[Node] = []
    consequence = node.child_by_field_name("consequence")
    if consequence is not None:
        out.append(consequence)
    alternative = node.child_by_field_name("alternative")
    if alternative is not None and alternative.named_children:
        out.append(alternative.named_children[-1])  # a block, or the next `if`
    return out


def _complete(node: Node) -> bool:
    """An `if` without an `else` gives nothing whatever its branch gives."""
    return node.type == "match_expression" or node.child_by_field_name("alternative") is not None


def _join(kinds: list[Gives], complete: bool = True) -> Gives:
    if not complete:
        return "unit"
    kinds = [k for k in kinds if k != "never"]
    if not kinds:
        return "never"
    if "unknown" in kinds:
        return "unknown"
    return "unit" if "unit" in kinds else "value"


_BLOCK_LIKE = frozenset({"if_expression", "match_expression", "block"})


def _rust_values(root: Node, start: int, end: int) -> list[BuildError]:
    values: set[str] = set()
    """Names a `let` binds to a value (`let mut state = State::Start;`)."""
    for node in _walk(root, 0, root.end_byte):
        if node.type == "let_declaration":
            pattern, value = node.child_by_field_name("pattern"), node.child_by_field_name("value")
            if pattern is None or value is None or pattern.type != "identifier":
                continue
            if _gives(value) == "value":
                values.add(_text(pattern))
    found: list[BuildError] = []
    for node in _walk(root, start, end):
        row = node.start_point.row
        if node.type == "function_item" and start <= node.start_byte:
            returns = node.child_by_field_name("return_type")
            body = node.child_by_field_name("body")
            name = node.child_by_field_name("name")
            if returns is None or body is None or returns.type in ("unit_type", "never_type"):
                continue
            if _block_gives(body) == "unit":
                what = _text(name) if name is not None else "function"
                found.append(BuildError(f"return {what}", row,
                                        f"leaves `{what}` at line {row + 1} without a value to "
                                        f"return (it returns `{_text(returns)}`; its body ends "
                                        "with a statement)"))  # fmt: skip
        elif node.type == "assignment_expression" and start <= node.start_byte:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None or left.type != "identifier":
                continue
            target = _text(left)
            mixed = right.type != "block" and "value" in {_gives(b) for b in _branches(right)}
            if (
                right.type in _BLOCK_LIKE
                and _gives(right) == "unit"
                and target in values
                and not mixed
            ):
                found.append(BuildError(f"assigns nothing {target}", row,
                                        f"assigns nothing (`()`) to `{target}` at line {row + 1}, "
                                        "which holds a value (every branch on the right is a "
                                        "statement)"))  # fmt: skip
        elif node.type in ("if_expression", "match_expression") and start <= node.start_byte:
            if not _complete(node):
                continue
            kinds = {_gives(b) for b in _branches(node)}
            if {"unit", "value"} <= kinds:
                what = "`match` arms" if node.type == "match_expression" else "`if` branches"
                found.append(BuildError(f"mixed {node.type}", row,
                                        f"gives a value in some of the {what} at line {row + 1} "
                                        "and nothing (`()`) in others"))  # fmt: skip
    return found
