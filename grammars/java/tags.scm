(
  [(block_comment) (line_comment)]* @doc
  .
  [
    (class_declaration name: (identifier) @name) @definition.class
    (record_declaration name: (identifier) @name) @definition.class
    (enum_declaration name: (identifier) @name) @definition.enum
    (interface_declaration name: (identifier) @name) @definition.interface
    (method_declaration name: (identifier) @name) @definition.method
    (constructor_declaration name: (identifier) @name) @definition.method
  ]
)

(method_invocation name: (identifier) @name) @reference.call
(object_creation_expression type: (type_identifier) @name) @reference.class
