-- toppass for Neovim: the top-ranked candidates for the function at the
-- cursor as code actions (vim.lsp.buf.code_action()), from `toppass lsp`.
-- Works with Neovim 0.7 (vim.lsp.start_client) and newer (vim.lsp.start).
local M = {}

M.defaults = {
  cmd = { 'toppass', 'lsp' },
  filetypes = { 'python' },
  -- Sent as initializationOptions and workspace settings.
  settings = { topK = 3, generate = 10, method = 'hybrid' },
}

local client_id = nil

-- window/showDocument for Neovim 0.7, which has no handler for it.
local function show_document(_, result)
  local uri = result and result.uri
  if not uri then
    return { success = false }
  end
  vim.schedule(function()
    vim.cmd('edit ' .. vim.fn.fnameescape(vim.uri_to_fname(uri)))
  end)
  return { success = true }
end

local function config(opts)
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.window = capabilities.window or {}
  capabilities.window.showDocument = { support = true }
  capabilities.window.workDoneProgress = true
  return {
    name = 'toppass',
    cmd = opts.cmd,
    root_dir = vim.fn.getcwd(),
    init_options = opts.settings,
    settings = { toppass = opts.settings },
    capabilities = capabilities,
    handlers = { ['window/showDocument'] = show_document },
  }
end

-- attach starts (or reuses) the server for buffer bufnr.
function M.attach(bufnr, opts)
  opts = opts or M.options or M.defaults
  if vim.lsp.start then
    return vim.lsp.start(config(opts), { bufnr = bufnr })
  end
  if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
    client_id = vim.lsp.start_client(config(opts))
  end
  vim.lsp.buf_attach_client(bufnr, client_id)
  return client_id
end

-- run executes a toppass command for the function under the cursor.
local function run(command)
  local pos = vim.api.nvim_win_get_cursor(0)
  local params = { command = command, arguments = { { uri = vim.uri_from_bufnr(0), line = pos[1] - 1 } } }
  vim.lsp.buf_request(0, 'workspace/executeCommand', params, function(err)
    if err then
      vim.notify('toppass: ' .. (err.message or tostring(err)), vim.log.levels.ERROR)
    end
  end)
end

function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', M.defaults, opts or {})
  local group = vim.api.nvim_create_augroup('toppass', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.options.filetypes,
    callback = function(args)
      M.attach(args.buf, M.options)
    end,
  })
  vim.api.nvim_create_user_command('ToppassGenerate', function() run('toppass.generate') end,
    { desc = 'toppass: generate and rank candidates for the function at the cursor' })
  vim.api.nvim_create_user_command('ToppassShow', function() run('toppass.showCandidates') end,
    { desc = 'toppass: show every ranked candidate side by side' })
end

return M
