; inherits: c

(
  (comment)* @doc
  .
  [
    (function_definition
      declarator: (function_declarator
        declarator: [
          (qualified_identifier name: (_) @name)
          (field_identifier) @name
          (destructor_name) @name
          (operator_name) @name
        ])) @definition.function
    (class_specifier name: (type_identifier) @name body: (_)) @definition.class
    (namespace_definition name: (namespace_identifier) @name) @definition.module
  ]
)

; A function defined inside a class body is a method.
(field_declaration_list
  (function_definition
    declarator: (function_declarator
      declarator: [(field_identifier) (identifier) (destructor_name) (operator_name)] @name)) @definition.method)

(call_expression
  function: [
    (qualified_identifier name: (identifier) @name)
    (template_function name: (identifier) @name)
  ]) @reference.call
