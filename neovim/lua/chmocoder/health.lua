-- :checkhealth chmocoder — the server command, and what `chmocoder doctor` says about
-- Python, the grammars, the runtimes and the model.
local compat = require("chmocoder.compat")

local M = {}

function M.check()
  local h = compat.notify_health()
  h.start("ChMOCoder")
  local config = require("chmocoder").config
  local cmd = config and config.cmd or require("chmocoder").defaults.cmd
  if not config then
    h.warn("setup() has not run: require('chmocoder').setup({...})")
  end
  if vim.fn.executable(cmd[1]) ~= 1 then
    h.error("server command not found: " .. cmd[1], { "pip install 'chmocoder[llama-cpp,default-model]'" })
    return
  end
  h.ok("server command: " .. table.concat(cmd, " "))
  local doctor = { cmd[1], "doctor" }
  if cmd[2] == "-m" then -- { python, "-m", "chmocoder", "serve" }
    doctor = { cmd[1], "-m", "chmocoder", "doctor" }
  end
  local output = vim.fn.system(doctor)
  local ok = vim.v.shell_error == 0
  for _, line in ipairs(vim.split(output, "\n", { plain = true })) do
    if line:match("MISSING") or line:match("missing") then
      h.warn(line)
    elseif line ~= "" then
      h.info(line)
    end
  end
  if ok then
    h.ok("chmocoder doctor: runtime, grammars and model checked")
  else
    h.error("chmocoder doctor reported problems (see above)")
  end
  local inline = config and config.inline or require("chmocoder").defaults.inline
  if not inline.enabled then
    h.info("inline completion: off (setup({ inline = { enabled = false } }))")
  elseif vim.lsp.inline_completion ~= nil then
    h.ok("inline completion: Neovim's own (vim.lsp.inline_completion); accept with " .. inline.accept_key)
  else
    h.ok("inline completion: virtual text after the cursor; accept with " .. inline.accept_key)
  end
  local clients = compat.clients(vim.api.nvim_get_current_buf())
  if #clients > 0 then
    h.ok("attached to this buffer (client " .. clients[1].id .. ")")
  else
    h.info("not attached to this buffer")
  end
end

return M
