-- Neovim 0.11+: vim.lsp.enable("chmocoder") with the shipped lsp/chmocoder.lua, no setup().
-- Only the command and settings are the test's (a user's config overrides them the same way).
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_harness.lua")
local out = {}
run(function()
  vim.cmd("filetype on")
  vim.opt.runtimepath:append(os.getenv("CHMO_PLUGIN"))
  vim.lsp.config("chmocoder", {
    cmd = vim.fn.json_decode(os.getenv("CHMO_CMD")),
    init_options = vim.fn.json_decode(os.getenv("CHMO_INIT")),
  })
  vim.lsp.enable("chmocoder")
  vim.cmd("edit " .. os.getenv("CHMO_FILE"))
  local bufnr = vim.api.nvim_get_current_buf()
  local function client()
    return vim.lsp.get_clients({ bufnr = bufnr, name = "chmocoder" })[1]
  end
  out.attached = vim.wait(30000, function()
    return client() ~= nil and client().initialized == true
  end, 50)
  local c = client()
  out.filetypes = c.config.filetypes
  out.panel = vim.tbl_get(c.config.capabilities or {}, "experimental", "chmocoder", "markdownPanel") or false
  vim.api.nvim_win_set_cursor(0, { 1, 5 })
  local params = vim.lsp.util.make_position_params(0, c.offset_encoding)
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", params, 120000)
  local reply = hover and hover[c.id]
  out.hover = reply and reply.result and reply.result.contents.value or vim.NIL
  out.diagnosed = vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
  c:stop()
end, out)
