; Definitions, with the comments just above them as @doc (TSDoc).
(
  (comment)* @doc
  .
  [
    (function_declaration name: (identifier) @name) @definition.function
    (generator_function_declaration name: (identifier) @name) @definition.function
    (function_signature name: (identifier) @name) @definition.function
    (class_declaration name: (type_identifier) @name) @definition.class
    (abstract_class_declaration name: (type_identifier) @name) @definition.class
    (interface_declaration name: (type_identifier) @name) @definition.interface
    (enum_declaration name: (identifier) @name) @definition.enum
    (type_alias_declaration name: (type_identifier) @name) @definition.type
    (internal_module name: [(identifier) (nested_identifier)] @name) @definition.module
    (method_definition name: (property_identifier) @name) @definition.method
    (method_signature name: (property_identifier) @name) @definition.method
    (abstract_method_signature name: (property_identifier) @name) @definition.method
    (lexical_declaration
      (variable_declarator
        name: (identifier) @name
        value: [(arrow_function) (function_expression)])) @definition.function
  ]
)

(
  (comment)+ @doc
  .
  (export_statement
    declaration: [
      (function_declaration name: (identifier) @name) @definition.function
      (class_declaration name: (type_identifier) @name) @definition.class
      (interface_declaration name: (type_identifier) @name) @definition.interface
    ])
)

; References
(call_expression
  function: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.call

(new_expression constructor: (identifier) @name) @reference.class
