-- ChMOCoder for Neovim: starts or attaches `chmocoder serve` for the configured filetypes.
--   require("chmocoder").setup({ cmd = { "chmocoder", "serve" }, settings = { audience = "expert" } })
local compat = require("chmocoder.compat")
local answer = require("chmocoder.answer")
local inline = require("chmocoder.inline")

local M = {}

M.defaults = {
  cmd = { "chmocoder", "serve" },
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
    "java", "c", "cpp", "cs", "ruby", "php", "sh", "bash", "lua",
  },
  settings = {},
  answer_window = "float", -- or "split"
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml" },
  -- inline completion (ghost text): `enabled` false sets no key and asks nothing;
  -- settings.completion (the server's) tunes it
  inline = { enabled = true, accept_key = "<M-l>" },
}

local function fail(message)
  vim.notify("chmocoder: " .. message, vim.log.levels.ERROR)
  return false
end

-- Returns the checked options, or nil and the reason.
function M.validate(opts)
  if opts ~= nil and type(opts) ~= "table" then
    return nil, "setup() takes a table of options, got " .. type(opts)
  end
  local config = vim.tbl_deep_extend("force", {}, M.defaults, opts or {})
  for key in pairs(opts or {}) do
    if M.defaults[key] == nil then
      return nil, "unknown option `" .. tostring(key) .. "` (known: cmd, filetypes, settings, answer_window, root_markers, inline)"
    end
  end
  if type(config.cmd) ~= "table" or #config.cmd == 0 then
    return nil, "option `cmd` must be a list like { \"chmocoder\", \"serve\" }"
  end
  for _, part in ipairs(config.cmd) do
    if type(part) ~= "string" then
      return nil, "option `cmd` must be a list of strings"
    end
  end
  if type(config.filetypes) ~= "table" then
    return nil, "option `filetypes` must be a list of filetypes"
  end
  if type(config.settings) ~= "table" then
    return nil, "option `settings` must be a table (the server's settings, camelCase)"
  end
  if config.answer_window ~= "float" and config.answer_window ~= "split" then
    return nil, "option `answer_window` must be \"float\" or \"split\", got " .. vim.inspect(config.answer_window)
  end
  if type(config.inline) ~= "table" or type(config.inline.enabled) ~= "boolean"
    or type(config.inline.accept_key) ~= "string" or config.inline.accept_key == "" then
    return nil, "option `inline` must be { enabled = true|false, accept_key = \"<M-l>\" }"
  end
  if vim.fn.executable(config.cmd[1]) ~= 1 then
    return nil, "the server command `" .. config.cmd[1] .. "` is not executable: install it with "
      .. "`pip install chmocoder[llama-cpp,default-model]` or set `cmd`"
  end
  return config
end

function M.capabilities()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.experimental = capabilities.experimental or {}
  capabilities.experimental.chmocoder = { markdownPanel = true }
  return capabilities
end

local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local start = name ~= "" and vim.fn.fnamemodify(name, ":p:h") or vim.fn.getcwd()
  for _, marker in ipairs(M.config.root_markers) do
    local found = vim.fn.finddir(marker, start .. ";")
    if found == "" then
      found = vim.fn.findfile(marker, start .. ";")
    end
    if found ~= "" then
      return vim.fn.fnamemodify(found, ":p:h:h")
    end
  end
  return start
end

local client_id = nil

function M.client_config(bufnr)
  return {
    name = "chmocoder",
    cmd = M.config.cmd,
    root_dir = root_dir(bufnr),
    init_options = M.config.settings,
    settings = { chmocoder = M.config.settings },
    capabilities = M.capabilities(),
    handlers = { ["chmocoder/markdown"] = answer.handler },
  }
end

local inline_buffers = {}

function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if M.config.inline.enabled and not inline_buffers[bufnr] then
    inline_buffers[bufnr] = true
    inline.attach(bufnr, M.config.inline)
  end
  if vim.lsp.start then -- 0.8+: reuses a running client for the same root
    return vim.lsp.start(M.client_config(bufnr), { bufnr = bufnr })
  end
  if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
    client_id = vim.lsp.start_client(M.client_config(bufnr))
  end
  vim.lsp.buf_attach_client(bufnr, client_id)
  return client_id
end

function M.setup(opts)
  local config, problem = M.validate(opts)
  if config == nil then
    return fail(problem)
  end
  M.config = config
  answer.style = config.answer_window
  local group = vim.api.nvim_create_augroup("chmocoder", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  -- buffers already open when setup() runs
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
  return true
end

return M
