-- Drives the plugin's inline completion (neovim/lua/chmocoder/inline.lua) against the real
-- server and the tiny model with fill-in-the-middle tokens; results to CHMO_OUT.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_harness.lua")
local out = {}
run(function()
  vim.cmd("filetype on")
  vim.opt.runtimepath:append(os.getenv("CHMO_PLUGIN"))
  vim.cmd("runtime plugin/chmocoder.lua")
  local chmocoder = require("chmocoder")
  out.bad_inline = chmocoder.setup({ cmd = vim.fn.json_decode(os.getenv("CHMO_CMD")), inline = { accept_key = 3 } })
  out.setup = chmocoder.setup({
    cmd = vim.fn.json_decode(os.getenv("CHMO_CMD")),
    settings = vim.fn.json_decode(os.getenv("CHMO_INIT")),
  })
  vim.cmd("edit " .. os.getenv("CHMO_FILE"))
  local bufnr = vim.api.nvim_get_current_buf()
  local compat = require("chmocoder.compat")
  out.attached = run.attached(bufnr)
  local inline = require("chmocoder.inline")
  local mapping = vim.fn.maparg("<M-l>", "i", false, true)
  out.mapped = mapping.desc or mapping.rhs or ""
  out.native = vim.lsp.inline_completion ~= nil

  -- the cursor at the end of `unit_area = ` (line 2), where Insert mode has it: ask, as typing would
  vim.o.virtualedit = "onemore"
  vim.api.nvim_win_set_cursor(0, { 2, 12 })
  inline.request(bufnr)
  out.shown = vim.wait(60000, function() return inline.current(bufnr) ~= nil end, 20)
  out.suggestion = inline.current(bufnr) or vim.NIL
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, inline.namespace, 0, -1, { details = true })
  out.virtual = (marks[1] and marks[1][4].virt_text and marks[1][4].virt_text[1][1]) or vim.NIL
  out.mark_at = marks[1] and { marks[1][2], marks[1][3] } or vim.NIL

  -- typing the suggestion's first character clears it; asking again shows the rest
  local first = out.suggestion:sub(1, 1)
  vim.api.nvim_buf_set_text(bufnr, 1, 12, 1, 12, { first })
  vim.api.nvim_win_set_cursor(0, { 2, 13 })
  out.cleared = vim.wait(2000, function()
    return inline.current(bufnr) == nil and #vim.api.nvim_buf_get_extmarks(bufnr, inline.namespace, 0, -1, {}) == 0
  end, 10)
  local asked = vim.loop.hrtime()
  inline.request(bufnr)
  vim.wait(10000, function() return inline.current(bufnr) ~= nil end, 5)
  out.rest_ms = (vim.loop.hrtime() - asked) / 1e6
  out.rest = inline.current(bufnr) or vim.NIL

  -- the accept key inserts it
  if type(mapping.callback) == "function" then -- 0.8+ (0.7 gives a reference number)
    mapping.callback()
  else
    inline.accept(bufnr)
  end
  out.line = vim.api.nvim_buf_get_lines(bufnr, 1, 2, false)[1]
  out.cursor = vim.api.nvim_win_get_cursor(0)
  out.after_accept = inline.current(bufnr) or vim.NIL
  vim.lsp.stop_client(compat.clients(bufnr)[1].id)
end, out)
