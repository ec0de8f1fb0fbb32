-- The few LSP calls whose form changed between Neovim 0.7 and current releases.
local M = {}

M.has = function(version)
  return vim.fn.has("nvim-" .. version) == 1
end

function M.clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr, name = "chmocoder" })
  end
  local found = {}
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == "chmocoder" then
      table.insert(found, client)
    end
  end
  return found
end

-- client:request (0.11+) or client.request (before)
function M.request(client, method, params, handler, bufnr)
  if M.has("0.11") then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

-- client:cancel_request (0.11+) or client.cancel_request (before)
function M.cancel_request(client, id)
  if M.has("0.11") then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

function M.notify_health()
  local health = vim.health or require("health")
  return {
    start = health.start or health.report_start,
    ok = health.ok or health.report_ok,
    warn = health.warn or health.report_warn,
    error = health.error or health.report_error,
    info = health.info or health.report_info,
  }
end

return M
