(
  (comment)* @doc
  .
  [
    (method name: (_) @name) @definition.method
    (singleton_method name: (_) @name) @definition.method
    (class name: (_) @name) @definition.class
    (module name: (_) @name) @definition.module
  ]
)

(call method: (identifier) @name) @reference.call
