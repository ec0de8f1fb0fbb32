(call
  method: (identifier) @_method
  (#any-of? @_method "require" "require_relative" "load")) @import
