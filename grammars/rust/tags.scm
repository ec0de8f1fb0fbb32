(
  [(line_comment) (block_comment)]* @doc
  .
  [
    (function_item name: (identifier) @name) @definition.function
    (struct_item name: (type_identifier) @name) @definition.struct
    (enum_item name: (type_identifier) @name) @definition.enum
    (union_item name: (type_identifier) @name) @definition.struct
    (trait_item name: (type_identifier) @name) @definition.interface
    (mod_item name: (identifier) @name) @definition.module
    (macro_definition name: (identifier) @name) @definition.macro
  ]
)

; An impl block holds methods; its name is the implementing type.
(impl_item type: (_) @name) @definition.impl

(declaration_list
  (function_item name: (identifier) @name) @definition.method)

(call_expression
  function: [
    (identifier) @name
    (field_expression field: (field_identifier) @name)
    (scoped_identifier name: (identifier) @name)
  ]) @reference.call

(macro_invocation macro: (identifier) @name) @reference.call
