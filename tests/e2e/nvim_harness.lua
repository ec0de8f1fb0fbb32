-- Shared by the Neovim test scripts: run(body, out) calls body() protected, writes `out` (with
-- out.lua_error if body failed) as JSON to CHMO_OUT, and quits Neovim; run.attached(bufnr)
-- waits for the plugin's server.
local harness = {}

-- Whether the plugin's server attached to the buffer and answered `initialize` (30 s).
function harness.attached(bufnr)
  local compat = require("chmocoder.compat")
  return vim.wait(30000, function()
    local client = compat.clients(bufnr)[1]
    return client ~= nil and client.initialized == true
  end, 50)
end

return setmetatable(harness, {
  __call = function(_, body, out)
    local ok, err = pcall(body)
    if not ok then
      out.lua_error = tostring(err)
    end
    local f = io.open(os.getenv("CHMO_OUT"), "w")
    f:write(vim.fn.json_encode(out))
    f:close()
    vim.cmd("qall!")
  end,
})
