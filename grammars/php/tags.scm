(
  (comment)* @doc
  .
  [
    (function_definition name: (name) @name) @definition.function
    (class_declaration name: (name) @name) @definition.class
    (interface_declaration name: (name) @name) @definition.interface
    (trait_declaration name: (name) @name) @definition.interface
    (enum_declaration name: (name) @name) @definition.enum
    (method_declaration name: (name) @name) @definition.method
  ]
)

(namespace_definition name: (namespace_name) @name) @definition.module

(function_call_expression
  function: [
    (name) @name
    (qualified_name (name) @name)
  ]) @reference.call

(member_call_expression name: (name) @name) @reference.call
(scoped_call_expression name: (name) @name) @reference.call
(object_creation_expression [(name) (qualified_name)] @name) @reference.class
