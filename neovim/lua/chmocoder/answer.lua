-- The answer window: a floating window or a split with a markdown buffer, filled as the
-- server streams `chmocoder/markdown` notifications ({id, title, markdown, done}).
local M = { buf = nil, win = nil, id = nil, style = "float" }

local function ensure_buffer()
  if M.buf and vim.api.nvim_buf_is_valid(M.buf) then
    return M.buf
  end
  M.buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_option(M.buf, "filetype", "markdown")
  vim.api.nvim_buf_set_option(M.buf, "bufhidden", "hide")
  vim.api.nvim_buf_set_name(M.buf, "chmocoder://answer")
  vim.api.nvim_buf_set_keymap(M.buf, "n", "q", "<cmd>close<cr>", { noremap = true, silent = true })
  return M.buf
end

local function ensure_window(title)
  if M.win and vim.api.nvim_win_is_valid(M.win) then
    return M.win
  end
  local buf = ensure_buffer()
  if M.style == "split" then
    local previous = vim.api.nvim_get_current_win()
    vim.cmd("botright 15split")
    M.win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(M.win, buf)
    vim.api.nvim_set_current_win(previous)
  else
    local width = math.min(90, math.floor(vim.o.columns * 0.8))
    local height = math.min(25, math.floor(vim.o.lines * 0.6))
    M.win = vim.api.nvim_open_win(buf, false, {
      relative = "editor",
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2),
      col = math.floor((vim.o.columns - width) / 2),
      style = "minimal",
      border = "rounded",
    })
  end
  vim.api.nvim_win_set_option(M.win, "wrap", true)
  return M.win
end

function M.show(id, title, markdown, done)
  local buf = ensure_buffer()
  ensure_window(title)
  M.id = id
  local lines = { "# " .. (title or "ChMOCoder"), "" }
  for _, line in ipairs(vim.split(markdown or "", "\n", { plain = true })) do
    table.insert(lines, line)
  end
  if not done then
    table.insert(lines, "")
    table.insert(lines, "_… writing_")
  end
  vim.api.nvim_buf_set_option(buf, "modifiable", true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.api.nvim_buf_set_option(buf, "modifiable", false)
  M.updates = (M.updates or 0) + 1
end

function M.text()
  if not (M.buf and vim.api.nvim_buf_is_valid(M.buf)) then
    return ""
  end
  return table.concat(vim.api.nvim_buf_get_lines(M.buf, 0, -1, false), "\n")
end

-- the handler for the server's notification
function M.handler(_, result)
  if type(result) == "table" then
    M.show(result.id, result.title, result.markdown, result.done)
  end
end

return M
