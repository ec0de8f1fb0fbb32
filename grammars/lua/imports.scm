(function_call
  name: (identifier) @_require
  (#eq? @_require "require")) @import
