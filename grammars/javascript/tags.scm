; Definitions, with the comments just above them as @doc (JSDoc).
(
  (comment)* @doc
  .
  [
    (function_declaration name: (identifier) @name) @definition.function
    (generator_function_declaration name: (identifier) @name) @definition.function
    (class_declaration name: (identifier) @name) @definition.class
    (method_definition name: (property_identifier) @name) @definition.method
    (lexical_declaration
      (variable_declarator
        name: (identifier) @name
        value: [(arrow_function) (function_expression)])) @definition.function
    (variable_declaration
      (variable_declarator
        name: (identifier) @name
        value: [(arrow_function) (function_expression)])) @definition.function
  ]
)

; `export function f` keeps its comment above the export statement.
(
  (comment)+ @doc
  .
  (export_statement
    declaration: [
      (function_declaration name: (identifier) @name) @definition.function
      (class_declaration name: (identifier) @name) @definition.class
    ])
)

; References
(call_expression
  function: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.call

(new_expression constructor: (identifier) @name) @reference.class
