(import_statement) @import
(import_alias) @import
