-- :checkhealth chmocoder in a real Neovim; the report's text goes to CHMO_OUT.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_harness.lua")
local out = {}
run(function()
  vim.opt.runtimepath:append(os.getenv("CHMO_PLUGIN"))
  vim.cmd("runtime plugin/chmocoder.lua")
  require("chmocoder").setup({ cmd = vim.fn.json_decode(os.getenv("CHMO_CMD")) })
  vim.cmd("checkhealth chmocoder")
  out.report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
end, out)
