-- :ChmoExplain, :ChmoFix, :ChmoReview, :ChmoAsk {question}, :ChmoClear (range-aware where it matters).
local compat = require("chmocoder.compat")
local answer = require("chmocoder.answer")

local M = {}

local function client_for(bufnr)
  local client = compat.clients(bufnr)[1]
  if client == nil then
    vim.notify("chmocoder: no ChMOCoder server is attached to this buffer (run setup())", vim.log.levels.WARN)
  end
  return client
end

local function target(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local args = { uri = vim.uri_from_bufnr(bufnr) }
  if opts and opts.range and opts.range > 0 then
    args.range = {
      start = { line = opts.line1 - 1, character = 0 },
      ["end"] = { line = opts.line2, character = 0 },
    }
  else
    local cursor = vim.api.nvim_win_get_cursor(0)
    local line = vim.api.nvim_buf_get_lines(bufnr, cursor[1] - 1, cursor[1], false)[1] or ""
    -- a character offset for the cursor's byte column (server positions are UTF-16 by default)
    local character = vim.str_utfindex(line, cursor[2])
    args.position = { line = cursor[1] - 1, character = character }
  end
  return bufnr, args
end

local function execute(command, arguments, bufnr, on_result)
  local client = client_for(bufnr)
  if client == nil then
    return
  end
  compat.request(client, "workspace/executeCommand", { command = command, arguments = { arguments } }, function(err, result)
    if err then
      vim.notify("chmocoder: " .. (err.message or tostring(err)), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end, bufnr)
end

local function show_result(result)
  if type(result) == "table" and result.markdown then
    answer.show(result.id, result.title, result.markdown, true)
  end
end

function M.explain(opts)
  local bufnr, args = target(opts)
  execute("chmocoder.explain", args, bufnr, show_result)
end

function M.ask(opts)
  local question = opts and opts.args or ""
  if question == "" then
    question = vim.fn.input("Ask ChMOCoder: ")
  end
  if question == "" then
    return
  end
  local bufnr, args = target(opts)
  args.question = question
  execute("chmocoder.ask", args, bufnr, show_result)
end

function M.clear()
  local bufnr = vim.api.nvim_get_current_buf()
  execute("chmocoder.clearHistory", { uri = vim.uri_from_bufnr(bufnr) }, bufnr, function(result)
    vim.notify(string.format("chmocoder: forgot %d questions", result and result.removed or 0))
  end)
end

function M.review()
  local bufnr = vim.api.nvim_get_current_buf()
  vim.notify("chmocoder: reviewing…")
  execute("chmocoder.review", { uri = vim.uri_from_bufnr(bufnr) }, bufnr, function(result)
    vim.notify(string.format("chmocoder: review done, %d findings", result and result.findings or 0))
  end)
end

local function apply(client, action, bufnr)
  if action.edit then
    vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding or "utf-16")
    M.last_applied = action.title
    return true
  end
  return false
end

-- The first Fix for the cursor's line: an instant one if there is one, else the model's.
function M.fix()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if client == nil then
    return
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr, row), only = { "quickfix" } }
  compat.request(client, "textDocument/codeAction", params, function(err, actions)
    if err or not actions or #actions == 0 then
      vim.notify("chmocoder: no fix here", vim.log.levels.INFO)
      return
    end
    for _, action in ipairs(actions) do
      if apply(client, action, bufnr) then
        return
      end
    end
    local chosen = actions[1]
    compat.request(client, "codeAction/resolve", chosen, function(resolve_err, resolved)
      if resolve_err then
        vim.notify("chmocoder: " .. resolve_err.message, vim.log.levels.ERROR)
      elseif resolved and not apply(client, resolved, bufnr) then
        local reason = resolved.disabled and resolved.disabled.reason or "no edit"
        vim.notify("chmocoder: fix not applied: " .. reason, vim.log.levels.WARN)
      end
    end, bufnr)
  end, bufnr)
end

return M
