-- Drives Neovim's own LSP client (0.7+) against `chmocoder serve`: attach, hover, apply a Fix.
-- Inputs come from the environment; results go to CHMO_OUT as JSON. Run headless by the test.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_harness.lua")
local out = {}
run(function()
  vim.cmd("edit " .. os.getenv("CHMO_FILE"))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "chmocoder",
    cmd = vim.fn.json_decode(os.getenv("CHMO_CMD")),
    root_dir = os.getenv("CHMO_ROOT"),
    init_options = vim.fn.json_decode(os.getenv("CHMO_INIT")),
  })
  vim.lsp.buf_attach_client(bufnr, client_id)
  out.attached = vim.wait(30000, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized == true
  end, 50)

  -- hover inside `median` (line 9, column 12: `ordered`)
  vim.api.nvim_win_set_cursor(0, { 9, 11 })
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", vim.lsp.util.make_position_params(), 120000)
  local reply = hover and hover[client_id]
  out.hover = reply and reply.result and reply.result.contents and reply.result.contents.value or vim.NIL
  out.hover_error = reply and reply.err and reply.err.message or vim.NIL

  -- the syntax diagnostic on line 4 arrives by push; its Fix comes as a code action
  out.diagnosed = vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
  vim.api.nvim_win_set_cursor(0, { 4, 26 })
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr, 3) }
  out.line_diagnostics = #params.context.diagnostics
  local actions = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 30000)
  out.titles = {}
  local chosen = nil
  for _, action in ipairs((actions and actions[client_id] and actions[client_id].result) or {}) do
    table.insert(out.titles, action.title)
    if chosen == nil and action.edit ~= nil then
      chosen = action
    end
  end
  if chosen ~= nil then
    out.applied = chosen.title
    vim.lsp.util.apply_workspace_edit(chosen.edit, vim.lsp.get_client_by_id(client_id).offset_encoding)
  end
  out.line4 = vim.api.nvim_buf_get_lines(bufnr, 3, 4, false)[1]
  vim.lsp.stop_client(client_id)
end, out)
