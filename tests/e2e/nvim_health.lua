-- :checkhealth chmocoder in a real Neovim; the report's text goes to CHMO_OUT.
local out = {}
local ok, err = pcall(function()
  vim.opt.runtimepath:append(os.getenv("CHMO_PLUGIN"))
  vim.cmd("runtime plugin/chmocoder.lua")
  require("chmocoder").setup({ cmd = vim.fn.json_decode(os.getenv("CHMO_CMD")) })
  vim.cmd("checkhealth chmocoder")
  out.report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
end)
if not ok then
  out.lua_error = tostring(err)
end
local f = io.open(os.getenv("CHMO_OUT"), "w")
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd("qall!")
