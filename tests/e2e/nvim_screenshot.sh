#!/usr/bin/env bash
# Opens FILE in a real Neovim inside tmux with the ChMOCoder plugin, hovers at LINE:COL, waits,
# and prints the screen. Usage: nvim_screenshot.sh FILE LINE COL WAIT_S SETTINGS_JSON SERVER_CMD_JSON
set -euo pipefail
file=$1 line=$2 col=$3 wait_s=$4 settings=$5 cmd=$6
root="$(cd "$(dirname "$0")/../.." && pwd)"
session="chmo-shot-$$"
init="$(mktemp --suffix=.lua)"
cat > "$init" <<LUA
vim.cmd("filetype on")
vim.cmd("syntax on")
vim.opt.runtimepath:append("$root/neovim")
vim.cmd("runtime plugin/chmocoder.lua")
require("chmocoder").setup({ cmd = vim.fn.json_decode([==[$cmd]==]), settings = vim.fn.json_decode([==[$settings]==]) })
vim.defer_fn(function()
  vim.api.nvim_win_set_cursor(0, { $line, $col })
  vim.wait(20000, function() return #require("chmocoder.compat").clients(0) > 0 end, 100)
  vim.lsp.buf.hover()
end, 500)
LUA
tmux new-session -d -s "$session" -x 100 -y 32 "${CHMO_NVIM:-nvim} -u $init -i NONE -n $file"
sleep "$wait_s"
tmux capture-pane -p -t "$session"
tmux kill-session -t "$session"
rm -f "$init"
