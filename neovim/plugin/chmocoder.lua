-- User commands; the server starts when require("chmocoder").setup({...}) runs.
if vim.g.loaded_chmocoder then
  return
end
vim.g.loaded_chmocoder = true

local function cmd(name) return function(opts) require("chmocoder.commands")[name](opts) end end

vim.api.nvim_create_user_command("ChmoExplain", cmd("explain"), { range = true, desc = "ChMOCoder: explain the code here" })
vim.api.nvim_create_user_command("ChmoFix", cmd("fix"), { desc = "ChMOCoder: fix the problem on this line" })
vim.api.nvim_create_user_command("ChmoReview", cmd("review"), { desc = "ChMOCoder: review this file" })
vim.api.nvim_create_user_command("ChmoAsk", cmd("ask"), { range = true, nargs = "*", desc = "ChMOCoder: ask about the code" })
vim.api.nvim_create_user_command("ChmoComplete", function()
  local inline = require("chmocoder.inline")
  inline.request(nil, inline.INVOKED)
end, { desc = "ChMOCoder: suggest code at the cursor (inline completion)" })
vim.api.nvim_create_user_command("ChmoClear", cmd("clear"), { desc = "ChMOCoder: forget this file's conversation" })
