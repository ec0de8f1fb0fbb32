-- Shared by the Neovim test scripts: run(body, out) calls body() protected, writes `out` (with
-- out.lua_error if body failed) as JSON to CHMO_OUT, and quits Neovim.
return function(body, out)
  local ok, err = pcall(body)
  if not ok then
    out.lua_error = tostring(err)
  end
  local f = io.open(os.getenv("CHMO_OUT"), "w")
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd("qall!")
end
