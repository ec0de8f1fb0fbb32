-- Drives the ChMOCoder Neovim plugin (neovim/) against the real server; results to CHMO_OUT.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_harness.lua")
local out = { notifications = {} }
vim.notify = function(message, level)
  table.insert(out.notifications, { message = message, level = level })
end
run(function()
  vim.cmd("filetype on") -- as in any user's configuration (-u NONE leaves it off)
  vim.opt.runtimepath:append(os.getenv("CHMO_PLUGIN"))

  vim.cmd("runtime plugin/chmocoder.lua")
  local chmocoder = require("chmocoder")
  out.bad_setup = chmocoder.setup({ answer_window = "popup" })
  out.setup = chmocoder.setup({
    cmd = vim.fn.json_decode(os.getenv("CHMO_CMD")),
    settings = vim.fn.json_decode(os.getenv("CHMO_INIT")),
    answer_window = "split",
  })
  vim.cmd("edit " .. os.getenv("CHMO_FILE"))
  local bufnr = vim.api.nvim_get_current_buf()
  local compat = require("chmocoder.compat")
  out.attached = run.attached(bufnr)
  local client = compat.clients(bufnr)[1]

  -- hover on `average` (line 1)
  vim.api.nvim_win_set_cursor(0, { 1, 5 })
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", vim.lsp.util.make_position_params(), 120000)
  local reply = hover and hover[client.id]
  out.hover = reply and reply.result and reply.result.contents.value or vim.NIL

  -- :ChmoFix on the line with the unclosed `(`
  vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
  vim.api.nvim_win_set_cursor(0, { 4, 10 })
  vim.cmd("ChmoFix")
  out.fixed = vim.wait(30000, function()
    return vim.api.nvim_buf_get_lines(bufnr, 3, 4, false)[1] == "    return sum(numbers) / len(numbers)"
  end, 50)
  out.line4 = vim.api.nvim_buf_get_lines(bufnr, 3, 4, false)[1]
  out.applied = require("chmocoder.commands").last_applied or vim.NIL

  -- :ChmoAsk streams into the answer window
  local answer = require("chmocoder.answer")
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  vim.cmd("ChmoAsk What does this return for an empty list?")
  out.answered = vim.wait(120000, function()
    return answer.text():find("_… writing_", 1, true) == nil and answer.text():match("^# Q: What does") ~= nil
  end, 50)
  out.answer = answer.text()
  out.answer_updates = answer.updates or 0
  out.answer_filetype = vim.api.nvim_buf_get_option(answer.buf, "filetype")
  out.windows = #vim.api.nvim_list_wins()

  -- :ChmoExplain over a range
  vim.cmd("1,3ChmoExplain")
  out.explained = vim.wait(120000, function()
    return answer.text():match("^# Explain") ~= nil and answer.text():find("_… writing_", 1, true) == nil
  end, 50)
  out.explanation = answer.text()
  vim.lsp.stop_client(client.id)
end, out)
