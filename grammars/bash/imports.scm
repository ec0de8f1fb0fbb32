(command
  name: (command_name (word) @_command)
  (#any-of? @_command "source" ".")) @import
