-- For Neovim 0.11+: vim.lsp.enable("chmocoder") with this configuration (no setup() needed;
-- answers in the panel still need require("chmocoder.answer").handler, set below).
return {
  cmd = { "chmocoder", "serve" },
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
    "java", "c", "cpp", "cs", "ruby", "php", "sh", "bash", "lua",
  },
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml" },
  capabilities = { experimental = { chmocoder = { markdownPanel = true } } },
  handlers = { ["chmocoder/markdown"] = function(...) return require("chmocoder.answer").handler(...) end },
  init_options = {},
}
