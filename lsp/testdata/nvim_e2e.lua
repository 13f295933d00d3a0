-- End-to-end test with a real Neovim (run by editors_test.go): open a
-- Python file holding a HumanEval prompt, ask for code actions inside the
-- function, run "generate", ask again, apply candidate #1, save.
local file = os.getenv('TOPPASS_E2E_FILE')
local result = os.getenv('TOPPASS_E2E_RESULT')
vim.opt.rtp:prepend(os.getenv('TOPPASS_E2E_PLUGIN'))

local function finish(msg)
  local f = io.open(result .. '.log', 'w')
  f:write(msg)
  f:close()
  vim.cmd(msg == 'ok' and 'qa!' or 'cquit!')
end

local ok, err = pcall(function()
  require('toppass').setup({
    cmd = { os.getenv('TOPPASS_E2E_BIN'), 'lsp', '--log-file', result .. '.server.log' },
    settings = { topK = 2, generate = 4, method = 'hybrid' },
  })
  vim.cmd('edit ' .. file)
  assert(vim.bo.filetype == 'python', 'filetype ' .. vim.bo.filetype)
  local client
  assert(vim.wait(60000, function()
    for _, c in pairs(vim.lsp.buf_get_clients(0)) do
      if c.name == 'toppass' and c.initialized then
        client = c
      end
    end
    return client ~= nil
  end, 50), 'the toppass client did not start')

  local function actions(line)
    local params = {
      textDocument = vim.lsp.util.make_text_document_params(),
      range = { start = { line = line, character = 4 }, ['end'] = { line = line, character = 4 } },
      context = { diagnostics = {} },
    }
    local res, e = client.request_sync('textDocument/codeAction', params, 60000, 0)
    assert(res and not res.err, 'codeAction: ' .. vim.inspect(res or e))
    return res.result or {}
  end

  local acts = actions(5)
  assert(#acts == 1 and acts[1].command, 'first actions: ' .. vim.inspect(acts))
  local res = client.request_sync('workspace/executeCommand', acts[1].command, 300000, 0)
  assert(res and not res.err, 'generate: ' .. vim.inspect(res))

  acts = actions(5)
  local first = acts[1]
  assert(first and first.title:find('use candidate #1', 1, true), 'actions: ' .. vim.inspect(acts))
  if not first.edit then
    -- The client said it resolves edits lazily (codeAction/resolve).
    local r = client.request_sync('codeAction/resolve', first, 60000, 0)
    assert(r and not r.err and r.result.edit, 'resolve: ' .. vim.inspect(r))
    first = r.result
  end
  vim.lsp.util.apply_workspace_edit(first.edit, client.offset_encoding)
  vim.cmd('write! ' .. result)
end)
finish(ok and 'ok' or tostring(err))
