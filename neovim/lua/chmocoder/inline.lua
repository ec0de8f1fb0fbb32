-- Inline completion (ghost text) from the server's textDocument/inlineCompletion.
-- Neovim 0.12+: its own vim.lsp.inline_completion shows the suggestion; the accept key calls
-- vim.lsp.inline_completion.get(). 0.7 - 0.11: this module shows the suggestion as virtual
-- text after the cursor (its first line; the rest as virtual lines), clears it on any
-- change of the buffer, and inserts it with the accept key (default <M-l>, not <Tab>, so it
-- never fights completion plugins). Asking again after every change is cheap: the server
-- answers a suggestion being typed through from memory, and debounces the rest.
local compat = require("chmocoder.compat")

local M = {}

local namespace = vim.api.nvim_create_namespace("chmocoder_inline")
M.namespace = namespace
local AUTOMATIC, INVOKED = 2, 1
M.state = {} -- bufnr -> { text, row, col, request = { client, id } }

local function native()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

function M.clear(bufnr)
  local state = M.state[bufnr]
  if state == nil then
    return
  end
  if state.request then
    pcall(compat.cancel_request, state.request.client, state.request.id)
  end
  M.state[bufnr] = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  end
end

-- The suggestion shown now in the buffer, or nil.
function M.current(bufnr)
  local state = M.state[bufnr or vim.api.nvim_get_current_buf()]
  return state and state.text or nil
end

local function show(bufnr, row, col, text)
  local lines = vim.split(text, "\n", { plain = true })
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local at_end = col >= #line
  local mark = {
    virt_text = { { lines[1], "Comment" } },
    -- after the cursor; before 0.10 "inline" does not exist: "overlay" at the line's end,
    -- else at the end of the line (never drawn over text)
    virt_text_pos = compat.has("0.10") and "inline" or (at_end and "overlay" or "eol"),
    hl_mode = "combine",
  }
  if #lines > 1 then
    mark.virt_lines = {}
    for i = 2, #lines do
      table.insert(mark.virt_lines, { { lines[i], "Comment" } })
    end
  end
  vim.api.nvim_buf_set_extmark(bufnr, namespace, row, math.min(col, #line), mark)
end

local function insert_text(item)
  local text = item.insertText
  if type(text) == "table" then
    text = text.value -- a snippet StringValue: its text as written
  end
  return text
end

-- Ask the server for a suggestion at the cursor (trigger: AUTOMATIC as you type, INVOKED
-- when asked with :ChmoComplete).
function M.request(bufnr, trigger)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  M.clear(bufnr)
  local client = compat.clients(bufnr)[1]
  if client == nil or vim.api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = trigger or AUTOMATIC }
  local state = {}
  M.state[bufnr] = state
  local ok, id = compat.request(client, "textDocument/inlineCompletion", params, function(err, result)
    if M.state[bufnr] ~= state then
      return -- cleared or asked again since
    end
    state.request = nil
    if err or result == nil or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
      return
    end
    local items = result.items or result
    local text = items[1] and insert_text(items[1])
    local now = vim.api.nvim_win_get_cursor(0)
    if type(text) ~= "string" or text == "" or now[1] - 1 ~= row or now[2] ~= col then
      return
    end
    state.text, state.row, state.col = text, row, col
    show(bufnr, row, col, text)
  end, bufnr)
  if ok then
    state.request = { client = client, id = id }
  end
end

-- Insert the suggestion at the cursor; false if there is none.
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if native() then
    return vim.lsp.inline_completion.get() == true
  end
  local state = M.state[bufnr]
  if state == nil or state.text == nil then
    return false
  end
  local text, row, col = state.text, state.row, state.col
  M.clear(bufnr)
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local last = #lines == 1 and col + #lines[1] or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { row + #lines, last })
  return true
end

-- Set up a buffer: the accept key, and (before 0.12) asking after changes in Insert mode
-- and clearing on every change.
function M.attach(bufnr, opts)
  local key = opts.accept_key
  vim.keymap.set("i", key, function()
    if not M.accept(bufnr) then
      vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(key, true, false, true), "n", false)
    end
  end, { buffer = bufnr, desc = "ChMOCoder: accept the inline suggestion" })
  if native() then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    return
  end
  vim.api.nvim_buf_attach(bufnr, false, {
    on_lines = function()
      vim.schedule(function()
        if M.state[bufnr] and M.state[bufnr].text then
          M.clear(bufnr)
        end
      end)
    end,
  })
  local group = vim.api.nvim_create_augroup("chmocoder_inline_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.request(bufnr, AUTOMATIC)
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      local state = M.state[bufnr]
      local cursor = vim.api.nvim_win_get_cursor(0)
      if state and state.text and (cursor[1] - 1 ~= state.row or cursor[2] ~= state.col) then
        M.clear(bufnr)
      end
    end,
  })
end

M.INVOKED = INVOKED
return M
